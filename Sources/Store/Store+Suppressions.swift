import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// Adds entries (an existing one keeps its first reason); returns how many were new. With
    /// `announce`, each new number is announced as `contact.opted_out`, in the same transaction.
    @discardableResult
    public func suppress(_ entries: [Suppression], organizationID: String, announce: Bool = false) async throws -> Int {
        guard !entries.isEmpty else { return 0 }
        return try await write { db in
            try await insertSuppressions(db, entries, organizationID: organizationID, announce: announce).count
        }
    }

    /// `suppress` inside a caller's transaction; returns the values that were new.
    func insertSuppressions(_ db: any SQLDatabase, _ entries: [Suppression], organizationID: String, announce: Bool) async throws -> [String] {
        var added: [String] = []
        for chunk in entries.chunked(500) {
            let rows = try await db.raw("INSERT INTO suppressions (organization_id, value, kind, reason, source, created_at) "
                + Self.rows(chunk.map { [organizationID, $0.value, $0.kind.rawValue, $0.reason, $0.source.rawValue, $0.createdAt.epoch] })
                + " ON CONFLICT DO NOTHING RETURNING value").all()
            added += try rows.map { try $0.string("value") }
        }
        if announce {
            let byValue = Dictionary(entries.map { ($0.value, $0) }, uniquingKeysWith: { first, _ in first })
            try await emit(db, added.compactMap { byValue[$0] }.map { entry in
                WebhookEvent(organizationID: organizationID, type: .contactOptedOut, occurredAt: entry.createdAt, data: [
                    "phone_number": entry.kind == .number ? .string(entry.value) : .null,
                    "prefix": entry.kind == .prefix ? .string(entry.value) : .null,
                    "reason": JSONValue(entry.reason), "source": .string(entry.source.rawValue),
                ])
            })
        }
        return added
    }

    /// Removes a number or prefix; false when it was not listed.
    public func unsuppress(_ value: String, organizationID: String) async throws -> Bool {
        try await write { db in
            try await db.raw("DELETE FROM suppressions WHERE organization_id = \(bind: organizationID) AND value = \(bind: value) RETURNING value")
                .first() != nil
        }
    }

    /// A page of the list in value order, after `afterValue`.
    public func suppressions(organizationID: String, after afterValue: String?, limit: Int) async throws -> [Suppression] {
        try await database.read { db in
            var sql: SQLQueryString = "SELECT * FROM suppressions WHERE organization_id = \(bind: organizationID)"
            if let afterValue { sql += " AND value > \(bind: afterValue)" }
            sql += " ORDER BY value LIMIT \(literal: limit)"
            return try await db.raw(sql).all().map { row in
                Suppression(value: try row.string("value"), kind: Suppression.Kind(rawValue: try row.string("kind")) ?? .number,
                            reason: try row.optionalString("reason"), source: try row.value("source"), createdAt: try row.date("created_at"))
            }
        }
    }

    /// Inside a transaction: which of `numbers` the organization suppresses, by number or prefix.
    /// Whether the organization must not call or text this number (listed, or under a prefix).
    public func isSuppressed(_ number: String, organizationID: String) async throws -> Bool {
        try await database.read { db in try await !suppressed(db, organizationID: organizationID, numbers: [number]).isEmpty }
    }

    func suppressed(_ db: any SQLDatabase, organizationID: String, numbers: [String]) async throws -> Set<String> {
        guard !numbers.isEmpty else { return [] }
        var hits = Set(try await db.raw("""
            SELECT value FROM suppressions WHERE organization_id = \(bind: organizationID) AND kind = 'number' AND value IN (\(binds: numbers))
            """).all().map { try $0.string("value") })
        let prefixes = try await db.raw("SELECT value FROM suppressions WHERE organization_id = \(bind: organizationID) AND kind = 'prefix'")
            .all().map { try $0.string("value") }
        if !prefixes.isEmpty {
            for number in numbers where prefixes.contains(where: { number.hasPrefix($0) }) { hits.insert(number) }
        }
        return hits
    }

    public func organizationSettings(_ organizationID: String) async throws -> OrganizationSettings {
        try await database.read { db in try await organizationSettings(db, organizationID) }
    }

    func organizationSettings(_ db: any SQLDatabase, _ organizationID: String) async throws -> OrganizationSettings {
        guard let body = try await db.raw("SELECT body FROM organization_settings WHERE organization_id = \(bind: organizationID)")
            .first()?.string("body") else { return .default }
        return try Coding.decode(OrganizationSettings.self, body)
    }

    public func setOrganizationSettings(_ settings: OrganizationSettings, organizationID: String, now: Date) async throws {
        let body = try Coding.json(settings)
        try await write { db in
            try await db.raw("""
                INSERT INTO organization_settings (organization_id, body, updated_at) VALUES (\(bind: organizationID), \(bind: body), \(bind: now.epoch))
                ON CONFLICT (organization_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at
                """).run()
        }
    }
}
