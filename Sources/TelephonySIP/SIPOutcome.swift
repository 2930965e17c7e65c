import Foundation
import SwitchboardCore

/// How a final SIP response to our INVITE ends a call, in our vocabulary (RFC 3398's cause
/// mapping): busy gets retried as busy, not as a carrier failure, and a number that does not
/// exist is never dialed again.
public enum SIPOutcome {
    public static func outcome(status: Int) -> Outcome {
        switch status {
        case 200..<300: .completed
        case 486, 600: .busy
        case 408, 480, 487: .noAnswer
        case 603: .callDeclined
        case 404, 484, 410, 604: .invalidNumber
        default: .failed
        }
    }

    /// `SIP 486 Busy Here`: what the history keeps.
    public static func detail(_ response: SIPMessage) -> String {
        "SIP \(response.status ?? 0) \(response.reason)".trimmingCharacters(in: .whitespaces)
    }
}
