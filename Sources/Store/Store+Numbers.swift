import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    public func insertPhoneNumber(_ number: PhoneNumberRecord) async throws {
        let capabilities = try Coding.json(number.capabilities)
        let settings = try Coding.json(number.settings)
        try await write { db in
            if try await db.raw("SELECT 1 AS ok FROM phone_numbers WHERE phone_number = \(bind: number.phoneNumber)").first() != nil {
                throw StoreError.conflict("phone_number \(number.phoneNumber) is already registered")
            }
            try await db.raw("""
                INSERT INTO phone_numbers (id, phone_number, organization_id, tenant_id, user_id, provider, capabilities, nickname,
                  area_code, settings, max_concurrent_calls, calls_per_second, next_slot_at, last_used_at, created_at, inbound_agent_id)
                VALUES (\(bind: number.id), \(bind: number.phoneNumber), \(bind: number.organizationID), \(bind: number.tenantID),
                  \(bind: number.userID), \(bind: number.provider.rawValue), \(bind: capabilities), \(bind: number.nickname), \(bind: number.areaCode),
                  \(bind: settings), \(bind: number.maxConcurrentCalls), \(bind: number.callsPerSecond), 0, 0, \(bind: number.createdAt.epoch),
                  \(bind: number.inboundAgentID))
                """).run()
        }
    }

    public func phoneNumberTaken(_ e164: String) async throws -> Bool {
        try await database.read { db in
            try await db.raw("SELECT 1 AS ok FROM phone_numbers WHERE phone_number = \(bind: e164)").first() != nil
        }
    }

    /// The organization's records for these numbers (others' numbers are simply absent).
    public func phoneNumbers(_ e164s: [String], organizationID: String) async throws -> [PhoneNumberRecord] {
        guard !e164s.isEmpty else { return [] }
        return try await database.read { db in
            try await db.raw("""
                SELECT * FROM phone_numbers WHERE organization_id = \(bind: organizationID) AND phone_number IN (\(binds: e164s))
                """).all().map(Self.phoneNumber)
        }
    }

    /// The organization's number with this id (`phnum_…`) or this E.164 number.
    public func phoneNumber(idOrNumber: String, organizationID: String) async throws -> PhoneNumberRecord? {
        try await database.read { db in
            try await db.raw("""
                SELECT * FROM phone_numbers WHERE organization_id = \(bind: organizationID)
                  AND (id = \(bind: idOrNumber) OR phone_number = \(bind: idOrNumber))
                """).first().map(Self.phoneNumber)
        }
    }

    /// Whoever's number this is: a carrier's inbound webhook names only the number.
    public func phoneNumber(e164: String) async throws -> PhoneNumberRecord? {
        try await database.read { db in
            try await db.raw("SELECT * FROM phone_numbers WHERE phone_number = \(bind: e164)").first().map(Self.phoneNumber)
        }
    }

    public func phoneNumbers(organizationID: String, userID: String?) async throws -> [PhoneNumberRecord] {
        try await database.read { db in
            var sql: SQLQueryString = "SELECT * FROM phone_numbers WHERE organization_id = \(bind: organizationID)"
            if let userID { sql += " AND user_id = \(bind: userID)" }
            sql += " ORDER BY created_at DESC"
            return try await db.raw(sql).all().map(Self.phoneNumber)
        }
    }

    static func phoneNumber(_ row: any SQLRow) throws -> PhoneNumberRecord {
        PhoneNumberRecord(
            id: try row.string("id"), phoneNumber: try row.string("phone_number"), organizationID: try row.string("organization_id"),
            tenantID: try row.string("tenant_id"), userID: try row.string("user_id"), provider: try row.value("provider"),
            capabilities: try Coding.decode([Capability].self, try row.string("capabilities")), nickname: try row.optionalString("nickname"),
            areaCode: try row.optionalString("area_code"), settings: try Coding.decode([String: JSONValue].self, try row.string("settings")),
            maxConcurrentCalls: try row.int("max_concurrent_calls"), callsPerSecond: try row.double("calls_per_second"),
            createdAt: try row.date("created_at"), inboundAgentID: try row.optionalString("inbound_agent_id"))
    }
}
