import Foundation
import HTTPTypes
import SwitchboardAPI
import SwitchboardCore
import Testing

/// The "done when" for SIP: one campaign dialing through a SIPp trunk, each lead's
/// outcome matching its scenario, and the retry history showing each attempt's SIP status.
@Suite struct SIPTrunkTests {
    /// Last four digits → the scenario's outcome and what the history must say of it.
    static let scenarios: [(digits: String, outcome: String, detail: String)] = [
        ("0200", "completed", "SIP 200 OK; hung up with BYE: no speech-to-text configured"),
        ("0486", "busy", "SIP 486 Busy Here"),
        ("0600", "busy", "SIP 600 Busy Everywhere"),
        ("0603", "call_declined", "SIP 603 Decline"),
        ("0404", "invalid_number", "SIP 404 Not Found"),
        ("0480", "no_answer", "SIP 480 Temporarily Unavailable"),
        ("0487", "no_answer", "SIP 487 Request Terminated after CANCEL at the 5 s ring timeout"),
        ("0201", "no_answer", "SIP 200 OK after the 5 s ring timeout; hung up with BYE"),
        ("0407", "completed", "SIP 200 OK; hung up with BYE: no speech-to-text configured"),
        ("0401", "completed", "SIP 200 OK; hung up with BYE: no speech-to-text configured"),
    ]

    @Test func aCampaignDialsThroughASIPpTrunk() async throws {
        let harness = Harness(.sqlite)
        let errors = try await SIPpTrunk.serve { trunk in
            try await harness.runWithAgentAndNumber { client, key, agent, _ in
                let number = try await client.number(key: key, [
                    "phone_number": "+15175550100", "provider": "sip_trunk", "calls_per_second": 0,
                    "settings": ["host": "127.0.0.1", "port": .number(Double(trunk.port)), "transport": "udp",
                                 "username": "switchboard", "password": "s3cret", "from_domain": "switchboard.test"],
                ])
                let campaign = try await client.campaign(key: key, agent: agent, number: number,
                    leads: Self.scenarios.map { ["phone_number": .string("+1517555\($0.digits)")] },
                    ["ring_timeout_seconds": 5, "max_call_duration_seconds": 1, "redial_enabled": true,
                     "redial_config": ["retry_limit": 1, "call_interval_seconds": 60, "retry_on": ["busy"]]])

                // First pass: the two busy leads wait a minute for their retry; the rest are done.
                try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key, seconds: 30) {
                    $0.count(\.retryScheduled) == 2 && $0.count(\.inProgress) == 0 && $0.count(\.pending) == 0
                }
                harness.clock.advance(by: 61)
                let done = try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key, seconds: 30) { $0.status_ == "completed" }
                #expect(done.outcomes == ["completed": 3, "busy": 2, "call_declined": 1, "invalid_number": 1, "no_answer": 3])

                let calls = try await client.get("/v1/voice/calls?campaign_id=\(campaign)", key: key).decode(Components.Schemas.CallList.self)
                #expect(calls.count == Self.scenarios.count)
                for call in calls.calls {
                    let to = call.toNumber
                    guard let scenario = Self.scenarios.first(where: { to.hasSuffix($0.digits) }) else { continue }
                    #expect(call.outcome == scenario.outcome, "\(to)")
                    let history = try await client.request(.get, "/v1/call-logs/\(call.callId)/retries", key: key, keyHeader: "Bearer")
                    let attempts = try history.decode(Components.Schemas.RetryHistory.self).data
                    #expect(attempts.count == (scenario.outcome == "busy" ? 2 : 1), "\(to): \(history.text)")
                    for attempt in attempts {
                        #expect(attempt.status == scenario.outcome, "\(to)")
                        #expect(attempt.detail == scenario.detail, "\(to)")
                    }
                }
            }
        }
        // SIPp logs every message it did not expect: a malformed ACK, a missing CANCEL, a BYE
        // that never came.
        #expect(errors.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(errors)")
    }
}
