import Foundation
import Logging
import SQLKit
@testable import Store
import SwitchboardCore
import Testing

/// Migration 5 re-keys every campaign row and every row that points at one: a database made
/// before it keeps all it held, readable by the ids its organizations know.
@Suite struct MigrationTests {
    @Test(arguments: Backend.allCases) func idsPerOrganizationKeepEveryRow(_ backend: Backend) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await TestDatabase.open(backend, directory: directory)
        let store = Store(database: database, logger: Logger(label: "test"))
        do {
            try await Migrations.run(on: database, through: 4)
            // What a database of the previous release holds: a voice campaign with a lead, a call
            // and an attempt; an SMS campaign with a conversation, a text and its companion.
            let statements: [SQLQueryString] = [
                "INSERT INTO agents (id, organization_id, tenant_id, user_id, agent_type, agent_name, body, created_at, updated_at) VALUES ('a1', 'o', 't', 'u', 'voice', 'A', '{}', 0, 0)",
                """
                INSERT INTO campaigns (id, organization_id, tenant_id, user_id, kind, status, settings, begin_at, end_at, contacts_count, created_at, updated_at)
                VALUES ('c1', 'o', 't', 'u', 'voice', 'active', '\(unsafeRaw: try Self.settings())', 0, 9999999999, 1, 0, 0)
                """,
                """
                INSERT INTO campaigns (id, organization_id, tenant_id, user_id, kind, status, settings, begin_at, end_at, created_at, updated_at)
                VALUES ('s1_voice', 'o', 't', 'u', 'voice', 'active', '\(unsafeRaw: try Self.settings())', 0, 9999999999, 0, 0)
                """,
                "INSERT INTO leads (campaign_id, phone_number, state, due_at, attempts, call_id) VALUES ('c1', '+15550000001', 'done', 0, 1, 'call_1')",
                """
                INSERT INTO calls (id, organization_id, tenant_id, user_id, campaign_id, lead_id, from_number, to_number, status, created_at, updated_at)
                VALUES ('call_1', 'o', 't', 'u', 'c1', 1, '+15175550001', '+15550000001', 'ended', 0, 0)
                """,
                """
                INSERT INTO attempts (call_id, campaign_id, lead_id, attempt, from_number, to_number, provider, status, claimed_at, dial_at)
                VALUES ('call_1', 'c1', 1, 1, '+15175550001', '+15550000001', 'simulator', 'ended', 0, 0)
                """,
                """
                INSERT INTO sms_campaigns (id, organization_id, tenant_id, user_id, created_by_user_id, name, status, sms_agent_id, from_number, body, created_at, updated_at)
                VALUES ('s1', 'o', 't', 'u', 'u', 'S', 'ACTIVE', 'a1', '+15175550001', '{}', 0, 0)
                """,
                """
                INSERT INTO conversations (organization_id, campaign_id, phone_number, from_number, state, voice_campaign_id, created_at, updated_at)
                VALUES ('o', 's1', '+15550000002', '+15175550001', 'open', 's1_voice', 0, 0)
                """,
                """
                INSERT INTO messages (organization_id, campaign_id, conversation_id, direction, our_number, contact_number, body, kind, status, created_at, updated_at)
                VALUES ('o', 's1', 1, 'outbound', '+15175550001', '+15550000002', 'Hi', 'start', 'delivered', 0, 0)
                """,
            ]
            try await database.write { db in for statement in statements { try await db.raw(statement).run() } }

            #expect(try await store.migrate() == Array(5...16))

            let campaign = try #require(try await store.campaign(id: "c1", organizationID: "o"))
            #expect(campaign.key == "o/c1")
            #expect(try await store.progress(campaignID: campaign.key).total == 1)
            let calls = try await store.calls(organizationID: "o", filter: CallFilter(campaignID: "c1"))
            #expect(calls.map(\.campaignID) == ["c1"])
            #expect(try await store.attempts(callID: "call_1").count == 1)
            #expect(try await store.smsCampaign(id: "s1", organizationID: "o") != nil)
            let conversation = try #require(try await store.conversations(organizationID: "o", userID: nil, phoneNumber: "+15550000002").first)
            #expect(conversation.campaignID == "o/s1")
            #expect(conversation.voiceCampaignID == "o/s1_voice")
            #expect(try await store.messages(organizationID: "o", userID: "u", contact: nil, campaignID: "s1", afterID: 0, limit: 10).count == 1)
            let companion = try await database.read { db in
                try await db.raw("SELECT voice_campaign_key FROM sms_campaigns WHERE id = 'o/s1'").first()?.optionalString("voice_campaign_key")
            }
            #expect(companion == "o/s1_voice")
            // Agents are keyed per organization now: another may use the same id.
            #expect(try await store.agent(id: "a1", organizationID: "o") != nil)
            try await store.insertAgent(AgentRecord(id: "a1", organizationID: "p", tenantID: "t", userID: "u", type: .voice, name: "B",
                                                    body: [:], createdAt: Date()))
            #expect(try await store.agent(id: "a1", organizationID: "p")?.name == "B")
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }

    static func settings() throws -> String {
        let settings = CampaignSettings(agentID: "a1", outboundNumber: "+15175550001", numbers: ["+15175550001"], redialEnabled: false,
                                        retry: .noRetries)
        return String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
    }
}
