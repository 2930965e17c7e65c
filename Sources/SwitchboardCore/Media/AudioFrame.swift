/// Telephone audio as the voice pipeline handles it: 8 kHz, 16-bit linear, mono, in 20 ms
/// frames of 160 samples — what one G.711 RTP packet or one carrier media message carries.
public enum Telephony {
    public static let sampleRate = 8_000
    public static let samplesPerFrame = 160
    public static let frameDuration: Duration = .milliseconds(20)
    public static let frameMilliseconds = 20
    public static let silence = [Int16](repeating: 0, count: samplesPerFrame)

    /// Cuts audio into whole frames, the last padded with silence.
    public static func frames(_ samples: [Int16]) -> [[Int16]] {
        stride(from: 0, to: samples.count, by: samplesPerFrame).map { start in
            var frame = Array(samples[start..<min(start + samplesPerFrame, samples.count)])
            if frame.count < samplesPerFrame { frame += repeatElement(0, count: samplesPerFrame - frame.count) }
            return frame
        }
    }

    /// Root mean square of a frame, 0…32767.
    public static func rms(_ frame: some Collection<Int16>) -> Double {
        guard !frame.isEmpty else { return 0 }
        let sum = frame.reduce(0.0) { $0 + Double($1) * Double($1) }
        return (sum / Double(frame.count)).squareRoot()
    }
}

/// The G.711 law a call's media negotiated.
public enum G711Law: Sendable, Equatable {
    case muLaw, aLaw

    /// RTP's static payload types (RFC 3551): PCMU 0, PCMA 8.
    public var payloadType: UInt8 { self == .muLaw ? 0 : 8 }

    public func encode(_ samples: [Int16]) -> [UInt8] {
        self == .muLaw ? samples.map(G711.MuLaw.encode) : samples.map(G711.ALaw.encode)
    }

    public func decode(_ bytes: some Collection<UInt8>) -> [Int16] {
        self == .muLaw ? bytes.map(G711.MuLaw.decode) : bytes.map(G711.ALaw.decode)
    }
}

/// What a call's speech services are asked for; nil fields take the server's defaults
/// (`SWITCHBOARD_STT_MODEL`, `SWITCHBOARD_TTS_MODEL`, `SWITCHBOARD_TTS_VOICE`).
public struct SpeechOptions: Sendable, Equatable {
    public var sttModel: String?
    public var ttsModel: String?
    public var voice: String?
    public init(sttModel: String? = nil, ttsModel: String? = nil, voice: String? = nil) {
        self.sttModel = sttModel
        self.ttsModel = ttsModel
        self.voice = voice
    }
}

extension Duration {
    /// The duration as seconds, for figures and records (`Duration` keeps attoseconds).
    public var timeInterval: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
