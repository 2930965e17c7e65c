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
    let dialogues: CallDialogues
    let wakeAnalyst: @Sendable () -> Void

    func register(on router: Router<BasicWebSocketRequestContext>) {
        router.ws("v1/telephony/twilio/relay", shouldUpgrade: { request, context in
            guard let attemptID = request.uri.queryParameters.get("attempt_id").flatMap(Int64.init),
                  try await isSignedByTwilio(request, attemptID: attemptID, store: store, publicURL: publicURL) else {
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
            var session = RelaySession(dialogue: try await dialogues.dialogue(conversation), logger: logger)
            do {
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message,
                          let json = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else { continue }
                    let replies = await session.handle(json, now: clock.now())
                    // Marked before the session ends: Twilio then asks our action URL where to send the call.
                    if let transfer = session.transfer {
                        try await store.markTransferred(attemptID: attemptID, to: transfer)
                        logger.info("transfer: handing the call to twilio", metadata: ["to": "\(transfer.destination)", "warm": "\(transfer.summary != nil)"])
                    }
                    for reply in replies {
                        try await outbound.write(.text(reply.jsonText))
                    }
                    if session.ended { break }
                }
            } catch {
                logger.notice("conversation relay closed", metadata: ["error": "\(error)"])
            }
            // Written even when the socket broke: what was said stays on the call.
            let end = ConversationEnd(reason: session.transfer.map { "transferred to \($0.destination)" }
                                          ?? (session.ended ? "conversation ended by the agent" : "the caller hung up"),
                                      transferredTo: session.transfer?.destination)
            try await dialogues.save(session.transcript, call: call, attemptID: attemptID, end: end, now: clock.now(), wake: wakeAnalyst)
            logger.info("call conversation stored", metadata: ["turns": "\(session.transcript.count)"])
        })
    }
}

/// A WebSocket upgrade for one of our Twilio calls, signed by Twilio (`X-Twilio-Signature`
/// over the `wss://` URL, keyed with the calling number's auth token).
func isSignedByTwilio(_ request: Request, attemptID: Int64, store: Store, publicURL: String) async throws -> Bool {
    guard let carrier = try await store.attemptCarrier(attemptID), carrier.provider == .twilio,
          let account = try? TwilioAccount(settings: carrier.settings),
          let signature = request.headers[HTTPField.Name("X-Twilio-Signature")!] else { return false }
    return TwilioSignature.isValid(signature, url: TwilioProvider.webSocketURL(publicURL) + request.uri.description, parameters: [],
                                   authToken: account.authToken)
}
