import Agents
import ArgumentParser
import Foundation
import Logging
import SwitchboardCore
import TelephonySIP
import Voice

extension Bench {
    /// `switchboard bench calls --concurrent N`: N answered SIP calls at once against SIPp on
    /// loopback (its built-in UAS, echoing our RTP back), each held by the voice pipeline for
    /// `--seconds`: the agent's greeting comes back as the callee's speech, is endpointed,
    /// transcribed, answered and spoken, turn after turn. The speech services and the language
    /// model answer in-process at once, so the latency is the pipeline's own. Barge-in is off:
    /// an echo is the agent's own voice.
    struct Calls: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Holds N simultaneous SIP calls through the voice pipeline against SIPp (RTP echo); reports CPU, late frames, turn latency.")
        @Option(help: "Simultaneous calls.") var concurrent = 200
        @Option(help: "How long each call lasts once answered, in seconds.") var seconds = 20
        @Option(help: "The UDP ports for our RTP.") var rtpPorts = "30000-34000"

        func run() async throws {
            let logger = { var logger = Logger(label: "bench"); logger.logLevel = ProcessInfo.processInfo.environment["BENCH_DEBUG"] == nil ? .warning : .debug; return logger }()
            let bounds = rtpPorts.split(separator: "-").compactMap { Int($0) }
            guard bounds.count == 2 else { throw ValidationError("--rtp-ports must be a range such as 30000-34000") }
            let sipp = try SIPpUAS.start()
            defer { sipp.stop() }

            let results = Locked<[VoiceCallResult]>([])
            let tone = BenchSpeech()
            let dialogue = CallDialogue(agent: ConversationAgent(model: BenchModel()),
                                        profile: AgentProfile(name: "Bench", channel: .voice, prompt: "Benchmark."), lead: [:],
                                        greeting: "Hello, this is the benchmark calling.")
            let settings = { var settings = VoicePipelineSettings(); settings.bargeIn = false; return settings }()
            let sip = SIPProvider(bindHost: "127.0.0.1", rtpPorts: RTPPorts(bounds[0]...bounds[1]), clock: SystemClock(), logger: logger) { request, transport in
                let call = VoiceCall(dialogue: dialogue, speech: SpeechServices(stt: tone, tts: tone), settings: settings,
                                     maxDuration: request.maxDuration, recordingPath: nil, clock: SystemClock(), logger: logger)
                let result = await call.run(transport)
                results.withLock { $0.append(result) }
                return result.end
            }
            let before = cpuSeconds()
            let started = Date()
            let outcomes = await withTaskGroup(of: DialResult.self) { group in
                for index in 0..<concurrent {
                    group.addTask {
                        await sip.dial(DialRequest(attemptID: Int64(index + 1), callID: "bench-\(index)", attemptNumber: 1, from: "+15550000000",
                                                   to: "+1555\(String(format: "%07d", index))", dialAt: Date(),
                                                   settings: ["host": "127.0.0.1", "port": .number(Double(sipp.port))],
                                                   ringTimeout: 10, maxDuration: TimeInterval(seconds), fields: [:]))
                    }
                }
                var outcomes: [DialResult] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let wall = Date().timeIntervalSince(started)
            let cpu = cpuSeconds() - before
            let calls = results.withLock { $0 }
            let frames = calls.reduce(0) { $0 + $1.frames }
            let late = calls.reduce(0) { $0 + $1.lateFrames }
            let turns = calls.flatMap(\.turnLatencies), own = calls.flatMap(\.pipelineLatencies)
            let answered = outcomes.filter { $0.outcome == .completed }.count
            print("switchboard bench calls: \(concurrent) concurrent SIP calls of \(seconds) s against SIPp (RTP echo), \(answered) answered")
            print(String(format: "  wall %.1f s; CPU %.1f s = %.2f%% of a core per call (%.0f%% of one core in all)",
                         wall, cpu, cpu / Double(max(1, answered)) / Double(seconds) * 100, cpu / wall * 100))
            print(String(format: "  frames %d, late %d (%.3f%%)", frames, late, Double(late) / Double(max(1, frames)) * 100))
            print(String(format: "  turns %d; latency to first agent frame p50 %.1f ms, p95 %.1f ms; the pipeline's own p50 %.1f ms, p95 %.1f ms",
                         turns.count, percentile(turns, 0.5), percentile(turns, 0.95), percentile(own, 0.5), percentile(own, 0.95)))
            if answered < concurrent {
                let reasons = Dictionary(grouping: outcomes.filter { $0.outcome != .completed }, by: { $0.detail ?? $0.outcome.rawValue })
                for (reason, failed) in reasons { print("  not answered: \(failed.count) × \(reason)") }
            }
            await sip.shutdown()
        }

        func percentile(_ values: [Double], _ p: Double) -> Double {
            CallMedia.Latency(values).map { p >= 0.95 ? $0.p95 : $0.p50 } ?? 0
        }

        func cpuSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
            return seconds(usage.ru_utime) + seconds(usage.ru_stime)
        }
    }
}

/// Speech services that answer at once: a tone for every text, "hello" for every utterance.
struct BenchSpeech: SpeechToText, TextToSpeech {
    func transcribe(_ samples: [Int16], sampleRate: Int, options: SpeechOptions) async throws -> String { "Hello, tell me more." }

    func synthesize(_ text: String, options: SpeechOptions) -> AsyncThrowingStream<[Int16], any Error> {
        let samples = (0..<(320 * text.count)).map { Int16(6_000 * sin(2 * .pi * 440 * Double($0) / 8_000)) }
        return AsyncThrowingStream { continuation in
            continuation.yield(samples)
            continuation.finish()
        }
    }
}

/// A language model that always says the same.
struct BenchModel: LanguageModel {
    func complete(_ messages: [ChatMessage], tools: [ToolSpec], jsonObject: Bool) async throws -> ChatReply {
        ChatReply(content: "Thanks. Our plans start at ten dollars a month.")
    }
}

/// SIPp's built-in UAS on loopback, echoing RTP (`-rtp_echo`), for as long as the bench runs.
struct SIPpUAS {
    let process: Process
    let port: Int

    static func start() throws -> SIPpUAS {
        guard let sipp = ["/usr/bin/sipp", "/usr/local/bin/sipp"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ValidationError("sipp is not installed (apt-get install sip-tester)")
        }
        let port = Int.random(in: 20_000...29_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sipp)
        process.arguments = ["-sn", "uas", "-i", "127.0.0.1", "-p", "\(port)", "-rtp_echo", "-mp", "\(port + 2)", "-nostdin", "-max_socket", "10000"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        try process.run()
        Thread.sleep(forTimeInterval: 0.5)
        guard process.isRunning else { throw ValidationError("sipp did not start on port \(port)") }
        return SIPpUAS(process: process, port: port)
    }

    /// SIPp answers SIGTERM by waiting for its calls: SIGKILL.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
