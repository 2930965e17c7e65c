import Foundation
import NIOCore
import HTTPTypes
import HummingbirdWSClient
import HummingbirdWSTesting
import SwitchboardAPI
import SwitchboardCore
import SwitchboardServer
import Testing

/// Twilio Messaging (send, signed status callbacks and inbound webhook) and ConversationRelay
/// (a Twilio call talking to its voice agent over our WebSocket route), against a fake Twilio
/// and a fake model.
@Suite struct TwilioConversationTests {
    static let publicURL = "https://switchboard.example.com"
    static let ann = "+15175550101"
    static let ours = "+15175550199"

    static func twilioNumber(_ client: Client, key: String, baseURL: String) async throws -> String {
        try await client.number(key: key, [
            "phone_number": .string(ours), "provider": "twilio", "calls_per_second": 0,
            "settings": ["account_sid": .string(FakeTwilio.accountSID), "auth_token": .string(FakeTwilio.authToken), "api_base_url": .string(baseURL)],
        ])
    }

    /// The relay socket's path and the `<Connect action>` path of a ConversationRelay call's TwiML.
    static func relayPaths(_ twiml: String, sourceLocation: SourceLocation = #_sourceLocation) -> (relay: String, action: String) {
        #expect(twiml.hasPrefix("<Response><Connect action=\"https://switchboard.example.com/v1/telephony/twilio/relay-end?attempt_id="),
                "\(twiml)", sourceLocation: sourceLocation)
        #expect(twiml.contains("<ConversationRelay url=\"wss://switchboard.example.com/v1/telephony/twilio/relay?attempt_id="),
                "\(twiml)", sourceLocation: sourceLocation)
        func url(after marker: String, dropping prefix: String) -> String {
            String((twiml.components(separatedBy: marker).dropFirst().first ?? "").prefix { $0 != "\"" }.dropFirst(prefix.count))
        }
        return (url(after: "<ConversationRelay url=\"", dropping: "wss://switchboard.example.com"),
                url(after: "<Connect action=\"", dropping: publicURL))
    }

    /// A Twilio callback to our app, signed with the number's auth token.
    static func callback(_ client: Client, _ path: String, _ form: [(String, String)]) async throws -> Client.Reply {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[HTTPField.Name("X-Twilio-Signature")!] = FakeTwilio.signature(url: publicURL + path, form: form)
        return try await client.request(.post, path, key: nil, raw: FormURLEncoded.encode(form), headers: headers)
    }

    /// The agent hands a ConversationRelay call to a person, warm: it says so, ends the session
    /// with the handoff, and Twilio's request to the `<Connect action>` gets a `<Dial>` whose
    /// `<Number url>` tells the person the summary first. When Twilio reports the call
    /// completed, its outcome is `transferred`.
    @Test func aRelayCallIsHandedToAPersonThroughTheConnectAction() async throws {
        try await FakeCarrier.serve(FakeLLM.router(FakeLLM(RealTimeVoice.TransferTests.model))) { llmURL in
            let harness = Harness(.sqlite) {
                $0.publicURL = Self.publicURL
                $0.llm = LLMConfiguration(baseURL: llmURL + "/v1", apiKey: FakeLLM.apiKey, model: "test-model")
            }
            let key = try await harness.key(admin: true)
            try await harness.run(live: true) { client in
                let fake = FakeCarrier(publicURL: Self.publicURL, scripts: ["0101": CarrierScript(callbacks: [[("CallStatus", "in-progress")]])])
                try await FakeCarrier.serve(FakeTwilio.router(fake, deliver: Self.deliver(client))) { baseURL in
                    let number = try await Self.twilioNumber(client, key: key, baseURL: baseURL)
                    let agent = try await client.post("/v1/agents", key: key, [
                        "agent_type": "voice", "agent_name": "Caller", "prompt": "You sell solar.", "transfer_number": "+15175550177",
                        "transfer_mode": "warm",
                    ])["agent_id"]?.stringValue ?? ""
                    let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [["phone_number": .string(Self.ann)]])
                    try await until { await !fake.created.isEmpty }
                    let created = await fake.created.first
                    let (path, action) = Self.relayPaths(created?.fields.first { $0.0 == "Twiml" }?.1 ?? "")
                    // Until the agent hands it over, the session's end hangs up.
                    #expect(try await Self.callback(client, action, [("AccountSid", FakeTwilio.accountSID), ("CallSid", created?.id ?? "")]).text
                        == "<Response><Hangup/></Response>")

                    var configuration = WebSocketClientConfiguration()
                    configuration.additionalHeaders[HTTPField.Name("X-Twilio-Signature")!] = FakeTwilio.signature(url: "wss://switchboard.example.com" + path, form: [])
                    let heard = Locked<[JSONValue]>([])
                    try await client.client.ws(path, configuration: configuration) { inbound, outbound, _ in
                        try await outbound.write(.text(#"{"type": "setup", "sessionId": "VX2", "callSid": "CA2", "from": "+15175550199", "to": "+15175550101"}"#))
                        try await outbound.write(.text(#"{"type": "prompt", "voicePrompt": "Can I talk to a person?", "last": true}"#))
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            guard case .text(let text) = message else { continue }
                            heard.withLock { $0.append((try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null) }
                            if heard.withLock({ $0.count }) == 2 { break }
                        }
                    }
                    let said = heard.withLock { $0 }
                    #expect(said.first?["token"] == "Connecting you now.")
                    #expect(said.last?["type"] == "end" && said.last?["handoffData"]?.stringValue?.contains("+15175550177") == true, "\(said)")

                    let handoff = said.last?["handoffData"]?.stringValue ?? ""
                    let next = try await Self.callback(client, action, [("AccountSid", FakeTwilio.accountSID), ("CallSid", created?.id ?? ""),
                                                                        ("HandoffData", handoff)])
                    let attempt = String(action.split(separator: "=").last ?? "")
                    let whisper = "/v1/telephony/twilio/whisper?attempt_id=\(attempt)"
                    #expect(next.text == "<Response><Dial><Number url=\"\(Self.publicURL + whisper)\">+15175550177</Number></Dial></Response>")
                    // Twilio dials the person, who hears the summary first.
                    #expect(try await Self.callback(client, whisper, [("AccountSid", FakeTwilio.accountSID), ("CallSid", "CA3")]).text
                        == "<Response><Say>A call from +15175550101, handed over by Caller.</Say></Response>")
                    // When the call ends, its outcome is transferred.
                    _ = try await Self.callback(client, "/v1/telephony/twilio/status?attempt_id=\(attempt)", [
                        ("AccountSid", FakeTwilio.accountSID), ("CallSid", created?.id ?? ""), ("CallStatus", "completed"), ("CallDuration", "30"),
                    ])
                    try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }
                    let callID = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls.first?.callId ?? ""
                    let call = try await client.get("/v1/voice/calls/\(callID)", key: key).decode(Components.Schemas.CallEnvelope.self).call
                    #expect(call.outcome == "transferred")
                    #expect(call.attempts?.first?.transferredTo == "+15175550177")
                }
            }
        }
    }

    static func deliver(_ client: Client) -> @Sendable (String, String, HTTPFields) async throws -> Int {
        { path, body, headers in
            var headers = headers
            headers[.contentType] = "application/x-www-form-urlencoded"
            return Int(try await client.request(.post, path, key: nil, raw: body, headers: headers).status.code)
        }
    }

    @Test func textsGoThroughTwilioAndRepliesComeBack() async throws {
        let harness = Harness(.sqlite) { $0.publicURL = Self.publicURL }
        let key = try await harness.key(admin: true)
        try await harness.run { client in
            let fake = FakeCarrier(publicURL: Self.publicURL, scripts: [:])
            try await FakeCarrier.serve(FakeTwilio.router(fake, deliver: Self.deliver(client))) { baseURL in
                let number = try await Self.twilioNumber(client, key: key, baseURL: baseURL)
                let campaign = try await client.smsCampaign(key: key, number: number, contacts: [Self.ann, "+15175550666"])
                let thread = "/v1/sms/messages?campaign_id=\(campaign)&phone_number=\(Self.ann)"
                let sent = try await client.eventually(thread, key: key) { $0.message(0)?.status == .delivered }
                // Twilio's 21610 (unsubscribed at Twilio): failed, and suppressed here too.
                let refused = try await client.eventually("/v1/sms/messages?phone_number=%2B15175550666", key: key) {
                    $0.message(0)?.status == .failed
                }
                #expect(refused.message(0)?.error?.hasPrefix("Twilio refused the request (error 21610)") == true)
                try await client.eventually("/v1/suppressions", key: key) { $0.text.contains("+15175550666") }
                #expect(sent.message(0)?.providerMessageId?.hasPrefix("SM") == true)
                let created = await fake.created.first
                #expect(created?.fields.first { $0.0 == "Body" }?.1 == "Hi Ann!")
                #expect(created?.fields.first { $0.0 == "From" }?.1 == Self.ours)

                // Ann's STOP through the inbound webhook: forged is refused, signed is honoured.
                let url = Self.publicURL + "/v1/telephony/twilio/sms"
                let form = [("AccountSid", FakeTwilio.accountSID), ("MessageSid", "SMinbound1"), ("From", Self.ann), ("To", Self.ours), ("Body", "STOP")]
                var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                headers[HTTPField.Name("X-Twilio-Signature")!] = FakeTwilio.signature(url: url, form: form, token: "forged")
                let forged = try await client.request(.post, "/v1/telephony/twilio/sms", key: nil, raw: FormURLEncoded.encode(form), headers: headers)
                #expect(forged.status == .forbidden)
                headers[HTTPField.Name("X-Twilio-Signature")!] = FakeTwilio.signature(url: url, form: form)
                let signed = try await client.request(.post, "/v1/telephony/twilio/sms", key: nil, raw: FormURLEncoded.encode(form), headers: headers)
                #expect(signed.status == .ok)
                #expect(signed.text == "<Response/>")
                // Twilio retries a webhook: the same MessageSid is taken once.
                _ = try await client.request(.post, "/v1/telephony/twilio/sms", key: nil, raw: FormURLEncoded.encode(form), headers: headers)
                let confirmed = try await client.eventually(thread, key: key) { $0.message(2)?.status == .delivered }
                #expect(confirmed.thread.count == 3)
                #expect(confirmed.message(1)?.body == "STOP")
                #expect(await fake.created.filter { $0.to == Self.ann }.count == 2)
                #expect(try await client.get("/v1/suppressions", key: key).text.contains(Self.ann))
            }
        }
    }

    /// The model on the phone: asks for a budget, hears it, says goodbye and hangs up.
    static func model(_ call: FakeLLM.Call) -> JSONValue {
        if call.wantsJSON {
            return FakeLLM.text(#"{"summary": "Ann wants a quote; her budget is 5000 dollars.", "sentiment": "positive", "successful": true, "reason": "She gave a budget.", "budget": "5000", "lead_outcome": "qualified"}"#)
        }
        if call.lastLead.contains("5000") { return FakeLLM.tool("end_conversation", ["outcome": "qualified"], content: "Thanks, goodbye!") }
        return FakeLLM.text("Sure. What is your budget?")
    }

    @Test func aTwilioCallTalksToItsVoiceAgent() async throws {
        let llm = FakeLLM(Self.model)
        let inbox = WebhookInbox()
        try await inbox.serve { inboxPort in
        try await FakeCarrier.serve(FakeLLM.router(llm)) { llmURL in
            let harness = Harness(.sqlite) {
                $0.publicURL = Self.publicURL
                $0.llm = LLMConfiguration(baseURL: llmURL + "/v1", apiKey: FakeLLM.apiKey, model: "test-model")
            }
            let key = try await harness.key(admin: true)
            try await harness.run(live: true) { client in
                let fake = FakeCarrier(publicURL: Self.publicURL, scripts: [
                    "0101": CarrierScript(callbacks: [[("CallStatus", "ringing")], [("CallStatus", "in-progress"), ("AnsweredBy", "human")],
                                                      [("CallStatus", "completed"), ("CallDuration", "40")]]),
                ])
                try await FakeCarrier.serve(FakeTwilio.router(fake, deliver: Self.deliver(client))) { baseURL in
                    let number = try await Self.twilioNumber(client, key: key, baseURL: baseURL)
                    let agent = try await client.post("/v1/agents", key: key, [
                        "agent_type": "voice", "agent_name": "Caller", "prompt": "You sell solar.",
                        "starting_message": "Hello {{first_name}}, this is Acme.", "extraction_fields": ["budget"],
                        "success_criteria": "The lead gives a budget.",
                    ])
                    let hook = try await client.post("/v1/webhooks", key: key, ["url": .string("http://127.0.0.1:\(inboxPort)/hook"), "events": ["call.analyzed"]])
                    #expect(hook.status == .ok, "\(hook.text)")
                    let campaign = try await client.campaign(key: key, agent: agent["agent_id"]?.stringValue ?? "", number: number,
                                                             leads: [["phone_number": .string(Self.ann), "first_name": "Ann"]])
                    try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }

                    // The call's TwiML connects it to our relay route.
                    let twiml = await fake.created.first?.fields.first { $0.0 == "Twiml" }?.1 ?? ""
                    let (path, _) = Self.relayPaths(twiml)
                    let signedURL = "wss://switchboard.example.com" + path

                    // Without Twilio's signature, no upgrade.
                    await #expect(throws: (any Error).self) {
                        try await client.client.ws(path) { _, _, _ in }
                    }
                    var configuration = WebSocketClientConfiguration()
                    configuration.additionalHeaders[HTTPField.Name("X-Twilio-Signature")!] = FakeTwilio.signature(url: signedURL, form: [])
                    let heard = Locked<[JSONValue]>([])
                    try await client.client.ws(path, configuration: configuration) { inbound, outbound, _ in
                        var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        func next() async throws -> JSONValue {
                            guard case .text(let text)? = try await messages.next() else { return .null }
                            let json = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
                            heard.withLock { $0.append(json) }
                            return json
                        }
                        try await outbound.write(.text(#"{"type": "setup", "sessionId": "VX1", "callSid": "CA1", "from": "+15175550199", "to": "+15175550101", "direction": "outbound-api"}"#))
                        _ = try await next()
                        try await outbound.write(.text(#"{"type": "prompt", "voicePrompt": "I want a quote", "lang": "en-US", "last": true}"#))
                        _ = try await next()
                        try await outbound.write(.text(#"{"type": "interrupt", "utteranceUntilInterrupt": "Sure.", "durationUntilInterruptMs": 400}"#))
                        try await outbound.write(.text(#"{"type": "prompt", "voicePrompt": "About 5000", "last": false}"#))
                        try await outbound.write(.text(#"{"type": "prompt", "voicePrompt": " dollars.", "last": true}"#))
                        _ = try await next()
                        _ = try await next()
                    }
                    let said = heard.withLock { $0 }
                    #expect(said.map { $0["type"]?.stringValue ?? "" } == ["text", "text", "text", "end"])
                    #expect(said.first?["token"] == "Hello Ann, this is Acme.")
                    #expect(said[1]["token"] == "Sure. What is your budget?")
                    #expect(said[2]["token"] == "Thanks, goodbye!")

                    let callID = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls.first?.callId ?? ""
                    let reply = try await client.eventually("/v1/voice/calls/\(callID)", key: key) {
                        $0["call"]?["extracted_fields"]?["budget"] == "5000"  // extracted fields are free-form
                    }
                    let call = try reply.decode(Components.Schemas.CallEnvelope.self).call
                    #expect(call.transcriptObject?.map(\.content)
                        == ["Hello Ann, this is Acme.", "I want a quote", "Sure.", "About 5000 dollars.", "Thanks, goodbye!"])
                    #expect(call.transcript?.hasPrefix("Agent: Hello Ann") == true)

                    // The analysis: one request after the call, its verdict filterable, its event sent.
                    let analysis = try #require(call.callAnalysis)
                    #expect(analysis.summary.contains("5000") && analysis.sentiment == .positive && analysis.successful == true)
                    #expect(try await client.get("/v1/voice/calls?success=true", key: key).calls.map(\.callId) == [callID])
                    #expect(try await client.get("/v1/voice/calls?success=false", key: key).calls.isEmpty)
                    #expect(try await client.get("/v1/voice/calls?success=maybe", key: key).status == .badRequest)
                    let analysisRequests = await llm.calls.filter(\.wantsJSON)
                    #expect(analysisRequests.count == 1)
                    #expect(analysisRequests.first?.system.contains("The lead gives a budget.") == true)
                    try await until { await !inbox.of("call.analyzed").isEmpty }
                    let event = await inbox.of("call.analyzed").first
                    #expect(event?.body.contains(#""successful":true"#) == true && event?.body.contains(callID) == true, "\(event?.body ?? "")")

                    // Twilio recorded the call (both sides); its recording is fetched and served as ours.
                    let recorded = try await client.eventually("/v1/voice/calls/\(callID)", key: key) { $0["call"]?["recording_url"]?.stringValue != nil }
                    #expect(recorded["call"]?["recording_duration_sec"] == 2)
                    let created = await fake.created.first?.fields ?? []
                    #expect(created.contains { $0 == ("Record", "true") } && created.contains { $0 == ("RecordingChannels", "dual") })
                    let wav = try await client.get("/v1/voice/calls/\(callID)/recording", key: key)
                    #expect(wav.status == .ok && (try? WAV.parse(Array(wav.body.readableBytesView)))?.channels == 2)
                }
            }
        }
        }
    }
}
