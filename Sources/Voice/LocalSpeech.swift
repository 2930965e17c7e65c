import Foundation
import SwitchboardCore

/// Text to speech without any service: espeak-ng (`apt-get install espeak-ng`), run once per
/// sentence. Robotic, but a SIP call speaks its greeting and replies with nothing configured.
public struct EspeakSpeech: TextToSpeech {
    public let executable: String
    /// espeak-ng's voice (`en`, `en-us`, `fr`…).
    public let voice: String

    /// Finds espeak-ng on the PATH; nil when it is not installed.
    public static func installed(voice: String = "en-us", environment: [String: String] = ProcessInfo.processInfo.environment) -> EspeakSpeech? {
        let paths = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in paths {
            let candidate = "\(directory)/espeak-ng"
            if FileManager.default.isExecutableFile(atPath: candidate) { return EspeakSpeech(executable: candidate, voice: voice) }
        }
        return nil
    }

    public init(executable: String, voice: String) {
        self.executable = executable
        self.voice = voice
    }

    public func synthesize(_ text: String, options: SpeechOptions) -> AsyncThrowingStream<[Int16], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[Int16], any Error>.makeStream()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // An agent's `voice` names a speech service's voice (`alloy`), not one of espeak-ng's:
        // espeak-ng speaks with its own, and the text is one argument, never through a shell.
        process.arguments = ["--stdout", "-v", voice, "--", text]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let task = Task.detached {
            do {
                try process.run()
                // espeak-ng writes its WAV to a pipe with unknown sizes; read to the end.
                let bytes = try output.fileHandleForReading.readToEnd() ?? Data()
                process.waitUntilExit()
                let audio = try WAV.parse(Array(bytes))
                continuation.yield(Resampler.resample(audio.mono, from: audio.sampleRate, to: Telephony.sampleRate))
                continuation.finish()
            } catch {
                continuation.finish(throwing: SpeechServiceError("espeak-ng failed: \(error)"))
            }
        }
        continuation.onTermination = { _ in
            task.cancel()
            if process.isRunning { process.terminate() }
        }
        return stream
    }
}
