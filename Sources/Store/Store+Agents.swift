import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    public func insertAgent(_ agent: AgentRecord) async throws {
        let body = try Coding.json(agent.body)
        try await write { db in
            if try await db.raw("SELECT 1 AS ok FROM agents WHERE id = \(bind: agent.id) AND organization_id = \(bind: agent.organizationID)").first() != nil {
                throw StoreError.conflict("agent_id \(agent.id) already exists")
            }
            try await db.raw("""
                INSERT INTO agents (id, organization_id, tenant_id, user_id, agent_type, agent_name, body, created_at, updated_at)
                VALUES (\(bind: agent.id), \(bind: agent.organizationID), \(bind: agent.tenantID), \(bind: agent.userID),
                        \(bind: agent.type.rawValue), \(bind: agent.name), \(bind: body), \(bind: agent.createdAt.epoch), \(bind: agent.createdAt.epoch))
                """).run()
        }
    }

    /// Replaces an agent's name and fields; campaigns already created keep what they resolved.
    public func updateAgent(_ agent: AgentRecord, now: Date) async throws {
        let body = try Coding.json(agent.body)
        try await write { db in
            try await db.raw("""
                UPDATE agents SET agent_name = \(bind: agent.name), body = \(bind: body), updated_at = \(bind: now.epoch)
                WHERE id = \(bind: agent.id) AND organization_id = \(bind: agent.organizationID)
                """).run()
        }
    }

    /// An agent of the organization, or nil (another organization's agent does not exist here).
    public func agent(id: String, organizationID: String) async throws -> AgentRecord? {
        try await database.read { db in
            try await db.raw("SELECT * FROM agents WHERE id = \(bind: id) AND organization_id = \(bind: organizationID)").first().map(Self.agent)
        }
    }

    public func agents(organizationID: String, userID: String?, type: AgentType?, limit: Int) async throws -> [AgentRecord] {
        try await database.read { db in
            var sql: SQLQueryString = "SELECT * FROM agents WHERE organization_id = \(bind: organizationID)"
            if let userID { sql += " AND user_id = \(bind: userID)" }
            if let type { sql += " AND agent_type = \(bind: type.rawValue)" }
            sql += " ORDER BY created_at DESC LIMIT \(literal: limit)"
            return try await db.raw(sql).all().map(Self.agent)
        }
    }

    static func agent(_ row: any SQLRow) throws -> AgentRecord {
        AgentRecord(id: try row.string("id"), organizationID: try row.string("organization_id"), tenantID: try row.string("tenant_id"),
                    userID: try row.string("user_id"), type: try row.value("agent_type"), name: try row.string("agent_name"),
                    body: try Coding.decode([String: JSONValue].self, try row.string("body")), createdAt: try row.date("created_at"))
    }
}
