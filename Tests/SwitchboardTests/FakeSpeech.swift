import Foundation
import Hummingbird
import NIOFoundationEssentialsCompat
import SwitchboardCore

/// OpenAI-compatible speech services, as faster-whisper's or Kokoro's servers speak them:
/// `POST /v1/audio/transcriptions` (multipart with a WAV) answers the script's next line and
/// keeps what it heard (duration and energy); `POST /v1/audio/speech` answers a 24 kHz WAV of
/// a 1 kHz tone, 40 ms per character of the text, so what the agent says can be found in a
/// recording by its pitch and its length.
actor FakeSpeech {
    static let apiKey = "test-speech-key"
    static let toneHz = 1_000.0

    struct Utterance: Sendable {
        var seconds: Double
        var rms: Double
        var model: String
    }

    private(set) var heard: [Utterance] = []
    private(set) var spoken: [String] = []
    private let answers: [String]

    init(answers: [String]) { self.answers = answers }

    func transcribe(_ audio: WAV.Audio, model: String) -> String {
        heard.append(Utterance(seconds: Double(audio.samples.count) / Double(audio.sampleRate), rms: Telephony.rms(audio.samples), model: model))
        return heard.count <= answers.count ? answers[heard.count - 1] : ""
    }

    func speak(_ text: String) { spoken.append(text) }

    static func toneWAV(characters: Int) -> [UInt8] {
        let rate = 24_000
        let samples = (0..<Int(0.04 * Double(characters) * Double(rate))).map {
            Int16(8_000 * sin(2 * .pi * toneHz * Double($0) / Double(rate)))
        }
        return WAV.encode(WAV.Audio(sampleRate: rate, channels: 1, samples: samples))
    }

    static func router(_ fake: FakeSpeech) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("v1/audio/transcriptions") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(apiKey)" else { return FakeCarrier.reply(.unauthorized, json: #"{"error": {"message": "bad key"}}"#) }
            var request = request
            let body = Array(try await request.collectBody(upTo: 16 << 20).readableBytesView)
            // The form's file part is the WAV: from its RIFF header on (its sizes say where it ends).
            guard let start = body.indices.first(where: { body[$0...].starts(with: Array("RIFF".utf8)) }),
                  let audio = try? WAV.parse(Array(body[start...])) else {
                return FakeCarrier.reply(.badRequest, json: #"{"error": {"message": "no audio file"}}"#)
            }
            let text = String(decoding: body, as: UTF8.self)
            let model = text.range(of: "name=\"model\"\r\n\r\n").map { String(text[$0.upperBound...].prefix { !$0.isNewline }) } ?? ""
            let said = await fake.transcribe(audio, model: model)
            return FakeCarrier.reply(.ok, json: (["text": .string(said)] as JSONValue).jsonText)
        }
        router.post("v1/audio/speech") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(apiKey)" else { return FakeCarrier.reply(.unauthorized, json: #"{"error": {"message": "bad key"}}"#) }
            var request = request
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: try await request.collectBody(upTo: 1 << 20)))
            let text = json["input"]?.stringValue ?? ""
            await fake.speak(text)
            var headers = HTTPFields()
            headers[.contentType] = "audio/wav"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: toneWAV(characters: text.count))))
        }
        return router
    }
}

/// Finds a tone in audio: the Goertzel filter's power at `frequency` against the signal's, in
/// 50 ms windows (a tone in pieces has a new phase in each), weighted by each window's energy.
enum ToneFinder {
    static func share(of frequency: Double, in samples: [Int16], rate: Int = 8_000) -> Double {
        let window = rate / 20
        var weighted = 0.0, total = 0.0
        for start in stride(from: 0, to: samples.count - window + 1, by: window) {
            let energy = samples[start..<start + window].reduce(0.0) { $0 + Double($1) * Double($1) }
            guard energy > 0 else { continue }
            weighted += energy * goertzel(frequency, samples[start..<start + window], rate: rate, energy: energy)
            total += energy
        }
        return total == 0 ? 0 : weighted / total
    }

    /// A pure tone's Goertzel power is energy · N / 2: 1 for a pure tone, 0 for none of it.
    private static func goertzel(_ frequency: Double, _ samples: ArraySlice<Int16>, rate: Int, energy: Double) -> Double {
        let coefficient = 2 * cos(2 * .pi * frequency / Double(rate))
        var (previous, beforePrevious) = (0.0, 0.0)
        for sample in samples {
            let current = Double(sample) + coefficient * previous - beforePrevious
            beforePrevious = previous
            previous = current
        }
        let power = previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious
        return power / (energy * Double(samples.count) / 2)
    }
}
