import Foundation
import Hummingbird
import HummingbirdTesting
import SwitchboardAPI
import SwitchboardCore
import SwitchboardServer
import Testing
import Webhooks

/// What a tenant sends never makes the server call an address the operator did not allow: a
/// carrier number's `api_base_url`, or a webhook aimed at loopback, private or link-local
/// addresses (directly, or through a name that resolves there). A listener on loopback
/// stands where the server would be tricked into calling, and must hear nothing.
@Suite struct OutboundSafetyTests {
    /// Counts every request that reaches it.
    actor Listener {
        private(set) var hits = 0
        func hit() { hits += 1 }

        func serve(_ body: @Sendable (_ baseURL: String, _ port: Int) async throws -> Void) async throws {
            let router = Router()
            router.post("**") { _, _ -> Response in
                await self.hit()
                return Response(status: .ok)
            }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)", client.port!) }
        }
    }

    static func twilioNumber(_ baseURL: String) -> JSONValue {
        ["phone_number": "+15175550199", "provider": "twilio",
         "settings": ["account_sid": "AC123", "auth_token": "secret", "api_base_url": .string(baseURL + "/internal?q=")]]
    }

    @Test func carrierBaseURLsAreTheOperatorsToAllow() async throws {
        let listener = Listener()
        try await listener.serve { baseURL, _ in
            let closed = Harness(.sqlite) { $0.allowCarrierBaseURL = false }
            let member = try await closed.key()
            let admin = try await closed.key(user: "boss", admin: true)
            try await closed.run { client in
                for key in [member, admin] {
                    let refused = try await client.post("/v1/voice/phone-numbers/create", key: key, Self.twilioNumber(baseURL))
                    #expect(refused.status == .badRequest)
                    #expect(refused.error?.hasPrefix("api_base_url is not allowed on this server") == true)
                }
                // Without one, the number is registered and dials Twilio's own endpoint.
                let plain: JSONValue = ["phone_number": "+15175550198", "provider": "twilio",
                                        "settings": ["account_sid": "AC123", "auth_token": "secret"]]
                #expect(try await client.post("/v1/voice/phone-numbers/create", key: member, plain).status == .ok)
            }
            let open = Harness(.sqlite)  // the tests' fake carriers need it: allowed
            let member2 = try await open.key()
            let admin2 = try await open.key(user: "boss", admin: true)
            try await open.run { client in
                let byMember = try await client.post("/v1/voice/phone-numbers/create", key: member2, Self.twilioNumber(baseURL))
                #expect(byMember.status == .forbidden)
                let byAdmin = try await client.post("/v1/voice/phone-numbers/create", key: admin2, Self.twilioNumber(baseURL))
                #expect(byAdmin.status == .ok)
            }
            #expect(await listener.hits == 0)
        }
        // A number stored with a base URL before the operator closed it still dials Twilio's own.
        let settings: [String: JSONValue] = ["account_sid": "AC1", "auth_token": "t", "api_base_url": "http://127.0.0.1:1"]
        #expect(try TwilioAccount(settings: settings).apiBaseURL == TwilioAccount.defaultBaseURL)
        #expect(try VobizAccount(settings: ["auth_id": "MA1", "auth_token": "t", "api_base_url": "http://127.0.0.1:1"]).apiBaseURL
            == VobizAccount.defaultBaseURL)
        #expect(try TwilioAccount(settings: settings, allowBaseURL: true).apiBaseURL == "http://127.0.0.1:1")
    }

    @Test func webhooksNeverReachTheOperatorsNetwork() async throws {
        let listener = Listener()
        try await listener.serve { _, port in
            let harness = Harness(.sqlite) { $0.allowPrivateWebhooks = false; $0.webhooks.pollInterval = 0.02 }
            let admin = try await harness.key(user: "boss", admin: true)
            let member = try await harness.key()
            try await harness.run { client in
                let events: JSONValue = ["call.initiated", "call.completed"]
                for url in ["http://127.0.0.1:\(port)/hook", "http://localhost:\(port)/hook", "http://[::1]:\(port)/hook",
                            "http://169.254.169.254/latest/meta-data", "http://10.0.0.1/", "http://0.0.0.0:\(port)/"] {
                    let refused = try await client.post("/v1/webhooks", key: admin, ["url": .string(url), "events": events])
                    #expect(refused.status == .badRequest, "\(url)")
                    #expect(refused.error?.contains("SWITCHBOARD_ALLOW_PRIVATE_WEBHOOKS") == true)
                }
                // A name that resolves to loopback passes registration and is refused when
                // connecting, on the address it resolved to.
                let host = ProcessInfo.processInfo.hostName
                let created = try await client.post("/v1/webhooks", key: admin, ["url": .string("http://\(host):\(port)/hook"), "events": events])
                #expect(created.status == .ok, "\(created.text)")
                let hook = try created.decode(Components.Schemas.WebhookCreated.self).webhook.id
                _ = try await client.campaign(key: member, agent: try await client.agent(key: member), number: try await client.number(key: member),
                                              leads: [["phone_number": "+15550000001", "simulate": "completed"]])
                let deliveries = try await client.eventually("/v1/webhooks/\(hook)/deliveries", key: admin) { reply in
                    reply.deliveries.contains { $0.attempts >= 1 }
                }
                let tried = deliveries.deliveries.first { $0.attempts >= 1 }
                #expect(tried?.lastError == "the address is not allowed (private, loopback or link-local)")
                #expect(tried?.lastStatusCode == nil)
            }
            #expect(await listener.hits == 0)
        }
    }

    @Test func connectionFailuresReadTheSame() async throws {
        // With private targets allowed (on-premise receivers), a closed port and a refused
        // name say one thing, so the delivery log scans nothing.
        let harness = Harness(.sqlite) { $0.webhooks.pollInterval = 0.02 }
        let admin = try await harness.key(user: "boss", admin: true)
        let member = try await harness.key()
        try await harness.run { client in
            let hook = try await client.post("/v1/webhooks", key: admin, ["url": "http://127.0.0.1:1/hook", "events": ["call.initiated"]])
            let id = try hook.decode(Components.Schemas.WebhookCreated.self).webhook.id
            _ = try await client.campaign(key: member, agent: try await client.agent(key: member), number: try await client.number(key: member),
                                          leads: [["phone_number": "+15550000001", "simulate": "completed"]])
            let deliveries = try await client.eventually("/v1/webhooks/\(id)/deliveries", key: admin) {
                $0.deliveries.first?.attempts == 1
            }
            #expect(deliveries.deliveries.first?.lastError == "could not connect")
        }
    }
}
