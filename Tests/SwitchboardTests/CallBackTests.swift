import Foundation
import HTTPTypes
import HummingbirdWSClient
import HummingbirdWSTesting
import SwitchboardAPI
import SwitchboardCore
@testable import SwitchboardServer
import Testing
import Voice

extension RealTimeVoice {
    /// A lead calls one of our numbers back: the carrier's incoming-call webhook, then its media
    /// socket, as Twilio and Vobiz send them.
    @Suite struct CallBackTests {
        typealias Streams = MediaStreamsTests

        /// Twilio's incoming-call webhook, signed with the number's auth token.
        static func twilioIncomingCall(_ client: Client, from: String, to: String, sid: String) async throws -> Client.Reply {
            let form = [("AccountSid", FakeTwilio.accountSID), ("CallSid", sid), ("From", from), ("To", to),
                        ("CallStatus", "ringing"), ("Direction", "inbound")]
            var headers = HTTPFields()
            headers[.contentType] = "application/x-www-form-urlencoded"
            headers[HTTPField.Name("X-Twilio-Signature")!] = FakeTwilio.signature(url: Streams.publicURL + "/v1/telephony/twilio/voice", form: form)
            return try await client.request(.post, "/v1/telephony/twilio/voice", key: nil, raw: FormURLEncoded.encode(form), headers: headers)
        }

        /// Ann did not answer the campaign's call and waits for her retry; she calls back, hears
        /// the agent's call-back greeting, talks, and is not dialled again: her campaign
        /// completes. The agent was told she is calling back, with the earlier call.
        @Test func aLeadWhoCallsBackIsAnsweredByTheCampaignsAgent() async throws {
            let llm = FakeLLM { call in
                if call.wantsJSON { return FakeLLM.text(#"{"summary": "Ann called back.", "sentiment": "positive"}"#) }
                return FakeLLM.tool("end_conversation", ["outcome": "qualified"], content: "Great, an adviser will call you tomorrow.")
            }
            let speech = FakeSpeech(answers: ["I missed your call, I want a quote."])
            try await FakeCarrier.serve(FakeSpeech.router(speech)) { speechURL in
                try await FakeCarrier.serve(FakeLLM.router(llm)) { llmURL in
                    let harness = Harness(.sqlite) { Streams.configure(&$0, speechURL: speechURL, llmURL: llmURL) }
                    let key = try await harness.key(admin: true)
                    try await harness.run(live: true) { client in
                        let fake = FakeCarrier(publicURL: Streams.publicURL, scripts: [
                            "0101": CarrierScript(callbacks: [[("CallStatus", "no-answer")]]),
                        ])
                        try await FakeCarrier.serve(FakeTwilio.router(fake, deliver: TwilioConversationTests.deliver(client))) { baseURL in
                            let ours = TwilioConversationTests.ours, ann = TwilioConversationTests.ann
                            let number = try await client.number(key: key, [
                                "phone_number": .string(ours), "provider": "twilio", "calls_per_second": 0,
                                "settings": ["account_sid": .string(FakeTwilio.accountSID), "auth_token": .string(FakeTwilio.authToken),
                                             "api_base_url": .string(baseURL), "voice_transport": "media_streams"],
                            ])
                            let agent = try await client.post("/v1/agents", key: key, [
                                "agent_type": "voice", "agent_name": "Caller", "prompt": "You sell solar.",
                                "starting_message": "Hello {{first_name}}, this is Acme.",
                                "inbound_message": "Hi {{first_name}}, thanks for calling Acme back.",
                            ])["agent_id"]?.stringValue ?? ""
                            let campaign = try await client.campaign(key: key, agent: agent, number: number,
                                                                     leads: [["phone_number": .string(ann), "first_name": "Ann"]],
                                                                     ["redial_enabled": true, "redial_config": ["retry_limit": 3, "call_interval_seconds": 3600]])
                            try await client.eventually("/v1/voice/calls?campaign_id=\(campaign)", key: key) {
                                $0["calls"]?[0]?["call_status"] == "retry_scheduled"
                            }

                            // A forged webhook is refused; a stranger, with no inbound agent on the number, is rejected.
                            var forged = HTTPFields()
                            forged[.contentType] = "application/x-www-form-urlencoded"
                            forged[HTTPField.Name("X-Twilio-Signature")!] = "bm9wZQ=="
                            #expect(try await client.request(.post, "/v1/telephony/twilio/voice", key: nil,
                                                             raw: "From=%2B15175550101&To=%2B15175550199", headers: forged).status == .forbidden)
                            #expect(try await Self.twilioIncomingCall(client, from: "+15175550177", to: ours, sid: "CA0").text == "<Response><Reject/></Response>")

                            let twiml = try await Self.twilioIncomingCall(client, from: ann, to: ours, sid: "CA9").text
                            let prefix = "<Response><Connect><Stream url=\"wss://switchboard.example.com"
                            #expect(twiml.hasPrefix(prefix), "\(twiml)")
                            let path = String(twiml.dropFirst(prefix.count).prefix { $0 != "\"" })
                            var configuration = WebSocketClientConfiguration()
                            configuration.additionalHeaders[HTTPField.Name("X-Twilio-Signature")!] =
                                FakeTwilio.signature(url: "wss://switchboard.example.com" + path, form: [])
                            try await client.client.ws(path, configuration: configuration) { inbound, outbound, _ in
                                _ = try await Streams.playCarrier(
                                    start: #"{"event": "start", "streamSid": "MZ9", "start": {"streamSid": "MZ9", "callSid": "CA9", "tracks": ["inbound"]}}"#,
                                    media: { #"{"event": "media", "streamSid": "MZ9", "media": {"track": "inbound", "payload": "\#($0)"}}"# },
                                    stop: #"{"event": "stop", "streamSid": "MZ9"}"#,
                                    callee: Streams.Callee([Streams.Utterance(cue: .agentQuiet(0.5), seconds: 0.8)]), inbound: inbound, outbound: outbound)
                            }

                            // Not dialled again: her lead is done and the campaign completes without waiting an hour.
                            try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }
                            let calls = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls
                            #expect(calls.count == 2)
                            let back = try #require(calls.first { $0.direction == .inbound })
                            #expect(back.fromNumber == ann && back.toNumber == ours)
                            #expect(back.outcome == "completed")
                            let first = try #require(calls.first { $0.direction == .outbound })
                            #expect(first.callStatus == .ended && first.outcome == "completed", "\(first)")
                            #expect(await fake.created.count == 1)

                            let reply = try await client.get("/v1/voice/calls/\(back.callId)", key: key)
                            let call = try reply.decode(Components.Schemas.CallEnvelope.self).call
                            #expect(call.transcriptObject?.map(\.content) == [
                                "Hi Ann, thanks for calling Acme back.", "I missed your call, I want a quote.", "Great, an adviser will call you tomorrow.",
                            ])
                            #expect(call.attempts?.map(\.direction) == [.inbound])
                            let told = await llm.calls.first { !$0.wantsJSON }?.system ?? ""
                            #expect(told.contains("calling us back"), "\(told)")
                        }
                    }
                }
            }
        }

        /// A Vobiz number's inbound answer URL streams a caller to the number's inbound agent;
        /// the call ends when the caller hangs up.
        @Test(arguments: Backend.allCases) func aVobizNumbersInboundAgentAnswersAStranger(_ backend: Backend) async throws {
            let harness = Harness(backend) { $0.publicURL = Streams.publicURL }
            let key = try await harness.key(admin: true)
            try await harness.run(live: true) { client in
                let agent = try await client.post("/v1/agents", key: key, ["agent_type": "voice", "agent_name": "Desk", "prompt": "Answer."])["agent_id"]?.stringValue ?? ""
                let settings: JSONValue = ["auth_id": .string(FakeVobiz.authID), "auth_token": .string(FakeVobiz.authToken)]
                let refused = try await client.post("/v1/voice/phone-numbers/create", key: key, [
                    "phone_number": "+15175550198", "provider": "vobiz", "settings": settings, "inbound_agent_id": "agent_nope",
                ])
                #expect(refused.status == .badRequest)
                _ = try await client.number(key: key, ["phone_number": "+15175550198", "provider": "vobiz", "settings": settings,
                                                       "inbound_agent_id": .string(agent)])
                let form = [("CallUUID", "uuid-1"), ("From", "+15175550177"), ("To", "+15175550198"), ("Direction", "inbound")]
                var headers = HTTPFields()
                headers[.contentType] = "application/x-www-form-urlencoded"
                headers[HTTPField.Name("X-Vobiz-Signature-V3-Nonce")!] = "n1"
                headers[HTTPField.Name("X-Vobiz-Signature-V3")!] = FakeVobiz.signature(url: Streams.publicURL + "/v1/telephony/vobiz/inbound", form: form, nonce: "n1")
                let answer = try await client.request(.post, "/v1/telephony/vobiz/inbound", key: nil, raw: FormURLEncoded.encode(form), headers: headers).text
                let prefix = "<Response><Stream bidirectional=\"true\" keepCallAlive=\"true\" contentType=\"audio/x-mulaw;rate=8000\">wss://switchboard.example.com"
                #expect(answer.hasPrefix(prefix), "\(answer)")
                let calls = try await client.get("/v1/voice/calls", key: key).calls
                #expect(calls.map(\.direction) == [.inbound] && calls.first?.fromNumber == "+15175550177" && calls.first?.agentId == agent)
                #expect(calls.first?.callStatus == .ongoing)

                // The caller hangs up after a second of silence: the call ends, completed, with no campaign to finish.
                try await client.client.ws(String(answer.dropFirst(prefix.count).prefix { $0 != "<" })) { inbound, outbound, _ in
                    _ = try await Streams.playCarrier(
                        start: #"{"event": "start", "start": {"callId": "uuid-1", "streamId": "s1"}}"#,
                        media: { #"{"event": "media", "streamId": "s1", "media": {"payload": "\#($0)"}}"# },
                        stop: #"{"event": "stop", "streamId": "s1"}"#, callee: Streams.Callee([], patience: 1), inbound: inbound, outbound: outbound)
                }
                let callID = calls.first?.callId ?? ""
                let ended = try await client.eventually("/v1/voice/calls/\(callID)", key: key) { $0["call"]?["call_status"] == "ended" }
                #expect(ended["call"]?["outcome"] == "completed")
                #expect(ended["call"]?["attempts"]?[0]?["direction"] == "inbound")
            }
        }
    }
}

extension RealTimeVoice {
    /// A caller dials one of our SIP trunk numbers: baresip, on the trunk's address, calls our
    /// SIP port, speaks, and hears the number's inbound agent.
    @Suite struct SIPCallBackTests {
        /// Something holds the UDP port: a second bind of it (without SO_REUSEADDR) fails.
        static func isBound(udpPort port: Int) -> Bool {
            let probe = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(probe) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } != 0
        }

        @Test func aCallerOnTheTrunkIsAnsweredByTheNumbersInboundAgent() async throws {
            let sipPort = Int.random(in: 30_000...39_000)
            let caller = BaresipPeer.silence(2.5) + (try BaresipPeer.speech("I want a quote.")) + BaresipPeer.silence(25)
            let speech = FakeSpeech(answers: ["I want a quote."])
            let llm = FakeLLM { call in
                if call.wantsJSON { return FakeLLM.text(#"{"summary": "A quote.", "sentiment": "positive"}"#) }
                return FakeLLM.tool("end_conversation", ["outcome": "qualified"], content: "Thanks for calling, goodbye!")
            }
            try await FakeCarrier.serve(FakeSpeech.router(speech)) { speechURL in
                try await FakeCarrier.serve(FakeLLM.router(llm)) { llmURL in
                    let harness = Harness(.sqlite) {
                        $0.llm = LLMConfiguration(baseURL: llmURL + "/v1", apiKey: FakeLLM.apiKey, model: "test-model")
                        $0.speech = OpenAISpeech.Configuration(baseURL: speechURL + "/v1", apiKey: FakeSpeech.apiKey)
                        $0.voice.endSilenceMilliseconds = 500
                        $0.rtpPorts = 41_200...41_300
                        $0.sipPort = sipPort
                    }
                    let key = try await harness.key(admin: true)
                    try await harness.run(live: true) { client in
                        let agent = try await client.post("/v1/agents", key: key, [
                            "agent_type": "voice", "agent_name": "Desk", "prompt": "You answer for Acme.",
                            "starting_message": "Hello, this is Acme calling.", "inbound_message": "Acme, how can I help?",
                        ])["agent_id"]?.stringValue ?? ""
                        // The trunk is on loopback, where baresip's INVITE comes from.
                        _ = try await client.number(key: key, ["phone_number": "+15175550100", "provider": "sip_trunk",
                                                               "settings": ["host": "127.0.0.1", "port": 5060], "inbound_agent_id": .string(agent)])
                        try await until(seconds: 5) { Self.isBound(udpPort: sipPort) }
                        try await BaresipPeer.serve(user: "+15175550101", audio: caller, dial: "sip:+15175550100@127.0.0.1:\(sipPort)") { peer in
                            let list = try await client.eventually("/v1/voice/calls", key: key, seconds: 40) { $0.calls.first?.callStatus == .ended }
                            let listed = try #require(list.calls.first)
                            #expect(listed.direction == .inbound && listed.fromNumber == "+15175550101" && listed.toNumber == "+15175550100")
                            let reply = try await client.eventually("/v1/voice/calls/\(listed.callId)", key: key, seconds: 10) {
                                $0["call"]?["recording_url"]?.stringValue != nil
                            }
                            let call = try reply.decode(Components.Schemas.CallEnvelope.self).call
                            #expect(call.transcriptObject?.map(\.content) == ["Acme, how can I help?", "I want a quote.", "Thanks for calling, goodbye!"],
                                    "\(call.transcriptObject ?? [])")
                            #expect(call.outcome == "completed")
                            #expect(call.attempts?.first?.provider == "sip_trunk")
                            // What baresip heard: the agent's tone, once it has closed its recording of the call.
                            try await until(seconds: 5) {
                                ((try? peer.heard()) ?? nil).map { ToneFinder.share(of: FakeSpeech.toneHz, in: $0.samples) > 0.3 } ?? false
                            }
                        }
                    }
                }
            }
        }
    }
}
