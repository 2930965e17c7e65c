/// RIFF WAVE with 16-bit linear PCM: what speech services send and take, and what recordings are.
public enum WAV {
    public struct Audio: Sendable, Equatable {
        public var sampleRate: Int
        public var channels: Int
        /// Interleaved when there is more than one channel.
        public var samples: [Int16]

        public init(sampleRate: Int, channels: Int, samples: [Int16]) {
            self.sampleRate = sampleRate
            self.channels = channels
            self.samples = samples
        }

        /// The first channel alone (speech services answer mono; a stereo answer is downmixed by taking the left).
        public var mono: [Int16] {
            channels <= 1 ? samples : stride(from: 0, to: samples.count, by: channels).map { samples[$0] }
        }

        public func channel(_ index: Int) -> [Int16] {
            stride(from: index, to: samples.count, by: max(1, channels)).map { samples[$0] }
        }
    }

    public enum ParseError: Error, Equatable {
        case notWAV, unsupportedFormat(String)
    }

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> Audio {
        guard let layout = try layout(bytes) else { throw .notWAV }
        var samples = [Int16]()
        samples.reserveCapacity((layout.dataEnd - layout.dataStart) / 2)
        var position = layout.dataStart
        while position + 1 < layout.dataEnd {
            samples.append(Int16(bitPattern: UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8))
            position += 2
        }
        return Audio(sampleRate: layout.sampleRate, channels: layout.channels, samples: samples)
    }

    /// Where a file's samples are, read from its chunks; nil while the header is incomplete.
    struct Layout {
        var sampleRate: Int
        var channels: Int
        var dataStart: Int
        /// The end of the samples received so far when the file does not say (or says too much).
        var dataEnd: Int
    }

    static func layout(_ bytes: [UInt8]) throws(ParseError) -> Layout? {
        guard bytes.count >= 12 else { return nil }
        guard bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else { throw .notWAV }
        var offset = 12
        var format: (code: Int, channels: Int, rate: Int, bits: Int)?
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = Int(le32(bytes, offset + 4))
            let body = offset + 8
            if id == "data" {
                guard let format else { throw .unsupportedFormat("data before fmt") }
                // 1 is PCM; 0xFFFE (extensible) carries PCM too in what speech services send.
                guard format.code == 1 || format.code == 0xFFFE, format.bits == 16 else {
                    throw .unsupportedFormat("format \(format.code), \(format.bits) bits (16-bit PCM expected)")
                }
                // Streaming writers (ffmpeg or espeak-ng to a pipe, some TTS servers) leave the size unknown.
                let known = size != 0 && size != 0xFFFF_FFFF && body + size <= bytes.count
                return Layout(sampleRate: format.rate, channels: max(1, format.channels), dataStart: body, dataEnd: known ? body + size : bytes.count)
            }
            guard body + size <= bytes.count else { return nil }
            if id == "fmt ", size >= 16 {
                format = (Int(le16(bytes, body)), Int(le16(bytes, body + 2)), Int(le32(bytes, body + 4)), Int(le16(bytes, body + 14)))
            }
            offset = body + size + (size & 1)
        }
        return nil
    }

    /// The 44-byte header of a 16-bit PCM file holding `sampleCount` samples (all channels).
    public static func header(sampleRate: Int, channels: Int, sampleCount: Int) -> [UInt8] {
        let dataBytes = sampleCount * 2
        var out = Array("RIFF".utf8) + le(UInt32(36 + dataBytes)) + Array("WAVEfmt ".utf8)
        out += le(UInt32(16)) + le(UInt16(1)) + le(UInt16(channels)) + le(UInt32(sampleRate))
        out += le(UInt32(sampleRate * channels * 2)) + le(UInt16(channels * 2)) + le(UInt16(16))
        out += Array("data".utf8) + le(UInt32(dataBytes))
        return out
    }

    public static func encode(_ audio: Audio) -> [UInt8] {
        var out = header(sampleRate: audio.sampleRate, channels: audio.channels, sampleCount: audio.samples.count)
        out.reserveCapacity(out.count + audio.samples.count * 2)
        for sample in audio.samples { out += le(UInt16(bitPattern: sample)) }
        return out
    }

    static func le16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    static func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
    public static func le(_ value: UInt16) -> [UInt8] { [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)] }
    public static func le(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}

extension WAV {
    /// Reads a WAV as it downloads: the header first, then samples as each chunk of the body
    /// arrives, the first channel only.
    public struct StreamDecoder: Sendable {
        private var header: [UInt8] = []
        private var carry: [UInt8] = []
        public private(set) var sampleRate: Int?
        private var channels = 1
        private var channelIndex = 0

        public init() {}

        public mutating func feed(_ bytes: [UInt8]) throws(ParseError) -> [Int16] {
            var body: ArraySlice<UInt8>
            if sampleRate == nil {
                header += bytes
                guard let layout = try WAV.layout(header) else { return [] }
                sampleRate = layout.sampleRate
                channels = layout.channels
                body = header[layout.dataStart...]
                header = []
            } else {
                body = bytes[...]
            }
            var data = carry + body
            let whole = data.count & ~1
            carry = Array(data[whole...])
            data = data[..<whole] + []
            var out = [Int16]()
            out.reserveCapacity(whole / 2 / channels)
            var position = data.startIndex
            while position + 1 < data.endIndex {
                if channelIndex == 0 { out.append(Int16(bitPattern: UInt16(data[position]) | UInt16(data[position + 1]) << 8)) }
                channelIndex = (channelIndex + 1) % channels
                position += 2
            }
            return out
        }
    }
}
