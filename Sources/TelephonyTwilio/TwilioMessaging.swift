import Foundation
import Logging
import NIOHTTP1
import SwitchboardCore
import TelephonyHTTP

/// Twilio Programmable Messaging: `POST …/Messages.json` from the number's account, with a
/// status callback per message. Inbound texts and status reports reach the server's routes.
extension TwilioProvider: MessagingProvider {
    public static func messageStatusPath(messageID: Int64) -> String { "/v1/telephony/twilio/sms-status?message_id=\(messageID)" }

    public func send(_ message: OutboundSMS) async -> SMSSendResult {
        let account: TwilioAccount
        do { account = try TwilioAccount(settings: message.settings, allowBaseURL: allowBaseURL) }
        catch { return SMSSendResult(status: .failed, error: "twilio settings: \(error)") }
        var logger = self.logger
        logger[metadataKey: "message_id"] = "\(message.messageID)"
        var form = [("To", message.to), ("From", message.from), ("Body", message.body),
                    ("StatusCallback", publicURL + Self.messageStatusPath(messageID: message.messageID))]
        if let media = message.mediaURL { form.append(("MediaUrl", media)) }
        let reply: CarrierHTTPClient.Reply
        do {
            reply = try await rest(.POST, "Messages.json", account: account, form: form, logger: logger)
        } catch {
            return SMSSendResult(status: .failed, error: "Twilio unreachable: \(error)")
        }
        guard (200..<300).contains(reply.status), let sid = reply.json?["sid"]?.stringValue else {
            let (_, detail) = TwilioCallStatus.refusal(reply.json, httpStatus: reply.status)
            logger.notice("twilio refused the message", metadata: ["detail": "\(detail)", "reply": "\(reply.json?["message"]?.stringValue ?? "")"])
            // 21610: the recipient replied STOP to this sender at Twilio's level.
            return SMSSendResult(status: .failed, error: detail, recipientOptedOut: reply.json?["code"]?.text == "21610")
        }
        let status = reply.json?["status"]?.stringValue.flatMap(Self.messageStatus) ?? .sent
        return SMSSendResult(status: status.rank < SMSStatus.sent.rank ? .sent : status, providerMessageID: sid)
    }

    /// Twilio's `MessageStatus` in our words. Accepted and queued at Twilio count as sent:
    /// the carrier has the message.
    public static func messageStatus(_ twilio: String) -> SMSStatus? {
        switch twilio {
        case "accepted", "queued", "scheduled", "sending", "sent": .sent
        case "delivered", "read": .delivered
        case "undelivered": .undelivered
        case "failed": .failed
        case "canceled": .canceled
        default: nil
        }
    }
}
