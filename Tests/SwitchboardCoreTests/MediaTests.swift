import Foundation
import SwitchboardCore
import Testing

/// A tone at `frequency` Hz, `seconds` long, at `rate`.
func tone(_ frequency: Double, seconds: Double, rate: Int = 8_000, amplitude: Double = 8_000) -> [Int16] {
    (0..<Int(seconds * Double(rate))).map { Int16(amplitude * sin(2 * .pi * frequency * Double($0) / Double(rate))) }
}

@Suite struct JitterBufferTests {
    @Test func reordersWaitsForItsDepthAndCountsLosses() {
        var buffer = JitterBuffer<Int>(depth: 2)
        buffer.insert(sequence: 10, 10)
        #expect(buffer.pop() == nil) // filling
        buffer.insert(sequence: 12, 12)
        buffer.insert(sequence: 11, 11)
        #expect(buffer.pop() == 10)
        #expect(buffer.pop() == 11)
        #expect(buffer.pop() == 12)
        buffer.insert(sequence: 11, 11) // late: already played
        #expect(buffer.late == 1)
        buffer.insert(sequence: 14, 14)
        buffer.insert(sequence: 15, 15)
        #expect(buffer.pop() == nil) // 13 was lost
        #expect(buffer.lost == 1)
        #expect(buffer.pop() == 14)
    }

    @Test func followsTheSequenceAcrossItsWrap() {
        var buffer = JitterBuffer<UInt16>(depth: 1)
        for sequence: UInt16 in [65_534, 65_535, 0, 1] { buffer.insert(sequence: sequence, sequence) }
        #expect((0..<4).map { _ in buffer.pop() } == [65_534, 65_535, 0, 1])
    }
}

@Suite struct VoiceActivityTests {
    @Test func aPhraseBetweenSilencesIsOneUtterance() {
        var vad = VoiceActivityDetector(endSilenceMilliseconds: 400, startMilliseconds: 60)
        let audio = [Int16](repeating: 0, count: 8_000) + tone(300, seconds: 1) + [Int16](repeating: 0, count: 8_000)
        var events: [VoiceActivityDetector.Event] = []
        for frame in Telephony.frames(audio) { if let event = vad.process(frame) { events.append(event) } }
        #expect(events.count == 2)
        #expect(events.first == .speechStarted)
        guard case .utterance(let samples)? = events.last else { Issue.record("no utterance"); return }
        // The second of speech and the 400 ms of silence that ended it.
        #expect(abs(samples.count - 11_200) <= 320)
    }

    @Test func clicksAndQuietLinesAreNotSpeech() {
        var vad = VoiceActivityDetector(startMilliseconds: 100)
        let audio = tone(300, seconds: 0.04) + [Int16](repeating: 0, count: 4_000) + tone(300, seconds: 1, amplitude: 100)
        #expect(Telephony.frames(audio).compactMap { vad.process($0) }.isEmpty)
    }
}

@Suite struct AudioFormatTests {
    @Test func resamplingKeepsPitchAndLengthInChunksAsAtOnce() {
        let source = tone(440, seconds: 1, rate: 24_000)
        let once = Resampler.resample(source, from: 24_000, to: 8_000)
        #expect(once.count == 8_000)
        var stream = Resampler(from: 24_000, to: 8_000)
        var chunked: [Int16] = []
        for start in stride(from: 0, to: source.count, by: 1_001) { chunked += stream.feed(Array(source[start..<min(start + 1_001, source.count)])) }
        #expect(chunked == once)
        // Zero crossings: 440 Hz has 880 a second, whatever the rate.
        let crossings = zip(once, once.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
        #expect(abs(crossings - 880) <= 4)
        #expect(Resampler.resample(tone(440, seconds: 1, rate: 22_050), from: 22_050, to: 8_000).count == 8_000)
        // Going up, the last input sample waits for a next one that a stream may still bring.
        #expect(abs(Resampler.resample(tone(440, seconds: 1), from: 8_000, to: 16_000).count - 16_000) <= 2)
    }

    @Test func wavRoundTripsAndStreamsInAnyChunks() throws {
        let audio = WAV.Audio(sampleRate: 24_000, channels: 1, samples: tone(440, seconds: 0.1, rate: 24_000))
        let bytes = WAV.encode(audio)
        #expect(try WAV.parse(bytes) == audio)
        var decoder = WAV.StreamDecoder()
        var samples: [Int16] = []
        for start in stride(from: 0, to: bytes.count, by: 7) { samples += try decoder.feed(Array(bytes[start..<min(start + 7, bytes.count)])) }
        #expect(decoder.sampleRate == 24_000)
        #expect(samples == audio.samples)
        // A stereo file streams its first channel.
        let stereo = WAV.Audio(sampleRate: 8_000, channels: 2, samples: [1, -1, 2, -2, 3, -3])
        var second = WAV.StreamDecoder()
        #expect(try second.feed(WAV.encode(stereo)) == [1, 2, 3])
        #expect(stereo.channel(1) == [-1, -2, -3])
        #expect(throws: WAV.ParseError.notWAV) { try WAV.parse(Array("not a wav file at all".utf8)) }
    }
}

@Suite struct SDPTests {
    @Test func readsTheCalleesAddressPortAndLaw() throws {
        let answer = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8 101\r\n"
            + "c=IN IP4 10.0.0.10\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        #expect(try SDP.parseAnswer(answer) == SDP.Answer(host: "10.0.0.10", port: 30_000, law: .aLaw, telephoneEventType: 101))
        let plain = "v=0\nc=IN IP4 127.0.0.1\nm=audio 4000 RTP/AVP 0\n"
        #expect(try SDP.parseAnswer(plain) == SDP.Answer(host: "127.0.0.1", port: 4_000, law: .muLaw, telephoneEventType: nil))
        #expect(throws: SDP.AnswerError.noCommonCodec("9")) { try SDP.parseAnswer("c=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 9\n") }
        #expect(throws: SDP.AnswerError.noAudio) { try SDP.parseAnswer("c=IN IP4 1.2.3.4\n") }
        let offer = SDP.offer(host: "192.0.2.1", port: 10_002, session: 7)
        #expect(offer.contains("m=audio 10002 RTP/AVP 0 8 101\r\n"))
        #expect(offer.contains("c=IN IP4 192.0.2.1\r\n"))
    }

    @Test func aHeldKeyIsOneDigit() {
        var events = TelephoneEvents()
        func packet(_ event: UInt8, end: Bool, timestamp: UInt32) -> RTPPacket {
            RTPPacket(payloadType: 101, sequenceNumber: 1, timestamp: timestamp, ssrc: 1, payload: [event, end ? 0x8A : 0x0A, 0x03, 0x20])
        }
        #expect(events.digit(from: packet(5, end: false, timestamp: 800)) == nil)
        #expect(events.digit(from: packet(5, end: true, timestamp: 800)) == "5")
        #expect(events.digit(from: packet(5, end: true, timestamp: 800)) == nil) // the end, resent
        #expect(events.digit(from: packet(11, end: true, timestamp: 1_600)) == "#")
    }
}

@Suite struct SentencesTests {
    @Test func repliesAreSpokenASentenceAtATime() {
        #expect(Sentences.split("Hello there. How are you? Fine!") == ["Hello there.", "How are you?", "Fine!"])
        #expect(Sentences.split("No stop at the end") == ["No stop at the end"])
        #expect(Sentences.prefix("one two three four", fraction: 0.5) == "one two")
        #expect(Sentences.prefix("one two three four", fraction: 0) == "")
    }
}
