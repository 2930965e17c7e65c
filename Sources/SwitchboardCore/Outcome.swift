import Foundation
/// What one dial attempt came to. One vocabulary everywhere; each provider maps its own
/// statuses onto it once, at its edge.
public enum Outcome: String, Sendable, Codable, CaseIterable, Hashable {
    case completed
    case noAnswer = "no_answer"
    case busy
    case voicemail
    case callDeclined = "call_declined"
    case invalidNumber = "invalid_number"
    case failed
    case canceled
    /// The agent handed the call to a person (`transfer_call`).
    case transferred

    /// Outcomes that a retry policy may retry. `invalid_number` never is: dialing it again
    /// cannot succeed. `canceled` is ours, not the callee's.
    public var isRetryable: Bool {
        switch self {
        case .noAnswer, .busy, .voicemail, .failed, .callDeclined: true
        case .completed, .invalidNumber, .canceled, .transferred: false
        }
    }

    /// Accepts DialNexa's hyphenated spellings (`no-answer`) too.
    public init?(lenient raw: String) {
        let value = raw.lowercased().replacingOccurrences(of: "-", with: "_")
        if let outcome = Outcome(rawValue: value) { self = outcome; return }
        switch value {
        case "cancelled": self = .canceled
        case "declined": self = .callDeclined
        case "answered": self = .completed
        default: return nil
        }
    }
}
