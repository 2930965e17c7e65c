import Foundation
import HTTPTypes
import Logging
import SwitchboardAPI
import SwitchboardCore
import SwitchboardServer
import TelephonyTwilio
import Testing

/// The issue's "done when" for Twilio: a campaign dialing through a fake Twilio that speaks
/// its wire format and sends signed, duplicated, out-of-order and forged callbacks.
@Suite struct TwilioTests {
    static let publicURL = "https://switchboard.example.com"

    static let scripts: [String: CarrierScript] = [
        // Answered by a person; every callback twice, and a forged "busy" first.
        "0001": CarrierScript(callbacks: [[("CallStatus", "initiated")], [("CallStatus", "ringing")],
                                          [("CallStatus", "in-progress"), ("AnsweredBy", "human")],
                                          [("CallStatus", "completed"), ("CallDuration", "42"), ("AnsweredBy", "human")]],
                              forgeFirst: true, duplicate: true),
        // A machine answers: voicemail, not completed.
        "0002": CarrierScript(callbacks: [[("CallStatus", "ringing")], [("CallStatus", "in-progress"), ("AnsweredBy", "machine_end_beep")],
                                          [("CallStatus", "completed"), ("CallDuration", "20")]]),
        "0003": CarrierScript(callbacks: [[("CallStatus", "ringing")], [("CallStatus", "busy")]]),
        "0004": CarrierScript(callbacks: [[("CallStatus", "ringing")], [("CallStatus", "no-answer")]]),
        // Out of order: the end first, then a late ringing and answer, which change nothing.
        "0005": CarrierScript(callbacks: [[("CallStatus", "completed"), ("CallDuration", "30")], [("CallStatus", "ringing")],
                                          [("CallStatus", "in-progress")]]),
        // Twilio's 20429 twice, then accepted.
        "0006": CarrierScript(rateLimited: 2, callbacks: [[("CallStatus", "completed"), ("CallDuration", "5")]]),
        "0007": CarrierScript(refuse: (400, #"{"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}"#)),
        "0008": CarrierScript(refuse: (503, #"{"code": 20500, "message": "Service Unavailable", "status": 503}"#)),
    ]

    static let expected = ["0001": "completed", "0002": "voicemail", "0003": "busy", "0004": "no_answer", "0005": "completed",
                           "0006": "completed", "0007": "invalid_number", "0008": "failed"]

    @Test(arguments: Backend.allCases) func aCampaignDialsThroughTwilio(_ backend: Backend) async throws {
        let harness = Harness(backend) { $0.publicURL = Self.publicURL }
        try await harness.runWithAgentAndNumber(admin: true) { client, key, agent, _ in
            let fake = FakeCarrier(publicURL: Self.publicURL, scripts: Self.scripts)
            let router = FakeTwilio.router(fake) { path, body, headers in
                var headers = headers
                headers[.contentType] = "application/x-www-form-urlencoded"
                return Int(try await client.request(.post, path, key: nil, raw: body, headers: headers).status.code)
            }
            try await FakeCarrier.serve(router) { baseURL in
                let number = try await client.number(key: key, [
                    "phone_number": "+15175550199", "provider": "twilio", "calls_per_second": 0,
                    "settings": ["account_sid": .string(FakeTwilio.accountSID), "auth_token": .string(FakeTwilio.authToken),
                                 "api_base_url": .string(baseURL)],
                ])
                // The secret never comes back.
                let listed = try await client.get("/v1/voice/phone-numbers", key: key)
                #expect(!listed.text.contains(FakeTwilio.authToken))
                let campaign = try await client.campaign(key: key, agent: agent, number: number,
                    leads: Self.expected.keys.sorted().map { ["phone_number": .string("+1517555\($0)")] }, ["redial_enabled": false])
                let done = try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key, seconds: 30) { $0.status_ == "completed" }
                #expect(done.outcomes == ["completed": 3, "voicemail": 1, "busy": 1, "no_answer": 1, "invalid_number": 1, "failed": 1])

                let calls = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).calls
                for call in calls {
                    #expect(call.outcome == Self.expected[String(call.toNumber.suffix(4))], "\(call.toNumber)")
                }
                func attempt(_ suffix: String) async throws -> Components.Schemas.Attempt? {
                    let id = calls.first { $0.toNumber.hasSuffix(suffix) }?.callId ?? ""
                    return try await client.get("/v1/voice/calls/\(id)", key: key).decode(Components.Schemas.CallEnvelope.self).call.attempts?.first
                }
                let answered = try await attempt("0001")
                #expect(answered?.detail == "Twilio completed (AnsweredBy human)")
                #expect(answered?.durationSec == 42)
                #expect(answered?.providerCallId?.hasPrefix("CA") == true)
                #expect(try await attempt("0007")?.detail == "Twilio refused the request (error 21211)")
                #expect(try await attempt("0008")?.detail == "Twilio refused the request (error 20500)")
                #expect(try await attempt("0005")?.durationSec == 30)

                // Forged callbacks were refused; the real ones, duplicates included, taken.
                let answers = await fake.callbackAnswers
                #expect(answers.filter(\.forged).map(\.status) == [403])
                #expect(answers.filter { !$0.forged }.allSatisfy { $0.status == 204 }, "\(answers)")
                #expect(await fake.createTries["+15175550006"] == 3)
                // What was asked of Twilio: every status event, machine detection, the limits.
                let create = try #require(await fake.created.first { $0.to == "+15175550001" })
                #expect(create.fields.filter { $0.0 == "StatusCallbackEvent" }.map(\.1) == ["initiated", "ringing", "answered", "completed"])
                #expect(create.fields.contains { $0 == ("MachineDetection", "Enable") })
                #expect(create.fields.contains { $0.0 == "StatusCallback" && $0.1.hasPrefix("\(Self.publicURL)/v1/telephony/twilio/status?attempt_id=") })
            }
        }
    }

    /// An attempt whose dialer died is found in Twilio's Calls list, or known never to have
    /// reached Twilio.
    @Test func reconcilesInDoubtAttemptsFromTheCallsList() async throws {
        let fake = FakeCarrier(publicURL: Self.publicURL, scripts: ["0001": CarrierScript(callbacks: [[("CallStatus", "completed")]])])
        let router = FakeTwilio.router(fake) { _, _, _ in 204 }
        try await FakeCarrier.serve(router) { baseURL in
            let provider = TwilioProvider(publicURL: Self.publicURL, clock: SystemClock(), logger: .init(label: "test"), pollEvery: .milliseconds(50),
                                          allowBaseURL: true)
            let settings: [String: JSONValue] = ["account_sid": .string(FakeTwilio.accountSID), "auth_token": .string(FakeTwilio.authToken),
                                                 "api_base_url": .string(baseURL)]
            func request(_ to: String) -> DialRequest {
                DialRequest(attemptID: 7, callID: "call_x", attemptNumber: 1, from: "+15175550199", to: to, dialAt: Date().addingTimeInterval(-5),
                            settings: settings, ringTimeout: 30, maxDuration: 60, fields: [:])
            }
            // The callbacks never arrive here: the dial learns the end by polling the call.
            let result = await provider.dial(request("+15175550001"))
            #expect(result.outcome == .completed)
            guard case .ended(let found) = await provider.status(of: request("+15175550001")) else {
                Issue.record("the placed call was not found")
                return
            }
            #expect(found.outcome == .completed)
            #expect(await provider.status(of: request("+15175550002")) == .unknown)
            await provider.shutdown()
        }
    }
}
