import Foundation
import SQLKit
import SwitchboardCore

/// A signed-in console: who it is (the key's principal) and the token its forms must carry.
public struct ConsoleSession: Sendable, Equatable {
    public var principal: Principal
    public var csrf: String
}

extension Store {
    /// Signs in with an API key: a new session token (returned once, for the cookie; stored as
    /// its hash) lasting `lifetime`. Nil for a key that is not valid.
    public func openConsoleSession(apiKey: String, now: Date, lifetime: TimeInterval) async throws -> (token: String, session: ConsoleSession)? {
        guard let principal = try await principal(forKey: apiKey) else { return nil }
        let token = Identifier.make("", bytes: 32)
        let csrf = Identifier.make("", bytes: 24)
        try await write { db in
            // Expired sessions go as new ones come: the table holds what is live, and a little more.
            try await db.raw("DELETE FROM console_sessions WHERE expires_at <= \(bind: now.epoch)").run()
            try await db.raw("""
                INSERT INTO console_sessions (token_hash, key_id, csrf, created_at, expires_at)
                VALUES (\(bind: Self.hashKey(token)), \(bind: principal.keyID), \(bind: csrf), \(bind: now.epoch), \(bind: now.epoch + lifetime))
                """).run()
        }
        return (token, ConsoleSession(principal: principal, csrf: csrf))
    }

    /// The live session of a cookie's token: nil once it expired, was closed, or its key was revoked.
    public func consoleSession(token: String, now: Date) async throws -> ConsoleSession? {
        try await database.read { db in
            guard let row = try await db.raw("""
                SELECT s.csrf, k.id, k.organization_id, k.tenant_id, k.user_id, k.role FROM console_sessions s
                JOIN api_keys k ON k.id = s.key_id
                WHERE s.token_hash = \(bind: Self.hashKey(token)) AND s.expires_at > \(bind: now.epoch)
                """).first() else { return nil }
            let principal = Principal(keyID: try row.string("id"), organizationID: try row.string("organization_id"),
                                      tenantID: try row.string("tenant_id"), userID: try row.string("user_id"),
                                      role: Principal.Role(rawValue: try row.string("role")) ?? .member)
            return ConsoleSession(principal: principal, csrf: try row.string("csrf"))
        }
    }

    /// Signs out: the cookie's token stops working.
    public func closeConsoleSession(token: String) async throws {
        try await write { db in
            try await db.raw("DELETE FROM console_sessions WHERE token_hash = \(bind: Self.hashKey(token))").run()
        }
    }
}
