import Foundation
import HTTPTypes
import Logging
import ServiceLifecycle
import SwitchboardCore
import SwitchboardServer
import Testing

/// `--role api` in front of two `--role dialer` processes on one PostgreSQL: the carriers'
/// callbacks reach the API process only, and each call's end still reaches the dialer that
/// waits on it at once, through the database — not at Twilio's next poll (set to an hour here)
/// nor, for Vobiz, after ring + limit + 10 minutes.
@Suite struct SplitRoleTests {
    static let publicURL = "https://switchboard.example.com"
    static let completed: [String: CarrierScript] = [
        "0001": CarrierScript(callbacks: [[("CallStatus", "ringing")], [("CallStatus", "in-progress")],
                                          [("CallStatus", "completed"), ("CallDuration", "12")]]),
        "0002": CarrierScript(callbacks: [[("CallStatus", "busy")]]),
        "0003": CarrierScript(callbacks: [[("_callback", "ring"), ("CallStatus", "ringing")],
                                          [("_callback", "answer"), ("CallStatus", "in-progress")],
                                          [("_callback", "hangup"), ("CallStatus", "completed"), ("HangupCause", "NORMAL_CLEARING"), ("Duration", "9")]]),
        "0004": CarrierScript(callbacks: [[("_callback", "hangup"), ("CallStatus", "busy"), ("HangupCause", "USER_BUSY")]]),
    ]

    @Test func callbacksReachDialersInOtherProcesses() async throws {
        let harness = Harness(.postgres) {
            $0.publicURL = Self.publicURL
            $0.role = .api
            $0.carrierPollSeconds = 3_600
            // Real time: nothing in the API process wakes the other processes' dialers; they poll.
            $0.clock = SystemClock()
        }
        let key = try await harness.key(admin: true)
        let dialers = try (0..<2).map { _ in try Self.dialerProcess(database: harness.config.databaseURL) }
        defer { for process in dialers { Self.stop(process) } }
        do {  // the dialers stop (defer) however the test ends
            try await harness.run { client in
                let fake = FakeCarrier(publicURL: Self.publicURL, scripts: Self.completed)
                let deliver: @Sendable (String, String, HTTPFields) async throws -> Client.Reply = { path, body, headers in
                    var headers = headers
                    headers[.contentType] = "application/x-www-form-urlencoded"
                    return try await client.request(.post, path, key: nil, raw: body, headers: headers)
                }
                let twilio = FakeTwilio.router(fake) { Int(try await deliver($0, $1, $2).status.code) }
                try await FakeCarrier.serve(twilio) { twilioURL in
                    let vobiz = FakeVobiz.router(fake) { let reply = try await deliver($0, $1, $2); return (Int(reply.status.code), reply.text) }
                    try await FakeCarrier.serve(vobiz) { vobizURL in
                        let agent = try await client.agent(key: key)
                        let twilioNumber = try await client.number(key: key, [
                            "phone_number": "+15175550199", "provider": "twilio", "calls_per_second": 0,
                            "settings": ["account_sid": .string(FakeTwilio.accountSID), "auth_token": .string(FakeTwilio.authToken),
                                         "api_base_url": .string(twilioURL)],
                        ])
                        let vobizNumber = try await client.number(key: key, [
                            "phone_number": "+15175550198", "provider": "vobiz", "calls_per_second": 0,
                            "settings": ["auth_id": .string(FakeVobiz.authID), "auth_token": .string(FakeVobiz.authToken),
                                         "api_base_url": .string(vobizURL)],
                        ])
                        let viaTwilio = try await client.campaign(key: key, agent: agent, number: twilioNumber, leads: [
                            ["phone_number": "+15175550001"], ["phone_number": "+15175550002"],
                        ])
                        let viaVobiz = try await client.campaign(key: key, agent: agent, number: vobizNumber, leads: [
                            ["phone_number": "+15175550003"], ["phone_number": "+15175550004"],
                        ])
                        for campaign in [viaTwilio, viaVobiz] {
                            let done = try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key, seconds: 10) {
                                $0.status_ == "completed"
                            }
                            #expect(done.outcomes == ["completed": 1, "busy": 1])
                        }
                        // Every callback was taken (none refused), all by the API process.
                        #expect(await fake.callbackAnswers.allSatisfy { $0.status == 204 || $0.status == 200 })
                    }
                }
            }
        }
    }

    /// `switchboard serve --role dialer`, the binary built beside this test bundle.
    static func dialerProcess(database: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("switchboard")
        process.arguments = ["serve", "--role", "dialer", "--port", "0", "--database", database]
        var environment = ProcessInfo.processInfo.environment
        environment["SWITCHBOARD_ALLOW_CARRIER_BASE_URL"] = "1"
        environment["SWITCHBOARD_PUBLIC_URL"] = publicURL
        environment["SWITCHBOARD_LOG_LEVEL"] = "warning"
        process.environment = environment
        try process.run()
        return process
    }

    /// SIGTERM, and SIGKILL if it has not gone within ten seconds.
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

