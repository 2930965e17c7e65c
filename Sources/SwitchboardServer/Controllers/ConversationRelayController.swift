import Agents
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import Store
import SwitchboardCore
import TelephonyTwilio

/// `GET /v1/telephony/twilio/relay?attempt_id=…` upgraded to a WebSocket: Twilio's
/// ConversationRelay for a call we placed, which connects the callee to the call's voice
/// agent. The upgrade must carry Twilio's signature of the URL (keyed with the calling
/// number's auth token). When the socket closes, the transcript and the extracted fields are
/// stored on the call.
struct ConversationRelayController {
    let store: Store
    let clock: any WallClock
    let publicURL: String
    let agent: ConversationAgent?

    func register(on router: Router<BasicWebSocketRequestContext>) {
        router.ws("v1/telephony/twilio/relay", shouldUpgrade: { request, context in
            guard let attemptID = request.uri.queryParameters.get("attempt_id").flatMap(Int64.init),
                  let carrier = try await store.attemptCarrier(attemptID), carrier.provider == .twilio,
                  let account = try? TwilioAccount(settings: carrier.settings),
                  let signature = request.headers[HTTPField.Name("X-Twilio-Signature")!],
                  TwilioSignature.isValid(signature, url: TwilioProvider.webSocketURL(publicURL) + request.uri.description, parameters: [],
                                          authToken: account.authToken) else {
                context.logger.warning("conversation relay refused: bad signature or unknown attempt")
                return .dontUpgrade
            }
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            guard let attemptID = context.request.uri.queryParameters.get("attempt_id").flatMap(Int64.init),
                  let conversation = try await store.callConversation(attemptID: attemptID) else { return }
            let call = conversation.call
            var logger = context.logger
            logger[metadataKey: "call_id"] = "\(call.id)"
            var session = try await session(conversation, logger: logger)
            do {
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message,
                          let json = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else { continue }
                    for reply in await session.handle(json, now: clock.now()) {
                        try await outbound.write(.text(reply.jsonText))
                    }
                    if session.ended { break }
                }
            } catch {
                logger.notice("conversation relay closed", metadata: ["error": "\(error)"])
            }
            // Written even when the socket broke: what was said stays on the call.
            let extracted = await session.extraction()
            try await store.saveCallConversation(callID: call.id, transcript: session.transcript, extracted: extracted)
            logger.info("call conversation stored", metadata: ["turns": "\(session.transcript.count)", "extracted": "\(extracted != nil)"])
        })
    }

    /// The call's voice agent, told who it is talking to.
    private func session(_ conversation: CallConversation, logger: Logger) async throws -> RelaySession {
        let call = conversation.call
        var lead = conversation.fields
        lead["phone_number"] = .string(call.toNumber)
        let record = try await call.agentID.asyncMap { try await store.agent(id: $0, organizationID: call.organizationID) } ?? nil
        var objective = record?.body["objective_prompt"]?.stringValue
        // A call the SMS agent escalated: the voice agent knows what was texted (the thread the
        // engine linked to the lead, read within the call's organization).
        if let conversationID = conversation.escalatedFrom {
            let reason = conversation.escalationReason ?? "the lead asked for a call"
            lead["sms_campaign_id"] = nil
            let thread = try await store.conversationMessages(conversationID, organizationID: call.organizationID, limit: 40)
                .map { ($0.direction == .inbound ? "Lead: " : "Agent: ") + $0.body }.joined(separator: "\n")
            objective = [objective, "This call follows a text conversation (\(reason)):\n\(thread)"].compactMap { $0 }.joined(separator: "\n\n")
        }
        let profile = AgentProfile(name: record?.name ?? "Assistant", channel: .voice, prompt: record?.body["prompt"]?.stringValue ?? "",
                                   objective: objective,
                                   extractionFields: AgentProfile.fields(record?.body["extraction_fields"]))
        let greeting = (record?.body["starting_message"]?.stringValue).map { Template.render($0, fields: lead) }
        return RelaySession(agent: agent, profile: profile, lead: lead, greeting: greeting, logger: logger)
    }
}
