import Foundation
import Logging
import Messaging
import Store
import SwitchboardCore

/// A contact's text reaching one of our numbers, from any carrier (or the simulator): stored,
/// its keyword honoured in the same transaction (STOP suppresses at once), and the SMS engine
/// woken to answer it.
struct InboundTexts: Sendable {
    let store: Store
    let clock: any WallClock
    let wake: @Sendable () -> Void

    func receive(on number: PhoneNumberRecord, from contact: String, body: String, providerMessageID: String?,
                 logger: Logger) async throws -> InboundResult {
        let keyword = SMSKeyword(message: body)
        let result = try await store.receiveSMS(organizationID: number.organizationID, from: contact, to: number.phoneNumber, body: body,
                                                provider: number.provider, providerMessageID: providerMessageID, keyword: keyword,
                                                answers: .standard, now: clock.now())
        wake()
        logger.info("sms received", metadata: [
            "to": "\(number.phoneNumber)", "effect": "\(result.effect)", "conversation_id": "\(result.conversationID.map(String.init) ?? "none")",
        ])
        return result
    }
}
