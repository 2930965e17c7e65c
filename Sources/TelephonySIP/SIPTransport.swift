import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchboardCore

/// One UDP socket for every call: sends datagrams, and hands each message it receives to the
/// call it belongs to, by Call-ID. An INVITE for no call of ours opens one through `onInvite`
/// when inbound calls are taken; any other request for no call of ours gets `481`.
final class SIPTransport: Sendable {
    /// A caller's INVITE opened a call: its mailbox (which has the INVITE and will get its
    /// retransmissions and the rest of the dialog) and where it came from.
    typealias InviteHandler = @Sendable (SIPMessage, SocketAddress, Mailbox<SIPEvent>) -> Void

    private let channel: any Channel
    private let calls: NIOLockedValueBox<[String: Mailbox<SIPEvent>]>
    /// Our address as each trunk sees it, for Via and Contact.
    private let localAddresses = NIOLockedValueBox<[String: String]>([:])
    let logger: Logger

    private init(channel: any Channel, calls: NIOLockedValueBox<[String: Mailbox<SIPEvent>]>, logger: Logger) {
        self.channel = channel
        self.calls = calls
        self.logger = logger
    }

    static func bind(host: String, port: Int, logger: Logger, onInvite: InviteHandler? = nil) async throws -> SIPTransport {
        let calls = NIOLockedValueBox<[String: Mailbox<SIPEvent>]>([:])
        let handler = Inbound(calls: calls, onInvite: onInvite, logger: logger)
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) } }
            .bind(host: host, port: port).get()
        return SIPTransport(channel: channel, calls: calls, logger: logger)
    }

    var localPort: Int { channel.localAddress?.port ?? 0 }

    func open(callID: String) -> Mailbox<SIPEvent> {
        let mailbox = Mailbox<SIPEvent>()
        calls.withLockedValue { $0[callID] = mailbox }
        return mailbox
    }

    func close(callID: String) {
        calls.withLockedValue { $0.removeValue(forKey: callID) }?.close()
    }

    func send(_ message: SIPMessage, to address: SocketAddress) {
        let text = message.serialized()
        logger.trace("sip out", metadata: ["to": "\(address)", "message": "\(text)"])
        let envelope = AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(string: text))
        channel.writeAndFlush(envelope, promise: nil)
    }

    /// The address our packets to `remote` leave from, found the way the kernel routes them
    /// (a connected UDP socket, nothing sent) and kept per trunk.
    func localHost(toward remote: SocketAddress) async -> String {
        let key = "\(remote)"
        if let known = localAddresses.withLockedValue({ $0[key] }) { return known }
        var host = "127.0.0.1"
        if let probe = try? await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(to: remote).get() {
            host = probe.localAddress?.ipAddress ?? host
            try? await probe.close()
        }
        localAddresses.withLockedValue { $0[key] = host }
        return host
    }

    func shutdown() async {
        try? await channel.close()
        let open = calls.withLockedValue { calls -> [Mailbox<SIPEvent>] in defer { calls = [:] }; return Array(calls.values) }
        for mailbox in open { mailbox.close() }
    }

    private final class Inbound: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let calls: NIOLockedValueBox<[String: Mailbox<SIPEvent>]>
        let onInvite: InviteHandler?
        let logger: Logger

        init(calls: NIOLockedValueBox<[String: Mailbox<SIPEvent>]>, onInvite: InviteHandler?, logger: Logger) {
            self.calls = calls
            self.onInvite = onInvite
            self.logger = logger
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let text = String(buffer: envelope.data)
            guard let message = SIPMessage(parsing: text), let callID = message.callID else { return }
            logger.trace("sip in", metadata: ["from": "\(envelope.remoteAddress)", "message": "\(text)"])
            // A new call's mailbox is made under the lock, so a retransmitted INVITE joins it.
            let (mailbox, opened) = calls.withLockedValue { calls -> (Mailbox<SIPEvent>?, Bool) in
                if let mailbox = calls[callID] { return (mailbox, false) }
                guard message.method == "INVITE", onInvite != nil, message["To"].flatMap({ SIPMessage.parameter("tag", in: $0) }) == nil
                else { return (nil, false) }
                let mailbox = Mailbox<SIPEvent>()
                calls[callID] = mailbox
                return (mailbox, true)
            }
            if let mailbox {
                mailbox.post(.message(message))
                if opened { onInvite?(message, envelope.remoteAddress, mailbox) }
            } else if let method = message.method, method != "ACK" {
                let reply = SIPMessage.response(481, "Call/Transaction Does Not Exist", to: message)
                context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress,
                                                                        data: context.channel.allocator.buffer(string: reply.serialized()))),
                                      promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // ICMP port unreachable and the like surface here; the transaction's timers decide.
            logger.debug("sip socket error", metadata: ["error": "\(error)"])
        }
    }
}

extension SIPMessage {
    /// A response to a request, echoing what RFC 3261 §8.2.6.2 says it must.
    static func response(_ status: Int, _ reason: String, to request: SIPMessage) -> SIPMessage {
        let copied = request.headers.filter { ["via", "from", "to", "call-id", "cseq"].contains(SIPMessage.canonical($0.name)) }
        return SIPMessage(.response(status: status, reason: reason), headers: copied)
    }
}
