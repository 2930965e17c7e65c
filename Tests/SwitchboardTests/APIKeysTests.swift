import Foundation
import HTTPTypes
import SwitchboardCore
import Testing

/// An organization's keys: an admin creates (shown once), lists and revokes them, over the API
/// and from the command line against the running server.
@Suite struct APIKeysTests {
    @Test(arguments: Backend.allCases) func anAdminCreatesListsAndRevokesKeys(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let admin = try await harness.key(admin: true)
        let member = try await harness.key(user: "user_m")
        let other = try await harness.key(organization: "org_b", tenant: "tenant_b", user: "user_b", admin: true)
        try await harness.run { client in
            let created = try await client.post("/v1/api-keys", key: admin, ["user_id": "user_c", "role": "member"])
            #expect(created.status == .ok, "\(created.text)")
            let key = try #require(created["key"]?.stringValue)
            let keyID = try #require(created["key_id"]?.stringValue)
            #expect(created["user_id"] == "user_c" && created["role"] == "member")
            #expect(try await client.get("/v1/voice/campaigns", key: key).status == .ok)

            let listed = try await client.get("/v1/api-keys", key: admin)
            #expect(listed["count"] == 3)
            #expect(!listed.text.contains(key), "a listed key never shows the key itself")
            #expect(listed["api_keys"]?.arrayItems?.contains { $0["key_id"]?.stringValue == keyID } == true)
            // Members may not; another organization sees none of ours and cannot revoke them.
            #expect(try await client.get("/v1/api-keys", key: member).status == .forbidden)
            #expect(try await client.post("/v1/api-keys", key: member, ["user_id": "user_m"]).status == .forbidden)
            #expect(try await client.get("/v1/api-keys", key: other)["count"] == 1)
            #expect(try await client.request(.delete, "/v1/api-keys/\(keyID)", key: other).status == .notFound)
            #expect(try await client.post("/v1/api-keys", key: admin, ["role": "owner"]).status == .badRequest)

            #expect(try await client.request(.delete, "/v1/api-keys/\(keyID)", key: admin).status == .ok)
            #expect(try await client.get("/v1/voice/campaigns", key: key).status == .unauthorized)
            #expect(try await client.request(.delete, "/v1/api-keys/\(keyID)", key: admin).status == .notFound)
        }
    }
}
