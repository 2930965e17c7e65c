import Foundation
import HTTPTypes
import SwitchboardCore
import SwitchboardServer
import Testing

/// Vobiz: a campaign through a fake Vobiz that makes calls with its own auth headers and sends
/// signed ring, answer and hang-up callbacks, one of them forged.
@Suite struct VobizTests {
    static let publicURL = "https://switchboard.example.com"

    static let scripts: [String: CarrierScript] = [
        "0001": CarrierScript(callbacks: [[("_callback", "ring"), ("CallStatus", "ringing")],
                                          [("_callback", "answer"), ("CallStatus", "in-progress")],
                                          [("_callback", "hangup"), ("CallStatus", "completed"), ("HangupCause", "NORMAL_CLEARING"), ("Duration", "30")]],
                              forgeFirst: true),
        "0002": CarrierScript(callbacks: [[("_callback", "hangup"), ("CallStatus", "busy"), ("HangupCause", "USER_BUSY")]]),
        "0003": CarrierScript(callbacks: [[("_callback", "hangup"), ("CallStatus", "failed"), ("HangupCause", "UNALLOCATED_NUMBER")]]),
        "0004": CarrierScript(callbacks: [[("_callback", "ring"), ("CallStatus", "ringing")],
                                          [("_callback", "hangup"), ("CallStatus", "no-answer"), ("HangupCause", "NO_ANSWER")]]),
        "0005": CarrierScript(refuse: (500, #"{"error": "internal error"}"#)),
    ]
    static let expected = ["0001": "completed", "0002": "busy", "0003": "invalid_number", "0004": "no_answer", "0005": "failed"]

    /// Vobiz's callbacks, delivered through the app's test client; their status and body back.
    static func deliver(_ client: Client) -> @Sendable (String, String, HTTPFields) async throws -> (Int, String) {
        { path, body, headers in
            var headers = headers
            headers[.contentType] = "application/x-www-form-urlencoded"
            let reply = try await client.request(.post, path, key: nil, raw: body, headers: headers)
            return (Int(reply.status.code), reply.text)
        }
    }

    @Test func aCampaignDialsThroughVobiz() async throws {
        let harness = Harness(.sqlite) { $0.publicURL = Self.publicURL }
        try await harness.runWithAgentAndNumber(admin: true) { client, key, agent, _ in
            let fake = FakeCarrier(publicURL: Self.publicURL, scripts: Self.scripts)
            let router = FakeVobiz.router(fake, deliver: Self.deliver(client))
            try await FakeCarrier.serve(router) { baseURL in
                let number = try await client.number(key: key, [
                    "phone_number": "+15175550198", "provider": "vobiz", "calls_per_second": 0,
                    "settings": ["auth_id": .string(FakeVobiz.authID), "auth_token": .string(FakeVobiz.authToken), "api_base_url": .string(baseURL)],
                ])
                let campaign = try await client.campaign(key: key, agent: agent, number: number,
                    leads: Self.expected.keys.sorted().map { ["phone_number": .string("+1517555\($0)")] }, ["redial_enabled": false])
                try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key, seconds: 30) { $0.status_ == "completed" }
                let calls = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key)
                for call in calls["calls"]?.arrayValue ?? [] {
                    let to = call["to_number"]?.stringValue ?? ""
                    #expect(call["outcome"]?.stringValue == Self.expected[String(to.suffix(4))], "\(to)")
                }
                let answers = await fake.callbackAnswers
                #expect(answers.filter(\.forged).map(\.status) == [403])
                #expect(answers.filter { !$0.forged }.allSatisfy { $0.status == 200 }, "\(answers)")
                // Vobiz takes numbers without the plus, and our callbacks at their own paths.
                let first = try #require(await fake.created.first { $0.to == "15175550001" })
                #expect(first.fields.contains { $0.0 == "answer_url" && $0.1.hasPrefix("\(Self.publicURL)/v1/telephony/vobiz/answer/") })
                #expect(first.fields.contains { $0 == ("from", "15175550198") })
            }
        }
    }
}
