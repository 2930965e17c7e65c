import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardCore

/// Dials through SIP trunks with our own user agent over UDP. One socket serves every call of
/// the process; it opens at the first dial and closes when the service stops, after the
/// dialer (services stop in reverse order), so calls in flight can hang up.
public final class SIPProvider: TelephonyProvider, Service {
    public let name = ProviderName.sipTrunk
    private let bindHost: String
    private let bindPort: Int
    private let clock: any WallClock
    private let rtpPorts: RTPPorts
    private let conversation: SIPConversation
    private let logger: Logger
    private let transport: TransportSlot
    private let inbound: SIPInbound?
    private let whisper: SIPWhisper?

    /// `bindPort` 0 takes any free port; a trunk that wants requests from a known port needs it set.
    /// Each call's RTP takes a port of `rtpPorts`; `conversation` talks over it once answered.
    /// With `inbound` and a `bindPort`, the socket opens at start and callers' INVITEs are answered.
    public init(bindHost: String = "0.0.0.0", bindPort: Int = 0, rtpPorts: RTPPorts, clock: any WallClock, logger: Logger,
                inbound: SIPInbound? = nil, whisper: SIPWhisper? = nil, conversation: @escaping SIPConversation) {
        self.inbound = bindPort == 0 ? nil : inbound
        self.whisper = whisper
        self.bindHost = bindHost
        self.bindPort = bindPort
        self.clock = clock
        self.rtpPorts = rtpPorts
        self.conversation = conversation
        self.logger = logger
        self.transport = TransportSlot()
    }

    public func dial(_ request: DialRequest) async -> DialResult {
        let trunk: SIPTrunkSettings
        do { trunk = try SIPTrunkSettings(settings: request.settings) }
        catch { return DialResult(outcome: .failed, endedAt: clock.now(), detail: "sip_trunk settings: \(error)") }
        let remote: SocketAddress
        do { remote = try SocketAddress.makeAddressResolvingHost(trunk.host, port: trunk.port) }
        catch { return DialResult(outcome: .failed, endedAt: clock.now(), detail: "SIP trunk host \(trunk.host) does not resolve: \(error)") }
        let transport: SIPTransport
        do { transport = try await openTransport() }
        catch { return DialResult(outcome: .failed, endedAt: clock.now(), detail: "SIP socket could not be opened: \(error)") }
        var logger = self.logger
        logger[metadataKey: "attempt_id"] = "\(request.attemptID)"
        let call = SIPCall(transport: transport, trunk: trunk, remote: remote, localHost: await transport.localHost(toward: remote),
                           request: request, clock: clock,
                           media: SIPMedia(ports: rtpPorts, bindHost: bindHost, request: request, conversation: conversation, whisper: whisper,
                                           logger: logger),
                           logger: logger)
        let result = await call.run()
        logger.debug("sip call ended", metadata: ["outcome": "\(result.outcome.rawValue)", "detail": "\(result.detail ?? "")"])
        return result
    }

    /// A trunk keeps no call list to ask. An attempt whose dialer died mid-call may or may not
    /// have rung: it counts as a failed attempt (the retry policy decides), never as unplaced,
    /// so a lead is not rung twice on a guess.
    public func status(of attempt: DialRequest) async -> ProviderCallStatus {
        .ended(DialResult(outcome: .failed, endedAt: clock.now(), detail: "SIP call state lost with its dialer; a SIP trunk cannot be asked"))
    }

    public func run() async throws {
        if inbound != nil {
            let transport = try await openTransport()
            logger.info("answering SIP calls to our trunk numbers", metadata: ["sip_port": "\(transport.localPort)"])
        }
        try? await gracefulShutdown()
        await shutdown()
    }

    private func openTransport() async throws -> SIPTransport {
        var onInvite: SIPTransport.InviteHandler?
        if let inbound {
            onInvite = { [self] invite, source, mailbox in
                Task { await self.answer(invite, from: source, mailbox: mailbox, inbound: inbound) }
            }
        }
        return try await transport.get { [bindHost, bindPort, logger, onInvite] in
            try await SIPTransport.bind(host: bindHost, port: bindPort, logger: logger, onInvite: onInvite)
        }
    }

    private func answer(_ invite: SIPMessage, from source: SocketAddress, mailbox: Mailbox<SIPEvent>, inbound: SIPInbound) async {
        guard let transport = try? await transport.get({ throw CancellationError() }) else { return }
        await SIPAnswering(transport: transport, invite: invite, source: source, mailbox: mailbox, inbound: inbound,
                           makeMedia: { [rtpPorts, bindHost, conversation, whisper, logger] request in
                               SIPMedia(ports: rtpPorts, bindHost: bindHost, request: request, conversation: conversation, whisper: whisper,
                                        logger: logger)
                           },
                           clock: clock, logger: logger).run()
    }

    /// Closes the SIP socket (outside a service group: the bench).
    public func shutdown() async {
        await transport.close()
    }
}

/// The socket, opened once by whichever dial comes first.
private actor TransportSlot {
    private var opened: SIPTransport?
    private var closed = false

    func get(_ open: @Sendable () async throws -> SIPTransport) async throws -> SIPTransport {
        if let opened { return opened }
        guard !closed else { throw CancellationError() }
        let transport = try await open()
        opened = transport
        return transport
    }

    func close() async {
        closed = true
        await opened?.shutdown()
        opened = nil
    }
}
