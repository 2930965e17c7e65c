import Foundation
import SwitchboardCore
import Testing

/// Debian's baresip as the callee of a SIP call, or its caller: it auto-answers on loopback (or
/// dials), plays a WAV as its microphone, and its `sndfile` module records what it heard.
/// Installed by scripts/test.
struct BaresipPeer {
    let port: Int
    let directory: URL

    /// What baresip heard, decoded (8 kHz mono), once the call is over.
    func heard() throws -> WAV.Audio? {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix("-dec.wav") }.sorted()
        guard let file = files.last else { return nil }
        return try WAV.parse(Array(try Data(contentsOf: directory.appendingPathComponent(file))))
    }

    /// Runs baresip answering calls to `user` with `audio` (8 kHz mono) as what it says, for
    /// the duration of `body`; with `dial`, it calls that SIP URI as `user` when it starts.
    static func serve(user: String, audio: [Int16], dial: String? = nil, _ body: (BaresipPeer) async throws -> Void) async throws {
        guard let baresip = ["/usr/bin/baresip", "/usr/local/bin/baresip"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("baresip is not installed: run the tests with scripts/test, which installs Debian's baresip-core")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("baresip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("callee.wav")
        try Data(WAV.encode(WAV.Audio(sampleRate: 8_000, channels: 1, samples: audio))).write(to: source)
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...45_000)
            let rtp = Int.random(in: 46_000...60_000) / 2 * 2
            let config = """
                sip_listen 127.0.0.1:\(port)
                audio_source aufile,\(source.path)
                audio_player aufile,/dev/null
                audio_srate 8000
                audio_channels 1
                rtp_ports \(rtp)-\(rtp + 20)
                module_path /usr/lib/baresip/modules
                module g711.so
                module aufile.so
                module sndfile.so
                module_app account.so
                module_app menu.so
                snd_path \(directory.path)
                """
            try config.write(to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
            try "<sip:\(user)@127.0.0.1:\(port)>;regint=0;answermode=auto\n"
                .write(to: directory.appendingPathComponent("accounts"), atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: baresip)
            process.arguments = ["-f", directory.path, "-t", "120"] + (dial.map { ["-e", "/dial \($0)"] } ?? [])
            process.currentDirectoryURL = directory
            process.standardInput = FileHandle.nullDevice
            // Its log stays beside its recordings while the test runs, for a failure to be read.
            let logPath = directory.appendingPathComponent("baresip.log").path
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = FileHandle(forWritingAtPath: logPath) ?? FileHandle.nullDevice
            process.standardOutput = log
            process.standardError = log
            try process.run()
            try await Task.sleep(for: .milliseconds(500))
            guard process.isRunning else { continue }
            do {
                try await body(BaresipPeer(port: port, directory: directory))
            } catch {
                await stop(process)
                throw error
            }
            await stop(process)
            return
        }
        Issue.record("baresip did not start on any of 5 ports")
    }

    /// SIGINT asks baresip to hang up and quit (it closes its recordings); SIGKILL if it lingers.
    private static func stop(_ process: Process) async {
        kill(process.processIdentifier, SIGINT)
        for _ in 0..<30 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// `text` as espeak-ng says it, at 8 kHz (sox converts it, as a telephone would hear it).
    static func speech(_ text: String, voice: String = "en-us", wordsPerMinute: Int = 175) throws -> [Int16] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("espeak-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let raw = directory.appendingPathComponent("speech.wav").path, narrow = directory.appendingPathComponent("speech-8k.wav").path
        try run("/usr/bin/espeak-ng", ["-v", voice, "-s", "\(wordsPerMinute)", "-w", raw, "--", text])
        try run("/usr/bin/sox", [raw, "-r", "8000", "-c", "1", "-b", "16", narrow])
        return try WAV.parse(Array(try Data(contentsOf: URL(fileURLWithPath: narrow)))).samples
    }

    static func silence(_ seconds: Double) -> [Int16] { [Int16](repeating: 0, count: Int(seconds * 8_000)) }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SpeechServiceError("\(executable) failed (\(process.terminationStatus))") }
    }
}
