import Foundation
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// The organization's API keys, for its admins: create (the key is shown once), list (never the
/// keys themselves) and revoke.
struct APIKeysController {
    let api: APIEnvironment

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.post("v1/api-keys", use: create)
        router.get("v1/api-keys", use: list)
        router.delete("v1/api-keys/:key_id", use: revoke)
    }

    private static let adminOnly = "API keys are managed with an admin key"

    @Sendable func create(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.APIKey>> {
        let principal = try context.admin(Self.adminOnly)
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        let owner = try principal.owner(body)
        for (name, value) in [("tenant_id", owner.tenantID), ("user_id", owner.userID)] {
            if let problem = ClientID.problem(value) { throw APIError.badRequest("\(name) \(problem)", field: name) }
        }
        let role = try body.string("role") ?? Principal.Role.member.rawValue
        guard let parsed = Principal.Role(rawValue: role) else { throw APIError.badRequest("role must be admin or member", field: "role") }
        let now = api.clock.now()
        let (record, secret) = try await api.store.issueAPIKey(organizationID: owner.organizationID, tenantID: owner.tenantID,
                                                               userID: owner.userID, role: parsed, now: now)
        context.logger.info("api key created", metadata: ["key_id": "\(record.id)", "user_id": "\(record.userID)", "role": "\(role)"])
        return api.teli(Schemas.APIKey(record, key: secret))
    }

    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.APIKeyList>> {
        let principal = try context.admin(Self.adminOnly)
        let keys = try await api.store.apiKeys(organizationID: principal.organizationID)
        return api.teli(Schemas.APIKeyList(count: keys.count, api_keys: keys.map { Schemas.APIKey($0) }))
    }

    @Sendable func revoke(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.APIKeyRevoked>> {
        let principal = try context.admin(Self.adminOnly)
        let id = try context.parameter("key_id")
        guard try await api.store.revokeAPIKey(id: id, organizationID: principal.organizationID) else { throw APIError.notFound("API key") }
        context.logger.info("api key revoked", metadata: ["key_id": "\(id)"])
        return api.teli(Schemas.APIKeyRevoked(key_id: id))
    }
}
