import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwitchboardCore

/// POSTs one delivery over a connection made here, so the address a receiver's name resolves
/// to is checked in the same step that connects to it: a general HTTP client would look the
/// name up again, and a DNS answer that changes between check and connect (rebinding) could
/// point a tenant's webhook at the operator's own network. Unless private targets are allowed,
/// only public addresses are connected to; every connection failure reads the same, so the
/// delivery log tells nothing of what listens where.
struct WebhookTransport: Sendable {
    let allowPrivate: Bool
    let group: any EventLoopGroup
    let tls: NIOSSLContext
    let connectTimeout: TimeAmount

    init(allowPrivate: Bool, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, connectTimeout: TimeAmount = .seconds(5)) throws {
        self.allowPrivate = allowPrivate
        self.group = group
        self.connectTimeout = connectTimeout
        tls = try NIOSSLContext(configuration: .makeClientConfiguration())
    }

    struct Reply: Sendable {
        var status: Int
        var retryAfter: String?
    }

    enum Failure: Error, CustomStringConvertible {
        /// The URL is not one we send to.
        case badURL
        /// The name resolves to an address the operator did not allow.
        case notAllowed
        /// No connection, or it broke before an answer: one reason for all of them.
        case unreachable
        case timedOut

        var description: String {
            switch self {
            case .badURL: "the URL cannot be used"
            case .notAllowed: "the address is not allowed (private, loopback or link-local)"
            case .unreachable: "could not connect"
            case .timedOut: "no answer in time"
            }
        }
    }

    /// Whether `url` names a host we could ever send to: an IP literal is checked now; a name
    /// is checked each time it is resolved.
    static func check(url: String, allowPrivate: Bool) -> Failure? {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = parts.host, !host.isEmpty else { return .badURL }
        if !allowPrivate, NetworkAddress.bytes(host) != nil, !NetworkAddress.isPublic(host) { return .notAllowed }
        if !allowPrivate, host.lowercased() == "localhost" || host.lowercased().hasSuffix(".localhost") { return .notAllowed }
        return nil
    }

    func post(_ url: String, headers: [(String, String)], body: String, timeout: TimeAmount) async throws -> Reply {
        if let failure = Self.check(url: url, allowPrivate: allowPrivate) { throw failure }
        guard let parts = URLComponents(string: url), let host = parts.host else { throw Failure.badURL }
        let secure = parts.scheme?.lowercased() == "https"
        let port = parts.port ?? (secure ? 443 : 80)
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        // The one lookup: what it returns is what we connect to.
        let address: SocketAddress
        do {
            address = try await NIOThreadPool.singleton.runIfActive { try SocketAddress.makeAddressResolvingHost(bareHost, port: port) }
        } catch {
            throw Failure.unreachable
        }
        guard allowPrivate || address.ipAddress.map(NetworkAddress.isPublic) == true else { throw Failure.notAllowed }

        let answer = group.next().makePromise(of: Reply.self)
        let tls = self.tls
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(connectTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if secure {
                            let sni = NetworkAddress.bytes(bareHost) == nil ? bareHost : nil
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: sni))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ReplyHandler(answer: answer))
                    }
                }
                .connect(to: address).get()
        } catch {
            answer.fail(Failure.unreachable)
            throw Failure.unreachable
        }
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { answer.fail(Failure.timedOut) }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        var target = parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath
        if let query = parts.percentEncodedQuery { target += "?" + query }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target)
        let hostHeader = bareHost.contains(":") ? "[\(bareHost)]" : bareHost  // an IPv6 literal keeps its brackets
        head.headers.add(name: "Host", value: parts.port.map { "\(hostHeader):\($0)" } ?? hostHeader)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "Content-Length", value: String(body.utf8.count))
        head.headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await answer.futureResult.get()
    }
}

/// The answer's status line and `Retry-After`; the body is read and dropped.
private final class ReplyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let answer: EventLoopPromise<WebhookTransport.Reply>
    private var reply: WebhookTransport.Reply?

    init(answer: EventLoopPromise<WebhookTransport.Reply>) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            reply = WebhookTransport.Reply(status: Int(head.status.code), retryAfter: head.headers.first(name: "Retry-After"))
        case .body:
            break
        case .end:
            if let reply { answer.succeed(reply) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A status line is an answer even when the receiver closes without finishing its body.
        if let reply { answer.succeed(reply) } else { answer.fail(WebhookTransport.Failure.unreachable) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let reply { answer.succeed(reply) } else { answer.fail(WebhookTransport.Failure.unreachable) }
        context.close(promise: nil)
    }
}
