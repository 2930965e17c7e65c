import Crypto
import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// Creates the organization, tenant and user when new, and a key for them. Returns the plain
    /// key, which is stored only as its SHA-256 (keys are 256 random bits: a fast hash is safe).
    public func createAPIKey(organizationID: String, tenantID: String, userID: String, role: Principal.Role, now: Date) async throws -> String {
        try await issueAPIKey(organizationID: organizationID, tenantID: tenantID, userID: userID, role: role, now: now).secret
    }

    /// The same, with the key's record (its id, to list and revoke it by).
    public func issueAPIKey(organizationID: String, tenantID: String, userID: String, role: Principal.Role, now: Date) async throws
        -> (record: APIKeyRecord, secret: String) {
        let secret = Identifier.make("sb_", bytes: 32)
        let id = Identifier.make("key_")
        let hash = Self.hashKey(secret)
        try await write { db in
            try await ensureIdentity(db, organizationID: organizationID, tenantID: tenantID, userID: userID, now: now)
            try await db.raw("""
                INSERT INTO api_keys (id, key_hash, organization_id, tenant_id, user_id, role, created_at)
                VALUES (\(bind: id), \(bind: hash), \(bind: organizationID), \(bind: tenantID), \(bind: userID), \(bind: role.rawValue), \(bind: now.epoch))
                """).run()
        }
        return (APIKeyRecord(id: id, organizationID: organizationID, tenantID: tenantID, userID: userID, role: role, createdAt: now), secret)
    }

    /// The key's principal, from `principals` when this process resolved it a moment ago.
    public func principal(forKey key: String) async throws -> Principal? {
        let digest = Self.keyDigest(key)
        if let known = principals.principal(digest: digest) { return known }
        let hash = digest.hexString
        let principal = try await database.read { db -> Principal? in
            guard let row = try await db.raw("SELECT id, organization_id, tenant_id, user_id, role FROM api_keys WHERE key_hash = \(bind: hash)").first() else { return nil }
            return Principal(keyID: try row.string("id"), organizationID: try row.string("organization_id"), tenantID: try row.string("tenant_id"),
                             userID: try row.string("user_id"), role: Principal.Role(rawValue: try row.string("role")) ?? .member)
        }
        if let principal { principals.remember(principal, digest: digest) }
        return principal
    }

    func ensureIdentity(_ db: any SQLDatabase, organizationID: String, tenantID: String, userID: String, now: Date) async throws {
        try await db.raw("INSERT INTO organizations (id, created_at) VALUES (\(bind: organizationID), \(bind: now.epoch)) ON CONFLICT DO NOTHING").run()
        try await db.raw("INSERT INTO tenants (organization_id, id, created_at) VALUES (\(bind: organizationID), \(bind: tenantID), \(bind: now.epoch)) ON CONFLICT DO NOTHING").run()
        try await db.raw("""
            INSERT INTO users (organization_id, id, tenant_id, created_at) VALUES (\(bind: organizationID), \(bind: userID), \(bind: tenantID), \(bind: now.epoch))
            ON CONFLICT DO NOTHING
            """).run()
    }

    static func hashKey(_ key: String) -> String { keyDigest(key).hexString }

    /// The key's SHA-256, hashed from its UTF-8 in place (no `Data` made for it).
    static func keyDigest(_ key: String) -> SHA256Digest {
        var key = key
        return key.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
    }
}

/// An API key as an admin sees it: never the key itself, which is shown once at creation.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: String
    public var organizationID: String
    public var tenantID: String
    public var userID: String
    public var role: Principal.Role
    public var createdAt: Date
}

extension Store {
    /// The organization's keys, newest first.
    public func apiKeys(organizationID: String) async throws -> [APIKeyRecord] {
        try await database.read { db in
            try await db.raw("""
                SELECT id, organization_id, tenant_id, user_id, role, created_at FROM api_keys
                WHERE organization_id = \(bind: organizationID) ORDER BY created_at DESC, id
                """).all().map { row in
                APIKeyRecord(id: try row.string("id"), organizationID: try row.string("organization_id"), tenantID: try row.string("tenant_id"),
                             userID: try row.string("user_id"), role: Principal.Role(rawValue: try row.string("role")) ?? .member,
                             createdAt: try row.date("created_at"))
            }
        }
    }

    /// Revokes one of the organization's keys: it stops working at once in this process, and
    /// within `PrincipalCache.lifetime` in any other. False when there is no such key.
    public func revokeAPIKey(id: String, organizationID: String) async throws -> Bool {
        defer { principals.forget(keyID: id) }
        return try await write { db in
            guard try await db.raw("DELETE FROM api_keys WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) RETURNING id").first() != nil else {
                return false
            }
            // Its console sign-ins end with it (they also stop matching a key at once).
            try await db.raw("DELETE FROM console_sessions WHERE key_id = \(bind: id)").run()
            return true
        }
    }
}
