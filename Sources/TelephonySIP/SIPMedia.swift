import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SwitchboardCore

/// A call's conversation once its audio flows: run by whoever composes the SIP provider (the
/// server hands it the voice pipeline); returns how it ended, for the call's outcome.
public typealias SIPConversation = @Sendable (DialRequest, any VoiceTransport) async -> ConversationEnd

/// A SIP call's media: a UDP port of its own for RTP, offered in the INVITE's SDP; the
/// conversation runs over it once the callee answers.
final class SIPMedia: Sendable {
    let ports: RTPPorts
    let bindHost: String
    let request: DialRequest
    let conversation: SIPConversation
    /// Says a warm transfer's summary to the person taking the call.
    let whisper: SIPWhisper?
    let logger: Logger
    private let session = NIOLockedValueBox<RTPSession?>(nil)

    init(ports: RTPPorts, bindHost: String, request: DialRequest, conversation: @escaping SIPConversation, whisper: SIPWhisper? = nil,
         logger: Logger) {
        self.whisper = whisper
        self.ports = ports
        self.bindHost = bindHost
        self.request = request
        self.conversation = conversation
        self.logger = logger
    }

    /// Binds the call's RTP port; our session description from the address our packets leave
    /// from: the offer for our INVITE, or the answer to a caller's `offer`.
    func open(host: String, answering offer: SDP.Answer? = nil) async throws -> String {
        let receiving = NIOLockedValueBox(RTPSession.Receiving())
        let (channel, port) = try await ports.bind(host: bindHost) { RTPInbound(receiving) }
        session.withLockedValue { $0 = RTPSession(channel: channel, port: port, receiving: receiving) }
        let version = UInt32.random(in: 1...UInt32.max)
        return offer.map { SDP.answer(to: $0, host: host, port: port, session: version) } ?? SDP.offer(host: host, port: port, session: version)
    }

    /// The other side's session description came (the callee's answer, or the caller's offer
    /// we answered): talks until the agent ends the call (or the callee
    /// hangs up, told through `calleeHungUp`); why it ended.
    func run(answer: String) async -> ConversationEnd {
        guard let session = session.withLockedValue({ $0 }) else { return ConversationEnd(reason: "no media session") }
        do {
            try session.start(try SDP.parseAnswer(answer))
        } catch {
            logger.warning("unusable SDP answer; hanging up", metadata: ["error": "\(error)"])
            return ConversationEnd(reason: "\(error)")
        }
        return await conversation(request, session)
    }

    func calleeHungUp() { session.withLockedValue { $0 }?.calleeHungUp() }

    /// The call's audio, once its port is bound.
    var currentSession: RTPSession? { session.withLockedValue { $0 } }

    /// How the conversation's transfers reach the dialog.
    func onTransfer(_ handler: @escaping @Sendable (TransferRequest) async -> String?) {
        session.withLockedValue { $0 }?.transferHandler.withLockedValue { $0 = handler }
    }

    func close() async {
        guard let session = session.withLockedValue({ state in defer { state = nil }; return state }) else { return }
        try? await session.channel.close()
        ports.release(session.port)
    }
}
