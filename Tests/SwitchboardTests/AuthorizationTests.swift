import Foundation
import HTTPTypes
import SwitchboardAPI
import SwitchboardCore
import Testing

/// api.md's rules: 401 without a known key, 403 for a mismatched organization or a member
/// acting beyond itself, 404 for another organization's resources, everywhere.
@Suite struct AuthorizationTests {
    @Test(arguments: Backend.allCases) func everyHeaderStyleAuthenticates(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let key = try await harness.key()
        try await harness.run { client in
            for header in ["X-API-Key", "x-api-key", "Bearer"] {
                #expect(try await client.request(.get, "/v1/agents", key: key, keyHeader: header).status == .ok, "\(header)")
            }
            let missing = try await client.get("/v1/agents", key: nil)
            #expect(missing.status == .unauthorized)
            #expect(missing["success"] == false)
            #expect(try await client.get("/v1/agents", key: "sb_wrong").status == .unauthorized)
            #expect(try await client.get("/health", key: nil).status == .ok)
            let spec = try await client.get("/openapi.yaml", key: nil)
            #expect(spec.status == .ok)
            #expect(spec.text.hasPrefix("openapi: \"3.1.0\""))
        }
    }

    @Test(arguments: Backend.allCases) func anotherOrganizationSees404Everywhere(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let owner = try await harness.key()
        let stranger = try await harness.key(organization: "org_b", user: "user_b", admin: true)
        try await harness.run { client in
            let agent = try await client.agent(key: owner)
            let number = try await client.number(key: owner)
            let campaign = try await client.campaign(key: owner, agent: agent, number: number, leads: [["phone_number": "+15550000001", "simulate": "busy"]])
            let done = try await client.eventually("/v1/voice/calls?campaign_id=\(campaign)", key: owner) { $0.calls.count == 1 }
            let call = try #require(done.calls.first).callId

            let probes: [(HTTPRequest.Method, String)] = [
                (.get, "/v1/voice/campaigns/\(campaign)"), (.get, "/v1/voice/campaigns/\(campaign)/failed-numbers"),
                (.post, "/v1/voice/campaigns/\(campaign)/pause"), (.post, "/v1/voice/campaigns/\(campaign)/resume"),
                (.post, "/v1/voice/campaigns/\(campaign)/leads"), (.delete, "/v1/voice/campaigns/\(campaign)"),
                (.get, "/v1/voice/calls/\(call)"), (.get, "/v1/call-logs/\(call)/retries"), (.get, "/v1/agents/\(agent)"),
            ]
            for (method, path) in probes {
                let reply = try await client.request(method, path, key: stranger, raw: method == .post ? "[]" : nil)
                #expect(reply.status == .notFound, "\(method) \(path)")
            }
            // Their lists do not show it; using its agent or number is refused by name.
            #expect(try await client.get("/v1/voice/campaigns?is_admin=true", key: stranger).decode(Components.Schemas.VoiceCampaignList.self).count == 0)
            #expect(try await client.get("/v1/voice/calls?is_admin=true", key: stranger).calls.count == 0)
            let borrowed = try await client.post("/v1/voice/campaigns", key: stranger, [
                "leads": [], "voice_agent_id": .string(agent), "agent_outbound_number": .string(number),
            ])
            #expect(borrowed.status == .badRequest)
            #expect(borrowed.error?.hasPrefix("voice_agent_id") == true)
            // And the owner still has it.
            #expect(try await client.get("/v1/voice/campaigns/\(campaign)", key: owner).status == .ok)
        }
    }

    @Test(arguments: Backend.allCases) func organizationAndAdminRules(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let member = try await harness.key(user: "user_a")
        let colleague = try await harness.key(user: "user_c")
        let admin = try await harness.key(user: "boss", admin: true)
        try await harness.run { client in
            let agent = try await client.agent(key: member)
            let number = try await client.number(key: member)
            let campaign = try await client.campaign(key: member, agent: agent, number: number, leads: [])

            let otherOrg = try await client.post("/v1/voice/campaigns", key: member, [
                "leads": [], "voice_agent_id": .string(agent), "agent_outbound_number": .string(number), "organization_id": "org_z",
            ])
            #expect(otherOrg.status == .forbidden)
            #expect(otherOrg.error == "organization_id does not match your API key")
            let actingForOther = try await client.post("/v1/agents", key: member, ["agent_name": "x", "user_id": "user_c"])
            #expect(actingForOther.status == .forbidden)

            #expect(try await client.get("/v1/voice/campaigns?is_admin=true", key: member).status == .forbidden)
            #expect(try await client.get("/v1/voice/campaigns?organization_id=org_z", key: member).status == .forbidden)
            // A member sees its own; an admin sees the organization's with is_admin=true.
            #expect(try await client.get("/v1/voice/campaigns", key: colleague).decode(Components.Schemas.VoiceCampaignList.self).count == 0)
            #expect(try await client.get("/v1/voice/campaigns/\(campaign)", key: colleague).status == .forbidden)
            #expect(try await client.get("/v1/voice/campaigns", key: admin).decode(Components.Schemas.VoiceCampaignList.self).count == 0)
            #expect(try await client.get("/v1/voice/campaigns?is_admin=true", key: admin).decode(Components.Schemas.VoiceCampaignList.self).count == 1)
            #expect(try await client.get("/v1/voice/campaigns/\(campaign)", key: admin).status == .ok)
            // An admin may create for another user of its organization.
            let forUser = try await client.post("/v1/agents", key: admin, ["agent_name": "x", "user_id": "user_a"])
            #expect(forUser["user_id"] == "user_a")
        }
    }
}
