import Foundation
import SwitchboardCore
import Testing

/// Answering-machine detection on a labelled set made here: espeak-ng's voices and speeds
/// saying voicemail greetings (with and without a beep) and the short answers people give.
@Suite struct AnsweringMachineTests {
    static let greetings = [
        "Hi, you have reached John Smith. I cannot take your call right now, please leave a message after the tone.",
        "The person you are calling is not available. Please leave your message after the beep.",
        "Hello, this is Maria. Sorry I missed your call. Leave your name and number and I will call you back.",
        "You have reached the offices of Acme Solar. Our hours are nine to five, Monday to Friday. Please leave a message.",
        "Welcome to the voice mailbox of five one seven, five five five, zero one zero one. Please record your message.",
        "Hey, it is Dave. I am away from my phone, leave me a message and I will get back to you.",
        "Thank you for calling. Nobody is available to take your call. Please leave a message.",
        "You have reached the voicemail of doctor Patel. If this is an emergency, hang up and dial nine one one.",
    ]
    static let answers = [
        "Hello?", "Hi.", "Yes?", "Hello, who is this?", "Speaking.", "Hi, this is Ann.", "Yeah, hello?", "Good afternoon.",
        "Hello, Ann speaking.", "Who is calling?", "Hey.", "Yes, hello?",
    ]
    static let voices = [("en-us", 175), ("en-gb", 160), ("en-us+f3", 190), ("en-gb+m3", 150)]

    static func beep() -> [Int16] {
        (0..<3_200).map { Int16(9_000 * sin(2 * .pi * 1_000 * Double($0) / 8_000)) }
    }

    static func classify(_ audio: [Int16]) -> AnsweringMachineDetector.Verdict {
        var detector = AnsweringMachineDetector()
        for frame in Telephony.frames(audio) { if let verdict = detector.process(frame) { return verdict } }
        return .human
    }

    @Test func tellsMachinesFromPeopleOnALabelledSet() throws {
        var samples: [(label: AnsweringMachineDetector.Verdict, audio: [Int16], name: String)] = []
        for (index, text) in Self.greetings.enumerated() {
            let (voice, speed) = Self.voices[index % Self.voices.count]
            let speech = try BaresipPeer.speech(text, voice: voice, wordsPerMinute: speed)
            let lead = BaresipPeer.silence(0.2 + 0.1 * Double(index % 4))
            samples.append((.machine, lead + speech + Self.beep() + BaresipPeer.silence(3), "machine+beep: \(text)"))
            samples.append((.machine, lead + speech + BaresipPeer.silence(3), "machine: \(text)"))
        }
        for (index, text) in Self.answers.enumerated() {
            for (voice, speed) in [Self.voices[index % 4], Self.voices[(index + 1) % 4]] {
                let speech = try BaresipPeer.speech(text, voice: voice, wordsPerMinute: speed)
                samples.append((.human, BaresipPeer.silence(0.3 + 0.2 * Double(index % 3)) + speech + BaresipPeer.silence(5), "human: \(text) (\(voice))"))
            }
        }
        let wrong = samples.filter { Self.classify($0.audio) != $0.label }.map(\.name)
        let accuracy = Double(samples.count - wrong.count) / Double(samples.count)
        let humans = samples.filter { $0.label == .human }.count
        let humansAsMachines = wrong.filter { $0.hasPrefix("human") }.count
        print("answering-machine detection: \(samples.count - wrong.count) of \(samples.count) right (\(String(format: "%.1f", accuracy * 100))%); "
              + "people taken for machines: \(humansAsMachines) of \(humans)")
        #expect(accuracy >= 0.95, "wrong: \(wrong)")
    }

    @Test func aBeepIsAToneNotSpeech() throws {
        var detector = BeepDetector()
        #expect(Telephony.frames(Self.beep()).contains { detector.process($0) })
        var speech = BeepDetector()
        #expect(!Telephony.frames(try BaresipPeer.speech("Please leave a message after the tone.")).contains { speech.process($0) })
    }
}
