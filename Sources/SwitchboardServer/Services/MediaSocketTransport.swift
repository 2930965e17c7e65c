import Foundation
import SwitchboardCore

/// A carrier's media WebSocket as a voice transport: μ-law frames arrive in `media` messages
/// and wait here for the pipeline's tick; the agent's frames leave as messages at once, and
/// the carrier plays them in order (it buffers, so `clear` drops what it holds).
final class MediaSocketTransport: VoiceTransport {
    enum Outgoing: Sendable {
        case media([UInt8])
        case clear
        case close
    }

    private struct Incoming {
        var samples: [Int16] = []
        var digits: [Character] = []
        var closed = false
    }

    private let incoming = Locked(Incoming())
    let outgoing: AsyncStream<Outgoing>
    private let continuation: AsyncStream<Outgoing>.Continuation
    /// How this carrier hands the call to a person, where it can.
    private let transferring: (@Sendable (TransferRequest) async -> String?)?

    init(transfer: (@Sendable (TransferRequest) async -> String?)? = nil) {
        (outgoing, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        transferring = transfer
    }

    func transfer(_ request: TransferRequest) async -> String? {
        guard let transferring else { return "this carrier's calls cannot be transferred yet" }
        return await transferring(request)
    }

    /// Audio from the carrier, in chunks of any size; at most a second is held (the pipeline
    /// catches up on a backlog), so a stalled pipeline hears the present rather than the past.
    func received(muLaw payload: [UInt8]) {
        let samples = G711Law.muLaw.decode(payload)
        incoming.withLock { state in
            state.samples += samples
            let limit = 50 * Telephony.samplesPerFrame
            if state.samples.count > limit { state.samples.removeFirst(state.samples.count - limit) }
        }
    }

    func received(digit: Character) { incoming.withLock { $0.digits.append(digit) } }

    func closedByCarrier() { incoming.withLock { $0.closed = true } }

    func receive() -> TransportInput {
        incoming.withLock { state in
            defer { state.digits = [] }
            var frame: [Int16]?
            if state.samples.count >= Telephony.samplesPerFrame {
                frame = Array(state.samples[..<Telephony.samplesPerFrame])
                state.samples.removeFirst(Telephony.samplesPerFrame)
            }
            return TransportInput(frame: frame, digits: state.digits, closed: state.closed)
        }
    }

    func send(_ frame: [Int16]?) {
        guard let frame else { return }
        continuation.yield(.media(G711Law.muLaw.encode(frame)))
    }

    func clear() { continuation.yield(.clear) }

    func hangUp() async {
        continuation.yield(.close)
    }

    func finish() { continuation.finish() }
}

/// The two carriers' media socket protocols, read into one vocabulary and written back.
enum MediaStreamProtocol: Sendable {
    /// Twilio Media Streams: `connected`, `start`, `media`, `dtmf`, `mark`, `stop`; we send
    /// `media`, `mark` and `clear`, each with the stream's sid.
    case twilio
    /// Vobiz (Plivo's audio streams): `start`, `media`, `dtmf`, `stop`; we send `playAudio`
    /// and `clearAudio`.
    case vobiz

    enum Event: Equatable {
        case start(streamID: String, callID: String?)
        case media([UInt8])
        case digit(Character)
        case stop
        case other
    }

    func read(_ text: String) -> Event {
        guard let message = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else { return .other }
        switch message["event"]?.stringValue {
        case "start":
            let id = message["streamSid"]?.stringValue ?? message["start"]?["streamSid"]?.stringValue
                ?? message["streamId"]?.stringValue ?? message["start"]?["streamId"]?.stringValue ?? ""
            return .start(streamID: id, callID: message["start"]?["callSid"]?.stringValue ?? message["start"]?["callId"]?.stringValue)
        case "media":
            // Only the callee's side: a stream of both tracks would otherwise play us to ourselves.
            if let track = message["media"]?["track"]?.stringValue, !track.hasPrefix("inbound") { return .other }
            guard let payload = message["media"]?["payload"]?.stringValue, let bytes = Data(base64Encoded: payload) else { return .other }
            return .media(Array(bytes))
        case "dtmf":
            guard let digit = message["dtmf"]?["digit"]?.text?.first else { return .other }
            return .digit(digit)
        case "stop":
            return .stop
        default:
            return .other
        }
    }

    func write(_ outgoing: MediaSocketTransport.Outgoing, streamID: String) -> String? {
        let message: JSONValue
        switch (self, outgoing) {
        case (.twilio, .media(let bytes)):
            message = ["event": "media", "streamSid": .string(streamID), "media": ["payload": .string(Data(bytes).base64EncodedString())]]
        case (.twilio, .clear):
            message = ["event": "clear", "streamSid": .string(streamID)]
        case (.vobiz, .media(let bytes)):
            message = ["event": "playAudio", "media": ["contentType": "audio/x-mulaw", "sampleRate": 8000,
                                                       "payload": .string(Data(bytes).base64EncodedString())]]
        case (.vobiz, .clear):
            message = ["event": "clearAudio", "streamId": .string(streamID)]
        case (_, .close):
            return nil
        }
        return message.jsonText
    }
}
