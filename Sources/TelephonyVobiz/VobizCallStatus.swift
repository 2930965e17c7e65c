import Foundation
import SwitchboardCore

/// Vobiz's (Plivo's) words for a call, mapped once to ours. The hang-up cause separates a
/// number that does not exist, a decline and a busy line from a carrier failure.
public enum VobizCallStatus {
    /// The callback kinds, each at its own URL. `transfer` is where a transferred call fetches
    /// its new XML (the transfer API's `aleg_url`); `whisper`, what the person taking a warm
    /// transfer hears first.
    public enum Callback: String, Sendable, CaseIterable {
        case ring, answer, hangup, machine, transfer, whisper
    }

    public static func event(_ callback: Callback, form: [(String, String)], attemptID: Int64, at: Date) -> CarrierCallEvent? {
        let fields = Dictionary(form, uniquingKeysWith: { first, _ in first })
        let uuid = fields["CallUUID"]
        let status = fields["CallStatus"] ?? ""
        let cause = fields["HangupCause"] ?? fields["HangupCauseName"]
        var detail = "Vobiz \(status)"
        if let cause, !cause.isEmpty { detail += " (\(cause))" }
        func make(_ stage: CarrierCallEvent.Stage, _ outcome: Outcome? = nil, machine: Bool = false) -> CarrierCallEvent {
            CarrierCallEvent(attemptID: attemptID, stage: stage, outcome: outcome, providerCallID: uuid,
                             duration: fields["Duration"].flatMap(TimeInterval.init), detail: detail,
                             deliveryKey: "\(uuid ?? "")#\(callback.rawValue)#\(status)", at: at, answeredByMachine: machine)
        }
        switch callback {
        case .ring: return make(.ringing)
        case .answer: return make(.answered)
        case .machine:
            // Detection reports once the call is up; it marks the call, the hang-up ends it.
            return make(.answered, machine: fields["Machine"]?.lowercased() == "true")
        case .hangup:
            return make(.ended, outcome(status: status, cause: cause))
        case .transfer, .whisper:
            return nil
        }
    }

    public static func outcome(status: String, cause: String?) -> Outcome {
        switch (cause ?? "").uppercased() {
        case "UNALLOCATED_NUMBER", "INVALID_NUMBER_FORMAT", "NO_ROUTE_DESTINATION", "NUMBER_CHANGED": return .invalidNumber
        case "CALL_REJECTED": return .callDeclined
        case "USER_BUSY": return .busy
        default: break
        }
        switch status {
        case "completed": return .completed
        case "busy": return .busy
        case "no-answer", "timeout": return .noAnswer
        case "cancel": return .canceled
        default: return .failed
        }
    }
}
