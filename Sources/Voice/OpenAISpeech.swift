import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SwitchboardCore

/// Speech services over the OpenAI audio API, which hosted services and local servers
/// (faster-whisper, Kokoro, Piper behind an OpenAI-compatible front) all speak:
/// `POST {base}/audio/transcriptions` (multipart, a WAV of the utterance) and
/// `POST {base}/audio/speech` (JSON; the WAV answer is read as it streams in, so the first
/// words play before the last are made).
public final class OpenAISpeech: SpeechToText, TextToSpeech, Service {
    public struct Configuration: Sendable, Equatable {
        public var baseURL: String
        public var apiKey: String?
        public var sttModel: String
        public var ttsModel: String
        public var voice: String
        public init(baseURL: String, apiKey: String?, sttModel: String = "whisper-1", ttsModel: String = "tts-1", voice: String = "alloy") {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
            self.sttModel = sttModel
            self.ttsModel = ttsModel
            self.voice = voice
        }
    }

    public let configuration: Configuration
    private let client: HTTPClient
    private let logger: Logger

    public init(_ configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var http = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(30)))
        http.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try? await client.shutdown()
    }

    private func headers(_ contentType: String) -> HTTPHeaders {
        var headers = HTTPHeaders([("Content-Type", contentType)])
        if let key = configuration.apiKey { headers.add(name: "Authorization", value: "Bearer \(key)") }
        return headers
    }

    public func transcribe(_ samples: [Int16], sampleRate: Int, options: SpeechOptions) async throws -> String {
        let boundary = "switchboard-" + UUID().uuidString
        var body = ByteBuffer()
        func field(_ name: String, _ value: String) {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
        }
        field("model", options.sttModel ?? configuration.sttModel)
        field("response_format", "json")
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"utterance.wav\"\r\nContent-Type: audio/wav\r\n\r\n")
        body.writeBytes(WAV.encode(WAV.Audio(sampleRate: sampleRate, channels: 1, samples: samples)))
        body.writeString("\r\n--\(boundary)--\r\n")
        var request = HTTPClientRequest(url: configuration.baseURL + "/audio/transcriptions")
        request.method = .POST
        request.headers = headers("multipart/form-data; boundary=\(boundary)")
        request.body = .bytes(body)
        let response = try await client.execute(request, timeout: .seconds(30))
        let reply = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw SpeechServiceError("speech-to-text answered \(response.status.code): \(String(buffer: reply).prefix(200))")
        }
        // `json` answers {"text": …}; a server that ignores response_format may answer text.
        if let json = try? JSONDecoder().decode(JSONValue.self, from: Data(reply.readableBytesView)), let text = json["text"]?.stringValue { return text }
        return String(buffer: reply)
    }

    public func synthesize(_ text: String, options: SpeechOptions) -> AsyncThrowingStream<[Int16], any Error> {
        let body: JSONValue = ["model": .string(options.ttsModel ?? configuration.ttsModel), "input": .string(text),
                               "voice": .string(options.voice ?? configuration.voice), "response_format": "wav"]
        var request = HTTPClientRequest(url: configuration.baseURL + "/audio/speech")
        request.method = .POST
        request.headers = headers("application/json")
        request.body = .bytes(ByteBuffer(string: body.jsonText))
        let (stream, continuation) = AsyncThrowingStream<[Int16], any Error>.makeStream()
        let task = Task { [client] in
            do {
                let response = try await client.execute(request, timeout: .seconds(30))
                guard response.status == .ok else {
                    let reply = try await response.body.collect(upTo: 1 << 16)
                    throw SpeechServiceError("text-to-speech answered \(response.status.code): \(String(buffer: reply).prefix(200))")
                }
                var decoder = WAV.StreamDecoder()
                var resampler: Resampler?
                for try await chunk in response.body {
                    let samples = try decoder.feed(Array(chunk.readableBytesView))
                    guard let rate = decoder.sampleRate, !samples.isEmpty else { continue }
                    if resampler == nil { resampler = Resampler(from: rate, to: Telephony.sampleRate) }
                    continuation.yield(resampler!.feed(samples))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
