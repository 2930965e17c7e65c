import Foundation
import Hummingbird
import SwitchboardAPI
import SwitchboardCore
import Testing
@testable import SwitchboardServer
import Voice

/// The tests that hold calls in real time (20 ms ticks, real peers, real sockets): one at a
/// time, so they do not starve each other of this machine's two cores and fail on timing.
@Suite(.serialized) enum RealTimeVoice {}

extension RealTimeVoice {
    /// Our voice pipeline against real peers: baresip answering a SIP trunk call with espeak-ng's
    /// speech, the speech services and the language model faked at their wire formats.
    @Suite struct VoicePipelineTests {
        static let reply = "Sure. Our panels come in three sizes, and every one of them carries a warranty of twenty five years."

        static func model(_ call: FakeLLM.Call) -> JSONValue {
            if call.wantsJSON { return FakeLLM.text(#"{"budget": "5000", "lead_outcome": "qualified"}"#) }
            if call.lastLead.contains("5000") { return FakeLLM.tool("end_conversation", ["outcome": "qualified"], content: "Thanks, goodbye!") }
            return FakeLLM.text(reply)
        }

        /// The agent's words are 1 kHz tones, 40 ms a character: the greeting lasts about a second,
        /// the long reply four. The callee asks for a quote after the greeting, and names a budget
        /// three seconds after asking, over the long reply (baresip plays a fixed file, so the gap
        /// leaves the reply 2.5 s to start on a loaded machine and still be talked over).
        @Test func aSIPCallTalksListensIsCutOffAndIsRecorded() async throws {
            let lead = "+15175550101"
            let callee = BaresipPeer.silence(2.5) + (try BaresipPeer.speech("I want a quote.")) + BaresipPeer.silence(3)
                + (try BaresipPeer.speech("About five thousand dollars.")) + BaresipPeer.silence(25)
            let speech = FakeSpeech(answers: ["I want a quote.", "About 5000 dollars."])
            let llm = FakeLLM(Self.model)
            try await FakeCarrier.serve(FakeSpeech.router(speech)) { speechURL in
                try await FakeCarrier.serve(FakeLLM.router(llm)) { llmURL in
                    try await BaresipPeer.serve(user: lead, audio: callee) { peer in
                        let harness = Harness(.sqlite) {
                            $0.llm = LLMConfiguration(baseURL: llmURL + "/v1", apiKey: FakeLLM.apiKey, model: "test-model")
                            $0.speech = OpenAISpeech.Configuration(baseURL: speechURL + "/v1", apiKey: FakeSpeech.apiKey)
                            $0.voice.endSilenceMilliseconds = 500
                            $0.rtpPorts = 41_000...41_100
                        }
                        let key = try await harness.key(admin: true)
                        try await harness.run(live: true) { client in
                            let number = try await client.number(key: key, [
                                "phone_number": "+15175550100", "provider": "sip_trunk",
                                "settings": ["host": "127.0.0.1", "port": .number(Double(peer.port))],
                            ])
                            let agent = try await client.post("/v1/agents", key: key, [
                                "agent_type": "voice", "agent_name": "Caller", "prompt": "You sell solar.",
                                "starting_message": "Hello {{first_name}}, this is Acme.", "extraction_fields": ["budget"],
                            ])["agent_id"]?.stringValue ?? ""
                            let campaign = try await client.campaign(key: key, agent: agent, number: number,
                                                                     leads: [["phone_number": .string(lead), "first_name": "Ann"]],
                                                                     ["max_call_duration_seconds": 60])
                            let done = try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key, seconds: 60) { $0.status_ == "completed" }
                            #expect(done.outcomes == ["completed": 1])

                            let callID = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls.first?.callId ?? ""
                            let reply = try await client.eventually("/v1/voice/calls/\(callID)", key: key, seconds: 10) {
                                $0["call"]?["recording_url"]?.stringValue != nil
                            }
                            let call = try reply.decode(Components.Schemas.CallEnvelope.self).call
                            let turns = call.transcriptObject ?? []
                            #expect(turns.map(\.role.rawValue) == ["agent", "user", "agent", "user", "agent"], "\(turns)")
                            if turns.count == 5 {
                                #expect(turns[0].content == "Hello Ann, this is Acme.")
                                #expect(turns[1].content == "I want a quote.")
                                // Cut off: only what was played before the callee spoke stays.
                                #expect(turns[2].interrupted == true)
                                #expect(turns[2].content.hasPrefix("Sure.") && turns[2].content.count < Self.reply.count, "\(turns[2].content)")
                                #expect(turns[3].content == "About 5000 dollars.")
                                #expect(turns[4].content == "Thanks, goodbye!")
                                #expect(turns.map { $0.at ?? -1 } == turns.map { $0.at ?? -1 }.sorted())
                            }
                            #expect(reply["call"]?["extracted_fields"]?["budget"] == "5000")
                            #expect(call.attempts?.first?.detail?.hasSuffix("hung up with BYE: conversation ended by the agent") == true,
                                    "\(call.attempts?.first?.detail ?? "")")
                            #expect((call.turnLatencyMs?.p50 ?? 0) > 0)

                            // The speech-to-text service got each utterance as audio: about as long as spoken, and loud.
                            let heard = await speech.heard
                            #expect(heard.count == 2)
                            for utterance in heard {
                                #expect((0.7...4).contains(utterance.seconds), "\(utterance.seconds) s")
                                #expect(utterance.rms > 300)
                                #expect(utterance.model == "whisper-1")
                            }

                            // The recording: stereo 8 kHz, the callee left and the agent right.
                            #expect(call.recordingUrl == "/v1/voice/calls/\(callID)/recording")
                            let recording = try await client.get("/v1/voice/calls/\(callID)/recording", key: key)
                            #expect(recording.status == .ok)
                            #expect(recording.headers[.contentType] == "audio/wav")
                            let wav = try WAV.parse(Array(recording.body.readableBytesView))
                            #expect(wav.channels == 2 && wav.sampleRate == 8_000)
                            #expect(Telephony.rms(wav.channel(0)) > 200)
                            #expect(Telephony.rms(wav.channel(1)) > 200)
                            #expect(ToneFinder.share(of: FakeSpeech.toneHz, in: wav.channel(1)) > 0.5)
                            #expect(abs(Double(wav.samples.count / 2) / 8_000 - (call.recordingDurationSec ?? 0)) < 0.1)
                            // Another organization's key cannot fetch it.
                            let other = try await harness.key(organization: "org_b", tenant: "tenant_b", user: "user_b", admin: true)
                            #expect(try await client.get("/v1/voice/calls/\(callID)/recording", key: other).status == .notFound)
                        }
                        // What baresip heard: the agent's tone.
                        let heard = try #require(try peer.heard(), "baresip wrote no recording of what it heard")
                        #expect(Telephony.rms(heard.samples) > 200)
                        #expect(ToneFinder.share(of: FakeSpeech.toneHz, in: heard.samples) > 0.3)
                    }
                }
            }
        }
    }

    /// Answering-machine detection and voicemail drop against baresip: playing a voicemail
    /// greeting with a beep, and a person saying hello.
    @Suite struct VoicemailDropTests {
        static let message = "Hi Ann, this is Acme about your solar quote. Please call us back."

        /// One call to baresip saying `callee`, by an agent with a voicemail message; the call as
        /// stored, and what baresip heard.
        func call(_ callee: [Int16], maxSeconds: Int) async throws -> (Components.Schemas.Call, WAV.Audio?, FakeSpeech) {
            let lead = "+15175550102"
            let speech = FakeSpeech(answers: [])
            let stored = Locked<Components.Schemas.Call?>(nil)
            let heard = Locked<WAV.Audio?>(nil)
            try await FakeCarrier.serve(FakeSpeech.router(speech)) { speechURL in
                try await BaresipPeer.serve(user: lead, audio: callee) { peer in
                    let harness = Harness(.sqlite) {
                        $0.speech = OpenAISpeech.Configuration(baseURL: speechURL + "/v1", apiKey: FakeSpeech.apiKey)
                        $0.rtpPorts = 41_200...41_400
                    }
                    let key = try await harness.key(admin: true)
                    try await harness.run(live: true) { client in
                        let number = try await client.number(key: key, [
                            "phone_number": "+15175550100", "provider": "sip_trunk", "settings": ["host": "127.0.0.1", "port": .number(Double(peer.port))],
                        ])
                        let agent = try await client.post("/v1/agents", key: key, [
                            "agent_type": "voice", "agent_name": "Caller", "prompt": "You sell solar.", "starting_message": "Hello {{first_name}}, this is Acme.",
                            "voicemail_message": "Hi {{first_name}}, this is Acme about your solar quote. Please call us back.",
                        ])["agent_id"]?.stringValue ?? ""
                        let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [["phone_number": .string(lead), "first_name": "Ann"]],
                                                                 ["max_call_duration_seconds": .number(Double(maxSeconds))])
                        try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key, seconds: 60) { $0.status_ == "completed" }
                        let callID = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls.first?.callId ?? ""
                        let call = try await client.get("/v1/voice/calls/\(callID)", key: key).decode(Components.Schemas.CallEnvelope.self).call
                        stored.withLock { $0 = call }
                    }
                    let audio = try peer.heard()
                    heard.withLock { $0 = audio }
                }
            }
            return (try #require(stored.withLock { $0 }), heard.withLock { $0 }, speech)
        }

        @Test func aMachineGetsTheMessageAfterItsBeep() async throws {
            let greeting = try BaresipPeer.speech("Hi, you have reached Ann. I cannot take your call right now. Please leave a message after the tone.")
            let beepEnds = 0.3 + Double(greeting.count) / 8_000 + 0.4
            let (call, heard, speech) = try await call(BaresipPeer.silence(0.3) + greeting + AnsweringMachineTests.beep() + BaresipPeer.silence(20),
                                                      maxSeconds: 30)
            #expect(call.outcome == "voicemail")
            let attempt = try #require(call.attempts?.first)
            #expect(attempt.voicemailLeft == true)
            #expect(attempt.detail?.hasSuffix("hung up with BYE: voicemail message left") == true, "\(attempt.detail ?? "")")
            #expect(call.transcriptObject?.map(\.content) == [Self.message])
            #expect(await speech.heard.isEmpty) // a machine's greeting is not a turn
            // What baresip heard: nothing over its greeting, the message after its beep.
            let audio = try #require(heard).samples
            let before = Array(audio.prefix(Int((beepEnds - 0.3) * 8_000)))
            let after = Array(audio.dropFirst(Int(beepEnds * 8_000)).prefix(16_000))
            #expect(Telephony.rms(before) < 100, "\(Telephony.rms(before))")
            #expect(Telephony.rms(after) > 1_000, "\(Telephony.rms(after))")
            #expect(ToneFinder.share(of: FakeSpeech.toneHz, in: after) > 0.3)
        }

        @Test func aPersonGetsTheConversation() async throws {
            let hello = try BaresipPeer.speech("Hello?")
            let (call, _, _) = try await call(BaresipPeer.silence(0.5) + hello + BaresipPeer.silence(20), maxSeconds: 6)
            #expect(call.outcome == "completed")
            #expect(call.attempts?.first?.voicemailLeft == false)
            #expect(call.transcriptObject?.first?.content == "Hello Ann, this is Acme.")
            #expect(call.transcriptObject?.contains { $0.content == Self.message } == false)
        }
    }

    /// `transfer_call` on a SIP trunk: SIPp takes the REFER and reports the transfer done in a
    /// NOTIFY, or refuses it (603) and we call the person ourselves and bridge the two calls; a
    /// person who is busy is told to the agent, which says so and carries on. A warm transfer
    /// always bridges, the person hearing the summary first. SIPp echoes our audio, so the
    /// agent's greeting comes back as the callee's first words.
    @Suite struct TransferTests {
        static func model(_ call: FakeLLM.Call) -> JSONValue {
            if call.wantsJSON { return FakeLLM.text(#"{"summary": "Transfer.", "sentiment": "neutral"}"#) }
            if call.lastLead.contains("did not go through") { return FakeLLM.tool("end_conversation", [:], content: "Sorry, nobody is free. Goodbye.") }
            return FakeLLM.tool("transfer_call", ["reason": "the lead wants a person"], content: "Connecting you now.")
        }

        func call(_ lead: String, transferTo: String = "+15175550199", mode: String = "cold") async throws
            -> (Components.Schemas.Call, [FakeLLM.Call], spoken: [String]) {
            let speech = FakeSpeech(answers: ["Can I talk to a person?", "Can I talk to a person?", "Can I talk to a person?"])
            let llm = FakeLLM(Self.model)
            let stored = Locked<Components.Schemas.Call?>(nil)
            let errors = Locked("")
            try await FakeCarrier.serve(FakeSpeech.router(speech)) { speechURL in
                try await FakeCarrier.serve(FakeLLM.router(llm)) { llmURL in
                    let log = try await SIPpTrunk.serve(scenario: "transfer", echo: true) { trunk in
                        let harness = Harness(.sqlite) {
                            $0.llm = LLMConfiguration(baseURL: llmURL + "/v1", apiKey: FakeLLM.apiKey, model: "test-model")
                            $0.speech = OpenAISpeech.Configuration(baseURL: speechURL + "/v1", apiKey: FakeSpeech.apiKey)
                            $0.voice.bargeIn = false // the echo is the agent's own voice
                            $0.voice.endSilenceMilliseconds = 300
                            $0.rtpPorts = 41_500...41_700
                        }
                        let key = try await harness.key(admin: true)
                        try await harness.run(live: true) { client in
                            let number = try await client.number(key: key, [
                                "phone_number": "+15175550100", "provider": "sip_trunk", "settings": ["host": "127.0.0.1", "port": .number(Double(trunk.port))],
                            ])
                            #expect(try await client.post("/v1/agents", key: key, ["agent_name": "x", "transfer_number": "nope"]).status == .badRequest)
                            let agent = try await client.post("/v1/agents", key: key, [
                                "agent_type": "voice", "agent_name": "Caller", "prompt": "You sell solar.", "starting_message": "Hello.",
                                "transfer_number": .string(transferTo), "transfer_mode": .string(mode),
                            ])["agent_id"]?.stringValue ?? ""
                            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [["phone_number": .string(lead)]],
                                                                     ["max_call_duration_seconds": 20])
                            try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key, seconds: 40) { $0.status_ == "completed" }
                            let callID = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls.first?.callId ?? ""
                            let call = try await client.get("/v1/voice/calls/\(callID)", key: key).decode(Components.Schemas.CallEnvelope.self).call
                            stored.withLock { $0 = call }
                        }
                    }
                    errors.withLock { $0 = log }
                }
            }
            let log = errors.withLock { $0 }
            #expect(log.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(log)")
            return (try #require(stored.withLock { $0 }), await llm.calls, await speech.spoken)
        }

        @Test func aTransferTheTrunkTakesEndsTheCallAsTransferred() async throws {
            let (call, requests, _) = try await call("+15175550101")
            #expect(call.outcome == "transferred")
            #expect(call.attempts?.first?.transferredTo == "+15175550199")
            #expect(call.attempts?.first?.detail?.hasSuffix("hung up with BYE: transferred to +15175550199") == true, "\(call.attempts?.first?.detail ?? "")")
            #expect(call.transcriptObject?.last?.content == "Connecting you now.")
            #expect(requests.first?.tools.contains("transfer_call") == true)
        }

        @Test func aTransferTheTrunkRefusesIsBridgedByUs() async throws {
            let (call, _, spoken) = try await call("+15175550777")
            #expect(call.outcome == "transferred")
            #expect(call.attempts?.first?.transferredTo == "+15175550199")
            #expect(call.attempts?.first?.detail?.hasSuffix("bridged to +15175550199; the person hung up, BYE sent") == true, "\(call.attempts?.first?.detail ?? "")")
            #expect(!spoken.contains { $0.hasPrefix("A call from") }, "a cold transfer says nothing to the person")
        }

        @Test func aWarmTransferTellsThePersonFirst() async throws {
            let (call, requests, spoken) = try await call("+15175550101", mode: "warm")
            #expect(call.outcome == "transferred")
            #expect(call.attempts?.first?.detail?.contains("bridged to +15175550199") == true, "\(call.attempts?.first?.detail ?? "")")
            #expect(spoken.contains("A call from +15175550101, handed over by Caller."), "\(spoken)")
            #expect(requests.first?.body["tools"]?.arrayItems?.contains { $0["function"]?["name"] == "transfer_call" && $0["function"]?["parameters"]?["required"] == ["summary"] } == true)
        }

        @Test func aTransferNobodyTakesReturnsToTheAgent() async throws {
            let (call, _, _) = try await call("+15175550777", transferTo: "+15175550198")
            #expect(call.outcome == "completed")
            let said = call.transcriptObject?.map(\.content) ?? []
            #expect(said.contains("Connecting you now.") && said.last == "Sorry, nobody is free. Goodbye.", "\(said)")
            #expect(call.attempts?.first?.detail?.hasSuffix("conversation ended by the agent") == true, "\(call.attempts?.first?.detail ?? "")")
        }
    }
}
