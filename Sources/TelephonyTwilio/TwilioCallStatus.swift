import Foundation
import SwitchboardCore

/// Twilio's words for a call, mapped once to ours. Voicemail is a machine answering
/// (`AnsweredBy=machine_*`), never a completed call; busy and no-answer stay themselves, so
/// retry policies see them.
public enum TwilioCallStatus {
    public static func event(attemptID: Int64, status: String, answeredBy: String?, duration: String?, callSID: String?,
                             deliveryKey: String?, at: Date) -> CarrierCallEvent? {
        let machine = answeredBy.map(isMachine) ?? false
        var detail = "Twilio \(status)"
        if let answeredBy, !answeredBy.isEmpty { detail += " (AnsweredBy \(answeredBy))" }
        let stage: CarrierCallEvent.Stage
        var outcome: Outcome?
        switch status {
        case "queued": stage = .queued
        case "initiated": stage = .initiated
        case "ringing": stage = .ringing
        case "in-progress": stage = .answered
        case "completed":
            stage = .ended
            outcome = answeredBy == "fax" ? .invalidNumber : machine ? .voicemail : .completed
        case "busy": stage = .ended; outcome = .busy
        case "no-answer": stage = .ended; outcome = .noAnswer
        case "failed": stage = .ended; outcome = .failed
        case "canceled": stage = .ended; outcome = .canceled
        default: return nil
        }
        return CarrierCallEvent(attemptID: attemptID, stage: stage, outcome: outcome, providerCallID: callSID,
                                duration: duration.flatMap(TimeInterval.init), detail: detail, deliveryKey: deliveryKey, at: at,
                                answeredByMachine: machine)
    }

    static func isMachine(_ answeredBy: String) -> Bool { answeredBy.hasPrefix("machine") }

    /// A status callback's form. De-duplicated on (CallSid, SequenceNumber), or on Twilio's
    /// idempotency token, or on the status itself.
    public static func event(callback form: [(String, String)], attemptID: Int64, idempotencyToken: String?, at: Date) -> CarrierCallEvent? {
        let fields = Dictionary(form, uniquingKeysWith: { first, _ in first })
        guard let status = fields["CallStatus"] else { return nil }
        let sid = fields["CallSid"] ?? ""
        let key = fields["SequenceNumber"].map { "\(sid)#\($0)" } ?? idempotencyToken ?? "\(sid)#\(status)"
        return event(attemptID: attemptID, status: status, answeredBy: fields["AnsweredBy"], duration: fields["CallDuration"],
                     callSID: fields["CallSid"], deliveryKey: key, at: at)
    }

    /// A Call resource from the REST API (`GET …/Calls/{Sid}.json`, or an entry of the list).
    public static func event(resource: JSONValue, attemptID: Int64, at: Date) -> CarrierCallEvent? {
        guard let status = resource["status"]?.stringValue else { return nil }
        return event(attemptID: attemptID, status: status, answeredBy: resource["answered_by"]?.stringValue,
                     duration: resource["duration"]?.text, callSID: resource["sid"]?.stringValue, deliveryKey: nil, at: at)
    }

    /// A refused create: numbers that cannot be called are `invalid_number` (never retried);
    /// anything else is the carrier failing. The detail is our summary with Twilio's error
    /// code, never the remote body (callers log Twilio's own message).
    public static func refusal(_ reply: JSONValue?, httpStatus: Int) -> (Outcome, String) {
        let code = reply?["code"]?.text.flatMap { Int($0) }.map(String.init)
        let detail = "Twilio refused the request (" + (code.map { "error \($0)" } ?? "HTTP \(httpStatus)") + ")"
        switch code {
        case "21211", "21214", "21217", "21215", "13224": return (.invalidNumber, detail)
        default: return (.failed, detail)
        }
    }
}
