import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Store
import SwitchboardCore
import TelephonyTwilio
import TelephonyVobiz

/// The carriers' media sockets for calls our voice pipeline holds:
/// - `GET /v1/telephony/twilio/stream/{attempt_id}`: Twilio Media Streams, the upgrade signed
///   by Twilio (`X-Twilio-Signature` over the URL, keyed with the number's auth token);
/// - `GET /v1/telephony/vobiz/stream/{attempt_id}/{token}`: Vobiz audio streams, the URL
///   carrying an HMAC of the attempt keyed with the number's auth token.
/// The pipeline runs here, on whichever process the carrier reached; the dialer learns how the
/// call ended from the carrier's callbacks, as for every callback-driven call.
struct MediaStreamsController {
    let store: Store
    let publicURL: String
    let voice: VoiceConversations
    let transfers: CallTransfers

    /// The carriers enforce the call's time limit; the pipeline's own is a backstop.
    static let maxDuration: TimeInterval = 4 * 3600

    func register(on router: Router<BasicWebSocketRequestContext>) {
        router.ws("v1/telephony/twilio/stream/:attempt_id", shouldUpgrade: { request, context in
            guard let attemptID = context.parameters.get("attempt_id").flatMap(Int64.init),
                  try await isSignedByTwilio(request, attemptID: attemptID, store: store, publicURL: publicURL) else {
                context.logger.warning("twilio media stream refused: bad signature or unknown attempt")
                return .dontUpgrade
            }
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            guard let attemptID = context.request.uri.path.split(separator: "/").last.flatMap({ Int64($0) }) else { return }
            try await stream(.twilio, attemptID: attemptID, inbound: inbound, outbound: outbound, logger: context.logger)
        })
        router.ws("v1/telephony/vobiz/stream/:attempt_id/:token", shouldUpgrade: { _, context in
            guard let attemptID = context.parameters.get("attempt_id").flatMap(Int64.init), let token = context.parameters.get("token"),
                  let carrier = try await store.attemptCarrier(attemptID), carrier.provider == .vobiz,
                  let account = try? VobizAccount(settings: carrier.settings),
                  constantTimeEquals(token, VobizSignature.streamToken(attemptID: attemptID, authToken: account.authToken)) else {
                context.logger.warning("vobiz media stream refused: bad token or unknown attempt")
                return .dontUpgrade
            }
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            let parts = context.request.uri.path.split(separator: "/")
            guard parts.count >= 2, let attemptID = Int64(parts[parts.count - 2]) else { return }
            try await stream(.vobiz, attemptID: attemptID, inbound: inbound, outbound: outbound, logger: context.logger)
        })
    }

    /// Waits for the stream's `start`, then runs the conversation while the socket's messages
    /// feed it and its frames go out; returning closes the socket, which ends the call.
    private func stream(_ wire: MediaStreamProtocol, attemptID: Int64, inbound: WebSocketInboundStream,
                        outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
        var streamID: String?
        var callID: String?
        while streamID == nil, let message = try await messages.next() {
            guard case .text(let text) = message else { continue }
            if case .start(let id, let call) = wire.read(text) { (streamID, callID) = (id, call) }
        }
        guard let streamID else { return }
        let transport = MediaSocketTransport(transfer: try await transfers.transfer(attemptID: attemptID, callID: callID, logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in transport.outgoing {
                    guard let text = wire.write(message, streamID: streamID) else {
                        // The agent hung up: closing the socket ends the call at the carrier.
                        try await outbound.close(.normalClosure, reason: "call ended")
                        return
                    }
                    try await outbound.write(.text(text))
                }
            }
            group.addTask {
                _ = await voice.converse(attemptID: attemptID, maxDuration: Self.maxDuration, transport: transport)
                transport.finish()
            }
            reading: while let message = try await messages.next() {
                guard case .text(let text) = message else { continue }
                switch wire.read(text) {
                case .media(let payload): transport.received(muLaw: payload)
                case .digit(let digit): transport.received(digit: digit)
                case .stop: break reading
                case .start, .other: break
                }
            }
            transport.closedByCarrier()
            try await group.waitForAll()
        }
    }
}
