import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchboardCore

/// The UDP ports calls take their media on (`SWITCHBOARD_RTP_PORTS`): one even port per call,
/// handed out in turn so a port just freed is not reused at once (late packets of the last
/// call would land in the next).
public final class RTPPorts: Sendable {
    public let range: ClosedRange<Int>
    private let state = NIOLockedValueBox((next: 0, taken: Set<Int>()))

    public init(_ range: ClosedRange<Int>) {
        self.range = range
    }

    /// Binds a socket on the next free even port of the range.
    func bind(host: String, handler: @escaping @Sendable () -> RTPInbound) async throws -> (any Channel, Int) {
        let evens = stride(from: range.lowerBound + range.lowerBound % 2, through: range.upperBound, by: 2).map { $0 }
        guard !evens.isEmpty else { throw RTPError("the RTP port range \(range) has no even port") }
        for _ in 0..<evens.count {
            let port: Int? = state.withLockedValue { state in
                let port = evens[state.next % evens.count]
                state.next += 1
                return state.taken.insert(port).inserted ? port : nil
            }
            guard let port else { continue }
            do {
                let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler()) } }
                    .bind(host: host, port: port).get()
                return (channel, port)
            } catch {
                release(port) // taken by another process: try the next
            }
        }
        throw RTPError("no free UDP port for RTP in \(range.lowerBound)-\(range.upperBound)")
    }

    func release(_ port: Int) {
        _ = state.withLockedValue { $0.taken.remove(port) }
    }
}

struct RTPError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One call's RTP: G.711 frames out every tick with consecutive sequence numbers and
/// timestamps under one SSRC; frames in through a jitter buffer; RFC 4733 digits.
final class RTPSession: VoiceTransport {
    struct Receiving {
        var negotiated: SDP.Answer?
        var jitter = JitterBuffer<[UInt8]>(depth: 3)
        var events = TelephoneEvents()
        var digits: [Character] = []
        var closed = false
    }

    struct Sending {
        var sequence = UInt16.random(in: 0...UInt16.max)
        var timestamp = UInt32.random(in: 0...UInt32.max)
        let ssrc = UInt32.random(in: 1...UInt32.max)
        var first = true
        var remote: SocketAddress?
    }

    let channel: any Channel
    let port: Int
    let receiving: NIOLockedValueBox<Receiving>
    private let sending = NIOLockedValueBox(Sending())

    init(channel: any Channel, port: Int, receiving: NIOLockedValueBox<Receiving>) {
        self.channel = channel
        self.port = port
        self.receiving = receiving
    }

    /// The answer came: where to send, and which law both sides speak.
    func start(_ answer: SDP.Answer) throws {
        let remote = try SocketAddress.makeAddressResolvingHost(answer.host, port: answer.port)
        receiving.withLockedValue { $0.negotiated = answer }
        sending.withLockedValue { $0.remote = remote }
    }

    func calleeHungUp() { receiving.withLockedValue { $0.closed = true } }

    func receive() -> TransportInput {
        receiving.withLockedValue { state in
            defer { state.digits = [] }
            let frame = state.jitter.pop().map { state.negotiated?.law.decode($0) ?? [] }
            return TransportInput(frame: frame, digits: state.digits, closed: state.closed)
        }
    }

    func send(_ frame: [Int16]?) {
        guard let law = receiving.withLockedValue({ $0.negotiated?.law }) else { return }
        let payload = law.encode(frame ?? Telephony.silence)
        let packet: (RTPPacket, SocketAddress)? = sending.withLockedValue { state in
            guard let remote = state.remote else { return nil }
            defer {
                state.sequence &+= 1
                state.timestamp &+= UInt32(Telephony.samplesPerFrame)
                state.first = false
            }
            return (RTPPacket(payloadType: law.payloadType, marker: state.first, sequenceNumber: state.sequence, timestamp: state.timestamp,
                              ssrc: state.ssrc, payload: payload), remote)
        }
        guard let (packet, remote) = packet else { return }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: channel.allocator.buffer(bytes: packet.bytes)), promise: nil)
    }

    /// RTP holds nothing to clear: what was sent is being played as it arrives.
    func clear() {}

    /// The dialog sends BYE when the conversation returns.
    func hangUp() async {}

    /// Set by the dialog once the call is answered: it sends the REFER.
    let transferHandler = NIOLockedValueBox<(@Sendable (TransferRequest) async -> String?)?>(nil)

    func transfer(_ request: TransferRequest) async -> String? {
        guard let handler = transferHandler.withLockedValue({ $0 }) else { return "the call is not answered" }
        return await handler(request)
    }
}

/// Reads RTP datagrams into the call's receive state.
final class RTPInbound: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let receiving: NIOLockedValueBox<RTPSession.Receiving>

    init(_ receiving: NIOLockedValueBox<RTPSession.Receiving>) { self.receiving = receiving }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let packet = try? RTPPacket(parsing: envelope.data.readableBytesView) else { return }
        receiving.withLockedValue { state in
            guard let negotiated = state.negotiated else { return } // before the answer: early media is not ours to hear
            if packet.payloadType == negotiated.law.payloadType {
                state.jitter.insert(sequence: packet.sequenceNumber, packet.payload)
            } else if packet.payloadType == negotiated.telephoneEventType ?? SDP.telephoneEventType,
                      let digit = state.events.digit(from: packet) {
                state.digits.append(digit)
            }
        }
    }
}
