import Foundation
import HTTPTypes
import HummingbirdWSClient
import HummingbirdWSTesting
import SwitchboardAPI
import SwitchboardCore
import Testing
@testable import SwitchboardServer
import Voice

extension RealTimeVoice {
    /// The carriers' media sockets into our voice pipeline: the test plays the carrier, speaking
    /// its real frame format (μ-law 8 kHz in base64, 20 ms a message, in real time), and hears
    /// what the agent sends back until the server closes the socket to hang up.
    @Suite struct MediaStreamsTests {
        static let publicURL = "https://switchboard.example.com"

        /// What the callee says: each utterance starts on a cue from what it has heard, so the
        /// test follows the call's own pace (a loaded machine answers later) rather than a fixed
        /// timeline that a slow turn would overtake.
        struct Utterance: Sendable {
            enum Cue: Sendable {
                /// The agent has spoken and then been quiet this long (its greeting or reply is over).
                case agentQuiet(Double)
                /// The agent has been speaking this long since the callee last spoke: talk over it.
                case intoAgentSpeech(Double)
            }
            let cue: Cue
            let seconds: Double
        }

        /// What the callee has heard of the agent, kept by the reading side for the talking side.
        struct Heard: Sendable {
            var voicedFrames = 0
            var lastVoiced: ContinuousClock.Instant?
        }

        /// The callee's audio, 20 ms at a time: silence until the next utterance's cue, then a
        /// 300 Hz tone for its length; after the last one, silence until the agent hangs up or
        /// `patience` seconds pass.
        struct Callee: Sendable {
            private var script: [Utterance]
            private var sample = 0
            private var speaking = 0
            private var voicedAtLastEnd = 0
            private var framesLeft: Int

            init(_ script: [Utterance], patience: Double = 30) {
                self.script = script
                self.framesLeft = Int(patience * 50)
            }

            /// The next frame, or nil when the callee has waited long enough and hangs up.
            mutating func next(heard: Heard, now: ContinuousClock.Instant) -> [Int16]? {
                if speaking == 0, let utterance = script.first, cued(utterance.cue, heard: heard, now: now) {
                    script.removeFirst()
                    speaking = Int(utterance.seconds * 50)
                }
                defer { sample += Telephony.samplesPerFrame }
                guard speaking > 0 else {
                    if script.isEmpty { framesLeft -= 1 }
                    return framesLeft < 0 ? nil : [Int16](repeating: 0, count: Telephony.samplesPerFrame)
                }
                speaking -= 1
                if speaking == 0 { voicedAtLastEnd = heard.voicedFrames }
                return (0..<Telephony.samplesPerFrame).map { Int16(6_000 * sin(2 * .pi * 300 * Double(sample + $0) / 8_000)) }
            }

            private func cued(_ cue: Utterance.Cue, heard: Heard, now: ContinuousClock.Instant) -> Bool {
                switch cue {
                case .agentQuiet(let seconds):
                    guard heard.voicedFrames > voicedAtLastEnd, let last = heard.lastVoiced else { return false }
                    return now - last >= .milliseconds(Int(seconds * 1_000))
                case .intoAgentSpeech(let seconds):
                    return heard.voicedFrames - voicedAtLastEnd >= Int(seconds * 50)
                }
            }
        }

        /// Sends `start`, then the callee's audio as `media` messages paced at 20 ms, and gathers
        /// every message the server sends until it closes the socket.
        static func playCarrier(start: String, media: @escaping @Sendable (String) -> String, stop: String, callee: Callee,
                                inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws -> [JSONValue] {
            try await outbound.write(.text(start))
            let heard = Locked(Heard())
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var callee = callee
                    let began = ContinuousClock.now
                    var index = 0
                    while let frame = callee.next(heard: heard.withLock { $0 }, now: .now) {
                        try await Task.sleep(until: began + .milliseconds(20 * index))
                        index += 1
                        // The server may have hung up already: then the socket is closed.
                        guard (try? await outbound.write(.text(media(Data(G711Law.muLaw.encode(frame)).base64EncodedString())))) != nil else { return }
                    }
                    // The callee hangs up.
                    try? await outbound.write(.text(stop))
                }
                var messages: [JSONValue] = []
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
                    if Self.agentAudio([decoded]).contains(where: { abs(Int($0)) > 1_000 }) {
                        heard.withLock { $0.voicedFrames += 1; $0.lastVoiced = .now }
                    }
                    messages.append(decoded)
                }
                group.cancelAll()
                return messages
            }
        }

        /// What the agent said, decoded from the messages' μ-law payloads.
        static func agentAudio(_ messages: [JSONValue]) -> [Int16] {
            messages.flatMap { message -> [Int16] in
                guard let payload = message["media"]?["payload"]?.stringValue, let bytes = Data(base64Encoded: payload) else { return [] }
                return G711Law.muLaw.decode(Array(bytes))
            }
        }

        static func services(model: @escaping @Sendable (FakeLLM.Call) -> JSONValue = VoicePipelineTests.model,
                             _ body: @escaping @Sendable (_ speechURL: String, _ llmURL: String, _ speech: FakeSpeech) async throws -> Void) async throws {
            let speech = FakeSpeech(answers: ["I want a quote.", "About 5000 dollars."])
            try await FakeCarrier.serve(FakeSpeech.router(speech)) { speechURL in
                try await FakeCarrier.serve(FakeLLM.router(FakeLLM(model))) { llmURL in
                    try await body(speechURL, llmURL, speech)
                }
            }
        }

        static func vobizNumber(_ client: Client, key: String, baseURL: String) async throws -> String {
            try await client.number(key: key, [
                "phone_number": "+15175550198", "provider": "vobiz", "calls_per_second": 0,
                "settings": ["auth_id": .string(FakeVobiz.authID), "auth_token": .string(FakeVobiz.authToken), "api_base_url": .string(baseURL)],
            ])
        }

        static func configure(_ config: inout AppConfiguration, speechURL: String, llmURL: String) {
            config.publicURL = publicURL
            config.llm = LLMConfiguration(baseURL: llmURL + "/v1", apiKey: FakeLLM.apiKey, model: "test-model")
            config.speech = OpenAISpeech.Configuration(baseURL: speechURL + "/v1", apiKey: FakeSpeech.apiKey)
            config.voice.endSilenceMilliseconds = 400
        }

        /// A Twilio number on Media Streams calls one lead (the fake's callbacks complete the
        /// campaign); the stream's path from the TwiML, and an upgrade signed as Twilio signs it.
        static func twilioStreamCall(_ client: Client, key: String, fake: FakeCarrier, baseURL: String, agent extra: [String: JSONValue])
            async throws -> (campaign: String, path: String, configuration: WebSocketClientConfiguration) {
            let number = try await client.number(key: key, [
                "phone_number": .string(TwilioConversationTests.ours), "provider": "twilio", "calls_per_second": 0,
                "settings": ["account_sid": .string(FakeTwilio.accountSID), "auth_token": .string(FakeTwilio.authToken),
                             "api_base_url": .string(baseURL), "voice_transport": "media_streams"],
            ])
            let body: [String: JSONValue] = ["agent_type": "voice", "agent_name": "Caller", "prompt": "You sell solar."]
            let agent = try await client.post("/v1/agents", key: key, .object(body.merging(extra) { _, new in new }))["agent_id"]?.stringValue ?? ""
            let campaign = try await client.campaign(key: key, agent: agent, number: number,
                                                     leads: [["phone_number": .string(TwilioConversationTests.ann)]])
            try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }
            let twiml = await fake.created.first?.fields.first { $0.0 == "Twiml" }?.1 ?? ""
            let path = String(twiml.split(separator: "\"").dropFirst().first?.dropFirst("wss://switchboard.example.com".count) ?? "")
            var configuration = WebSocketClientConfiguration()
            configuration.additionalHeaders[HTTPField.Name("X-Twilio-Signature")!] = FakeTwilio.signature(url: "wss://switchboard.example.com" + path, form: [])
            return (campaign, path, configuration)
        }

        /// A Twilio Media Streams call placed by a campaign, with the fake speech services, model and
        /// Twilio (whose callbacks complete it) around it, for `body` to play the carrier.
        static func twilioStream(model: @escaping @Sendable (FakeLLM.Call) -> JSONValue = VoicePipelineTests.model, agent: [String: JSONValue],
                                 _ body: @escaping @Sendable (_ client: Client, _ key: String, _ fake: FakeCarrier, _ campaign: String, _ path: String,
                                                              _ configuration: WebSocketClientConfiguration) async throws -> Void) async throws {
            try await services(model: model) { speechURL, llmURL, _ in
                let harness = Harness(.sqlite) { Self.configure(&$0, speechURL: speechURL, llmURL: llmURL) }
                let key = try await harness.key(admin: true)
                try await harness.run(live: true) { client in
                    let fake = FakeCarrier(publicURL: Self.publicURL, scripts: [
                        "0101": CarrierScript(callbacks: [[("CallStatus", "in-progress")], [("CallStatus", "completed"), ("CallDuration", "12")]]),
                    ])
                    try await FakeCarrier.serve(FakeTwilio.router(fake, deliver: TwilioConversationTests.deliver(client))) { baseURL in
                        let (campaign, path, configuration) = try await Self.twilioStreamCall(client, key: key, fake: fake, baseURL: baseURL, agent: agent)
                        try await body(client, key, fake, campaign, path, configuration)
                    }
                }
            }
        }

        @Test func aTwilioMediaStreamHoldsTheConversationAndClearsOnBargeIn() async throws {
    try await Self.twilioStream(agent: ["starting_message": "Hello, this is Acme."]) { client, key, fake, campaign, path, configuration in
                let twiml = await fake.created.first?.fields.first { $0.0 == "Twiml" }?.1 ?? ""
                #expect(twiml.hasPrefix("<Response><Connect><Stream url=\"wss://switchboard.example.com/v1/telephony/twilio/stream/"), "\(twiml)")
                await #expect(throws: (any Error).self) { try await client.client.ws(path) { _, _, _ in } }
                // The callee asks after the greeting, then talks over the (4 s) reply half a second in.
                let callee = Callee([Utterance(cue: .agentQuiet(0.5), seconds: 0.6), Utterance(cue: .intoAgentSpeech(0.5), seconds: 0.8)])
                let messages = Locked<[JSONValue]>([])
                try await client.client.ws(path, configuration: configuration) { inbound, outbound, _ in
                    try await outbound.write(.text(#"{"event": "connected", "protocol": "Call", "version": "1.0.0"}"#))
                    let heard = try await Self.playCarrier(
                        start: #"{"event": "start", "sequenceNumber": "1", "streamSid": "MZ1", "start": {"streamSid": "MZ1", "accountSid": "AC1", "callSid": "CA1", "tracks": ["inbound"], "customParameters": {}, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}"#,
                        media: { #"{"event": "media", "sequenceNumber": "2", "streamSid": "MZ1", "media": {"track": "inbound", "chunk": "1", "timestamp": "0", "payload": "\#($0)"}}"# },
                        stop: #"{"event": "stop", "sequenceNumber": "999", "streamSid": "MZ1", "stop": {"accountSid": "AC1", "callSid": "CA1"}}"#,
                        callee: callee, inbound: inbound, outbound: outbound)
                    messages.withLock { $0 = heard }
                }
                let heard = messages.withLock { $0 }
                #expect(heard.allSatisfy { $0["streamSid"] == "MZ1" })
                #expect(Set(heard.compactMap { $0["event"]?.stringValue }) == ["media", "clear"])
                let spoken = Self.agentAudio(heard)
                #expect(ToneFinder.share(of: FakeSpeech.toneHz, in: spoken) > 0.5)

                let callID = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls.first?.callId ?? ""
                let reply = try await client.eventually("/v1/voice/calls/\(callID)", key: key, seconds: 10) { $0["call"]?["recording_url"]?.stringValue != nil }
                let turns = try reply.decode(Components.Schemas.CallEnvelope.self).call.transcriptObject ?? []
                #expect(turns.map(\.content).first == "Hello, this is Acme.")
                #expect(turns.map(\.role.rawValue) == ["agent", "user", "agent", "user", "agent"], "\(turns)")
                #expect(turns.count == 5 && turns[2].interrupted == true)
                #expect(turns.last?.content == "Thanks, goodbye!")
            }
        }

        @Test func aVobizCallStreamsToThePipelineInsteadOfWaiting() async throws {
            try await Self.services { speechURL, llmURL, speech in
                let harness = Harness(.sqlite) { Self.configure(&$0, speechURL: speechURL, llmURL: llmURL) }
                let key = try await harness.key(admin: true)
                try await harness.run(live: true) { client in
                    let fake = FakeCarrier(publicURL: Self.publicURL, scripts: [
                        "0001": CarrierScript(callbacks: [[("_callback", "answer"), ("CallStatus", "in-progress")],
                                                          [("_callback", "hangup"), ("CallStatus", "completed"), ("HangupCause", "NORMAL_CLEARING"), ("Duration", "9")]]),
                    ])
                    let router = FakeVobiz.router(fake, deliver: VobizTests.deliver(client))
                    try await FakeCarrier.serve(router) { baseURL in
                        let number = try await Self.vobizNumber(client, key: key, baseURL: baseURL)
                        let agent = try await client.post("/v1/agents", key: key, [
                            "agent_type": "voice", "agent_name": "Caller", "prompt": "You sell solar.", "starting_message": "Hello, this is Acme.",
                        ])["agent_id"]?.stringValue ?? ""
                        let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [["phone_number": "+15175550001"]])
                        try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }

                        let answer = await fake.answerDocuments.first ?? ""
                        let prefix = "<Response><Stream bidirectional=\"true\" keepCallAlive=\"true\" contentType=\"audio/x-mulaw;rate=8000\">wss://switchboard.example.com"
                        #expect(answer.hasPrefix(prefix), "\(answer)")
                        let path = String(answer.dropFirst(prefix.count).prefix { $0 != "<" })
                        // A forged token is refused.
                        await #expect(throws: (any Error).self) { try await client.client.ws(String(path.dropLast(4)) + "beef") { _, _, _ in } }

                        let callee = Callee([Utterance(cue: .agentQuiet(0.5), seconds: 0.8)], patience: 6)
                        let messages = Locked<[JSONValue]>([])
                        try await client.client.ws(path) { inbound, outbound, _ in
                            let heard = try await Self.playCarrier(
                                start: #"{"event": "start", "sequenceNumber": 1, "start": {"callId": "c1", "streamId": "s1", "accountId": "a1", "tracks": ["inbound"], "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}}"#,
                                media: { #"{"event": "media", "sequenceNumber": 2, "streamId": "s1", "media": {"track": "inbound", "timestamp": "0", "chunk": 1, "payload": "\#($0)"}}"# },
                                stop: #"{"event": "stop", "streamId": "s1"}"#, callee: callee, inbound: inbound, outbound: outbound)
                            messages.withLock { $0 = heard }
                        }
                        let heard = messages.withLock { $0 }
                        #expect(!heard.isEmpty && heard.allSatisfy { $0["event"] == "playAudio" && $0["media"]?["contentType"] == "audio/x-mulaw" })
                        #expect(ToneFinder.share(of: FakeSpeech.toneHz, in: Self.agentAudio(heard)) > 0.5)
                        #expect(await speech.heard.count == 1)

                        let callID = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls.first?.callId ?? ""
                        let reply = try await client.eventually("/v1/voice/calls/\(callID)", key: key, seconds: 10) { $0["call"]?["recording_url"]?.stringValue != nil }
                        let turns = try reply.decode(Components.Schemas.CallEnvelope.self).call.transcriptObject ?? []
                        #expect(turns.map(\.content) == ["Hello, this is Acme.", "I want a quote.", VoicePipelineTests.reply], "\(turns)")
                    }
                }
            }
        }

        /// The agent hands a Media Streams call to a person: Twilio's call gets a `<Dial>` TwiML.
        @Test func aTwilioMediaStreamCallIsTransferred() async throws {
    try await Self.twilioStream(model: TransferTests.model, agent: ["starting_message": "Hello.", "transfer_number": "+15175550199"]) {
        client, key, fake, campaign, path, configuration in
                try await client.client.ws(path, configuration: configuration) { inbound, outbound, _ in
                    _ = try await Self.playCarrier(
                        start: #"{"event": "start", "sequenceNumber": "1", "streamSid": "MZ2", "start": {"streamSid": "MZ2", "accountSid": "AC1", "callSid": "CA7", "tracks": ["inbound"], "customParameters": {}, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}"#,
                        media: { #"{"event": "media", "streamSid": "MZ2", "media": {"track": "inbound", "payload": "\#($0)"}}"# },
                        stop: #"{"event": "stop", "streamSid": "MZ2"}"#, callee: Callee([Utterance(cue: .agentQuiet(0.3), seconds: 0.6)]), inbound: inbound, outbound: outbound)
                }
                let updates = await fake.updates
                #expect(updates.map(\.id) == ["CA7"])
                #expect(updates.first?.form.contains { $0 == ("Twiml", "<Response><Dial>+15175550199</Dial></Response>") } == true)
                let callID = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls.first?.callId ?? ""
                let reply = try await client.eventually("/v1/voice/calls/\(callID)", key: key, seconds: 10) { $0["call"]?["recording_url"]?.stringValue != nil }
                #expect(try reply.decode(Components.Schemas.CallEnvelope.self).call.transcriptObject?.last?.content == "Connecting you now.")
            }
        }

        /// The agent hands a Vobiz stream call to a person: the transfer API, and the `<Dial>` the
        /// call fetches from our transfer callback.
        @Test func aVobizCallIsTransferred() async throws {
            try await Self.services(model: TransferTests.model) { speechURL, llmURL, _ in
                let harness = Harness(.sqlite) { Self.configure(&$0, speechURL: speechURL, llmURL: llmURL) }
                let key = try await harness.key(admin: true)
                try await harness.run(live: true) { client in
                    let fake = FakeCarrier(publicURL: Self.publicURL, scripts: [
                        "0001": CarrierScript(callbacks: [[("_callback", "answer"), ("CallStatus", "in-progress")],
                                                          [("_callback", "hangup"), ("CallStatus", "completed"), ("HangupCause", "NORMAL_CLEARING"), ("Duration", "9")]]),
                    ])
                    try await FakeCarrier.serve(FakeVobiz.router(fake, deliver: VobizTests.deliver(client))) { baseURL in
                        let number = try await Self.vobizNumber(client, key: key, baseURL: baseURL)
                        let agent = try await client.post("/v1/agents", key: key, [
                            "agent_type": "voice", "agent_name": "Caller", "prompt": "You sell solar.", "starting_message": "Hello.",
                            "transfer_number": "+15175550177",
                        ])["agent_id"]?.stringValue ?? ""
                        _ = try await client.campaign(key: key, agent: agent, number: number, leads: [["phone_number": "+15175550001"]])
                        try await until { await !fake.answerDocuments.isEmpty }
                        let answer = await fake.answerDocuments.first ?? ""
                        let prefix = "<Response><Stream bidirectional=\"true\" keepCallAlive=\"true\" contentType=\"audio/x-mulaw;rate=8000\">wss://switchboard.example.com"
                        try await client.client.ws(String(answer.dropFirst(prefix.count).prefix { $0 != "<" })) { inbound, outbound, _ in
                            _ = try await Self.playCarrier(
                                start: #"{"event": "start", "start": {"callId": "c7", "streamId": "s7"}}"#,
                                media: { #"{"event": "media", "streamId": "s7", "media": {"payload": "\#($0)"}}"# },
                                stop: #"{"event": "stop", "streamId": "s7"}"#,
                                callee: Callee([Utterance(cue: .agentQuiet(0.3), seconds: 0.6)]), inbound: inbound, outbound: outbound)
                        }
                        let updates = await fake.updates
                        #expect(updates.map(\.id) == ["c7"])
                        #expect(updates.first?.form.contains { $0 == ("legs", "aleg") } == true)
                        #expect(updates.first?.form.contains { $0 == ("xml", "<Response><Dial><Number>+15175550177</Number></Dial></Response>") } == true,
                                "\(updates)")
                    }
                }
            }
        }
    }
}
