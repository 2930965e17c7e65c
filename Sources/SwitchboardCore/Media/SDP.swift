import Foundation

/// The session descriptions (RFC 4566, offer/answer RFC 3264) of our calls: we offer G.711 in
/// both laws and RFC 4733 telephone events, and read from the answer where the callee's media
/// is and which law it chose.
public enum SDP {
    /// Our dynamic payload type for telephone-event.
    public static let telephoneEventType: UInt8 = 101

    public static func offer(host: String, port: Int, session: UInt32) -> String {
        [
            "v=0", "o=switchboard \(session) \(session) IN IP4 \(host)", "s=switchboard", "c=IN IP4 \(host)", "t=0 0",
            "m=audio \(port) RTP/AVP 0 8 \(telephoneEventType)", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:\(telephoneEventType) telephone-event/8000", "a=fmtp:\(telephoneEventType) 0-16", "a=ptime:20", "a=sendrecv", "",
        ].joined(separator: "\r\n")
    }

    /// Our answer to a caller's offer (read with `parseAnswer`, which takes the offer's first
    /// G.711 law): that law alone, and telephone events with the caller's payload type when it
    /// offered them (RFC 3264 §6.1).
    public static func answer(to offer: Answer, host: String, port: Int, session: UInt32) -> String {
        let types = [offer.law.payloadType] + (offer.telephoneEventType.map { [$0] } ?? [])
        return ([
            "v=0", "o=switchboard \(session) \(session) IN IP4 \(host)", "s=switchboard", "c=IN IP4 \(host)", "t=0 0",
            "m=audio \(port) RTP/AVP \(types.map(String.init).joined(separator: " "))",
            offer.law == .muLaw ? "a=rtpmap:0 PCMU/8000" : "a=rtpmap:8 PCMA/8000",
        ] + (offer.telephoneEventType.map { ["a=rtpmap:\($0) telephone-event/8000", "a=fmtp:\($0) 0-16"] } ?? [])
          + ["a=ptime:20", "a=sendrecv", ""]).joined(separator: "\r\n")
    }

    /// What the callee's answer says of its audio.
    public struct Answer: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var law: G711Law
        /// The payload type the callee sends telephone events with, if it takes them.
        public var telephoneEventType: UInt8?
        public init(host: String, port: Int, law: G711Law, telephoneEventType: UInt8?) {
            self.host = host
            self.port = port
            self.law = law
            self.telephoneEventType = telephoneEventType
        }
    }

    public enum AnswerError: Error, Equatable, CustomStringConvertible {
        case noAudio, noAddress, noCommonCodec(String)
        public var description: String {
            switch self {
            case .noAudio: "the SDP answer has no audio stream"
            case .noAddress: "the SDP answer has no connection address"
            case .noCommonCodec(let offered): "the SDP answer chose no G.711 codec (payload types \(offered))"
            }
        }
    }

    public static func parseAnswer(_ text: String) throws(AnswerError) -> Answer {
        var sessionHost: String?
        var mediaHost: String?
        var audio: (port: Int, types: [UInt8])?
        var inAudio = false
        var eventType: UInt8?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("m=") {
                let parts = line.dropFirst(2).split(separator: " ")
                inAudio = parts.first == "audio" && audio == nil
                if inAudio, parts.count >= 4, let port = Int(parts[1]) {
                    audio = (port, parts[3...].compactMap { UInt8($0) })
                }
            } else if line.hasPrefix("c=") {
                let host = line.split(separator: " ").last.map(String.init)
                if audio == nil { sessionHost = host } else if inAudio { mediaHost = host }
            } else if inAudio, line.hasPrefix("a=rtpmap:") {
                let parts = line.dropFirst("a=rtpmap:".count).split(separator: " ")
                if parts.count == 2, parts[1].lowercased().hasPrefix("telephone-event/"), let type = UInt8(parts[0]) { eventType = type }
            }
        }
        guard let audio, audio.port > 0 else { throw .noAudio }
        guard let host = mediaHost ?? sessionHost else { throw .noAddress }
        // The answer lists what it will use, most preferred first (RFC 3264 §6.1).
        guard let law = audio.types.lazy.compactMap({ $0 == 0 ? G711Law.muLaw : $0 == 8 ? .aLaw : nil }).first else {
            throw .noCommonCodec(audio.types.map(String.init).joined(separator: " "))
        }
        return Answer(host: host, port: audio.port, law: law, telephoneEventType: eventType.flatMap { audio.types.contains($0) ? $0 : nil })
    }
}

/// A DTMF digit carried as an RFC 4733 telephone event. The sender repeats an event's packets
/// while the key is held and sends its end three times: one digit is taken per event
/// (its RTP timestamp), when the first end packet arrives.
public struct TelephoneEvents: Sendable {
    private var lastTimestamp: UInt32?

    public init() {}

    static let digits: [Character] = Array("0123456789*#ABCD")

    public mutating func digit(from packet: RTPPacket) -> Character? {
        guard packet.payload.count >= 4 else { return nil }
        let event = Int(packet.payload[0])
        let ended = packet.payload[1] & 0x80 != 0
        guard ended, event < Self.digits.count, lastTimestamp != packet.timestamp else { return nil }
        lastTimestamp = packet.timestamp
        return Self.digits[event]
    }
}
