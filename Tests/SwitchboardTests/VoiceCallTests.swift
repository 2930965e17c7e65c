import Agents
import Foundation
import Logging
import SwitchboardCore
import Testing
import Voice

extension RealTimeVoice {
    /// The voice pipeline over a transport in memory: the callee's audio is a script of frames
    /// (one a tick), and what the agent sends is kept. Speech services are fakes that speak in
    /// tones: text-to-speech answers 40 ms of a 1 kHz tone per character, speech-to-text answers
    /// from a script and keeps what it was given.
    @Suite struct VoiceCallTests {
        final class ScriptedLine: VoiceTransport {
            private let state: Locked<(script: [[Int16]], tick: Int, sent: [[Int16]?], cleared: Int, hungUp: Bool)>
            let digits: [Int: Character]
            init(_ callee: [Int16], digits: [Int: Character] = [:]) {
                state = Locked((Telephony.frames(callee), 0, [], 0, false))
                self.digits = digits
            }
            func receive() -> TransportInput {
                state.withLock { state in
                    defer { state.tick += 1 }
                    return TransportInput(frame: state.tick < state.script.count ? state.script[state.tick] : Telephony.silence,
                                          digits: digits[state.tick].map { [$0] } ?? [])
                }
            }
            func send(_ frame: [Int16]?) { state.withLock { $0.sent.append(frame) } }
            func clear() { state.withLock { $0.cleared += 1 } }
            func hangUp() async { state.withLock { $0.hungUp = true } }
            var sent: [[Int16]?] { state.withLock { $0.sent } }
            var cleared: Int { state.withLock { $0.cleared } }
            var hungUp: Bool { state.withLock { $0.hungUp } }
        }

        struct ToneSpeech: TextToSpeech, SpeechToText {
            let heard: Locked<[String]>
            let answers: [String]
            func synthesize(_ text: String, options: SpeechOptions) -> AsyncThrowingStream<[Int16], any Error> {
                AsyncThrowingStream { continuation in
                    continuation.yield(tone(1_000, seconds: 0.04 * Double(text.count)))
                    continuation.finish()
                }
            }
            func transcribe(_ samples: [Int16], sampleRate: Int, options: SpeechOptions) async throws -> String {
                heard.withLock { heard in
                    heard.append("\(samples.count / 80)")
                    return heard.count <= answers.count ? answers[heard.count - 1] : ""
                }
            }
        }

        struct Model: LanguageModel {
            func complete(_ messages: [ChatMessage], tools: [ToolSpec], jsonObject: Bool) async throws -> ChatReply {
                let last = messages.last?.content ?? ""
                if last.contains("5000") || last.contains("pressed 5") {
                    return ChatReply(content: "Thanks, goodbye!", toolCalls: [ToolCall(id: "1", name: "end_conversation", arguments: "{}")])
                }
                return ChatReply(content: "Sure. Our panels come in three sizes and every one of them has a warranty of twenty five years.")
            }
        }

        static func silence(_ seconds: Double) -> [Int16] { [Int16](repeating: 0, count: Int(seconds * 8_000)) }

        static func tone(_ frequency: Double, seconds: Double) -> [Int16] {
            (0..<Int(seconds * 8_000)).map { Int16(6_000 * sin(2 * .pi * frequency * Double($0) / 8_000)) }
        }

        func call(_ callee: [Int16], answers: [String], digits: [Int: Character] = [:], recording: String? = nil)
            async -> (VoiceCallResult, ScriptedLine, [String]) {
            let speech = ToneSpeech(heard: Locked([]), answers: answers)
            let dialogue = CallDialogue(agent: ConversationAgent(model: Model()),
                                        profile: AgentProfile(name: "Ada", channel: .voice, prompt: "Sell solar."), lead: [:],
                                        greeting: "Hello, this is Ada.")
            var settings = VoicePipelineSettings()
            settings.endSilenceMilliseconds = 400
            let line = ScriptedLine(callee, digits: digits)
            let voice = VoiceCall(dialogue: dialogue, speech: SpeechServices(stt: speech, tts: speech), settings: settings, maxDuration: 20,
                                  recordingPath: recording, clock: SystemClock(), logger: Logger(label: "test"))
            let result = await voice.run(line)
            return (result, line, speech.heard.withLock { $0 })
        }

        @Test func greetsListensAnswersAndHangsUpWhenTheAgentEndsIt() async throws {
            // Greeting: 19 characters, 0.76 s. The callee answers after it, once.
            let callee = Self.silence(1.5) + Self.tone(300, seconds: 0.8) + Self.silence(8)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("voice-\(UUID().uuidString).wav").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (result, line, heard) = await call(callee, answers: ["About 5000 dollars."], recording: path)
            #expect(result.transcript.map(\.role) == [.agent, .user, .agent])
            #expect(result.transcript.map(\.content) == ["Hello, this is Ada.", "About 5000 dollars.", "Thanks, goodbye!"])
            #expect(result.endedByAgent && line.hungUp)
            #expect(result.ended == "conversation ended by the agent")
            // The utterance went to speech-to-text whole: 0.8 s and the 0.4 s that ended it (in 10 ms units).
            #expect(heard.count == 1 && abs((Int(heard[0]) ?? 0) - 120) <= 4)
            // One turn measured; the fakes answer at once, so it is the pipeline's own time.
            #expect(result.turnLatencies.count == 1)
            #expect((result.pipelineLatencies.first ?? 999) < 100)
            // The agent's audio went out every tick it spoke: greeting plus the goodbye.
            let spoken = line.sent.compactMap { $0 }.count
            #expect(abs(spoken - (38 + 32)) <= 2)
            let recording = try WAV.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            #expect(recording.channels == 2 && recording.sampleRate == 8_000)
            #expect(Telephony.rms(recording.channel(0)) > 500) // the callee, left
            #expect(Telephony.rms(recording.channel(1)) > 500) // the agent, right
            #expect(abs(Double(recording.samples.count / 2) / 8_000 - result.recordingSeconds) < 0.05)
        }

        @Test func calleeSpeechOverTheAgentStopsItAndKeepsWhatWasHeard() async {
            // The first answer draws a 4 s reply; the callee speaks 1 s into it.
            let callee = Self.silence(1.5) + Self.tone(300, seconds: 0.6) + Self.silence(1.5) + Self.tone(300, seconds: 0.8) + Self.silence(8)
            let (result, line, _) = await call(callee, answers: ["Tell me more.", "About 5000 dollars."])
            #expect(result.transcript.map(\.role) == [.agent, .user, .agent, .user, .agent])
            let cut = result.transcript[2]
            #expect(cut.interrupted == true)
            #expect(cut.content.hasPrefix("Sure."))
            #expect(cut.content.count < "Sure. Our panels come in three sizes and every one of them has a warranty of twenty five years.".count)
            #expect(line.cleared >= 1)
            #expect(result.transcript.last?.content == "Thanks, goodbye!")
        }

        @Test func aKeyPressedIsATurn() async {
            // The key at 1.5 s, after the greeting: the agent answers it and ends the call.
            let (result, _, heard) = await call(Self.silence(6), answers: [], digits: [75: "5"])
            #expect(result.transcript.map(\.content) == ["Hello, this is Ada.", "(pressed 5 on the keypad)", "Thanks, goodbye!"])
            #expect(heard.isEmpty)
        }

        @Test func espeakSpeaksWithoutAnyService() async throws {
            guard let espeak = EspeakSpeech.installed() else {
                Issue.record("espeak-ng is not installed: run the tests with scripts/test, which installs it")
                return
            }
            var samples: [Int16] = []
            for try await chunk in espeak.synthesize("Hello, this is Acme.", options: SpeechOptions()) { samples += chunk }
            // About a second of speech at 8 kHz, and loud.
            #expect((4_000...24_000).contains(samples.count), "\(samples.count) samples")
            #expect(Telephony.rms(samples) > 500)
            // An agent's voice is a speech service's (`alloy`): espeak-ng keeps its own.
            var other: [Int16] = []
            for try await chunk in espeak.synthesize("Hello.", options: SpeechOptions(voice: "alloy")) { other += chunk }
            #expect(!other.isEmpty)
        }
    }
}
