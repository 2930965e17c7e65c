import Foundation
import Store
import SwitchboardCore

extension Schemas {
    /// `APIKey`: a key's record; `key` only in the answer that created it.
    struct APIKey: Encodable, Sendable {
        var key_id: String
        var organization_id: String
        var tenant_id: String
        var user_id: String
        var role: Principal.Role
        var created_at: String
        var key: String?

        init(_ record: APIKeyRecord, key: String? = nil) {
            key_id = record.id
            organization_id = record.organizationID
            tenant_id = record.tenantID
            user_id = record.userID
            role = record.role
            created_at = Timestamps.teli(record.createdAt)
            self.key = key
        }
    }

    struct APIKeyList: Encodable, Sendable {
        var count: Int
        var api_keys: [APIKey]
    }

    struct APIKeyRevoked: Encodable, Sendable {
        var key_id: String
        var message = "API key revoked"
    }
}
