/// An RTP packet (RFC 3550 §5.1): the fixed header our media sessions write and read, and the
/// payload. CSRCs, a header extension and padding are skipped when reading; we never write them.
public struct RTPPacket: Sendable, Equatable {
    public var payloadType: UInt8
    /// Set on the first packet of a talk spurt (and of a DTMF event, RFC 4733).
    public var marker: Bool
    public var sequenceNumber: UInt16
    /// In samples of the payload's clock (8,000 a second for G.711 and telephone-event).
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var payload: [UInt8]

    public init(payloadType: UInt8, marker: Bool = false, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, payload: [UInt8]) {
        self.payloadType = payloadType
        self.marker = marker
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.payload = payload
    }

    public enum ParseError: Error, Equatable {
        case tooShort, notVersion2, badPadding
    }

    public init(parsing bytes: some Collection<UInt8>) throws(ParseError) {
        let data = Array(bytes)
        guard data.count >= 12 else { throw .tooShort }
        guard data[0] >> 6 == 2 else { throw .notVersion2 }
        let hasPadding = data[0] & 0x20 != 0
        let hasExtension = data[0] & 0x10 != 0
        let csrcCount = Int(data[0] & 0x0F)
        marker = data[1] & 0x80 != 0
        payloadType = data[1] & 0x7F
        sequenceNumber = UInt16(data[2]) << 8 | UInt16(data[3])
        timestamp = data[4..<8].reduce(0) { $0 << 8 | UInt32($1) }
        ssrc = data[8..<12].reduce(0) { $0 << 8 | UInt32($1) }
        var start = 12 + 4 * csrcCount
        if hasExtension {
            guard data.count >= start + 4 else { throw .tooShort }
            let words = Int(data[start + 2]) << 8 | Int(data[start + 3])
            start += 4 + 4 * words
        }
        var end = data.count
        if hasPadding {
            guard let count = data.last, count > 0, end - Int(count) >= start else { throw .badPadding }
            end -= Int(count)
        }
        guard start <= end else { throw .tooShort }
        payload = Array(data[start..<end])
    }

    /// The packet on the wire: version 2, no padding, no extension, no CSRCs.
    public var bytes: [UInt8] {
        var out: [UInt8] = [0x80, (marker ? 0x80 : 0) | (payloadType & 0x7F),
                            UInt8(sequenceNumber >> 8), UInt8(truncatingIfNeeded: sequenceNumber)]
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: timestamp >> UInt32(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: ssrc >> UInt32(shift))) }
        out += payload
        return out
    }
}
