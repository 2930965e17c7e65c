import Foundation
import SQLKit
import SwitchboardCore

/// A streamed lead upload: staged in short transactions, made visible in one.
public struct LeadImport: Sendable {
    public let id: Int64
    public let campaignID: String
    public static let lease: TimeInterval = 120
}

extension Store {
    public func beginImport(campaignID: String, now: Date) async throws -> LeadImport {
        try await database.write { db in
            let row = try await db.raw("""
                INSERT INTO lead_imports (campaign_id, lease_until) VALUES (\(bind: campaignID), \(bind: now.epoch + LeadImport.lease)) RETURNING id
                """).first()
            return LeadImport(id: Int64(try row!.int("id")), campaignID: campaignID)
        }
    }

    /// Stages a chunk and renews the import's lease; returns how many rows were new.
    public func stage(_ leads: [ValidLead], in upload: LeadImport, now: Date) async throws -> Int {
        try await database.write { db in
            try await db.raw("UPDATE lead_imports SET lease_until = \(bind: now.epoch + LeadImport.lease) WHERE id = \(bind: upload.id)").run()
            return try await insertLeads(db, campaignID: upload.campaignID, leads: leads, state: "staged", dueAt: now, owner: upload.id)
        }
    }

    /// Queues every staged lead of the import at once and adds the counts to the campaign.
    /// A finished campaign that receives new leads becomes active again.
    public func commitImport(_ upload: LeadImport, received: Int, invalid: Int, now: Date) async throws -> (added: Int, duplicates: Int) {
        try await database.write { db in
            let campaign = try await db.raw("SELECT begin_at FROM campaigns WHERE id = \(bind: upload.campaignID)").first()
            let dueAt = max(now.epoch, try campaign?.double("begin_at") ?? now.epoch)
            let added = try await db.raw("""
                UPDATE leads SET state = 'queued', claim_id = NULL, due_at = \(bind: dueAt)
                WHERE state = 'staged' AND claim_id = \(bind: upload.id) RETURNING id
                """).all().count
            let duplicates = received - invalid - added
            try await db.raw("""
                UPDATE campaigns SET contacts_count = contacts_count + \(bind: added), invalid_leads_count = invalid_leads_count + \(bind: invalid),
                  duplicate_leads_count = duplicate_leads_count + \(bind: duplicates), updated_at = \(bind: now.epoch),
                  status = CASE WHEN status = 'completed' AND \(bind: added) > 0 THEN 'active' ELSE status END
                WHERE id = \(bind: upload.campaignID)
                """).run()
            try await db.raw("DELETE FROM lead_imports WHERE id = \(bind: upload.id)").run()
            return (added, duplicates)
        }
    }

    public func abortImport(_ upload: LeadImport) async throws {
        try await database.write { db in
            try await db.raw("DELETE FROM leads WHERE state = 'staged' AND claim_id = \(bind: upload.id)").run()
            try await db.raw("DELETE FROM lead_imports WHERE id = \(bind: upload.id)").run()
        }
    }

    /// Removes imports whose process stopped renewing them, with their staged rows.
    public func reapAbandonedImports(now: Date) async throws -> Int {
        try await database.write { db in
            let stale = try await db.raw("SELECT id FROM lead_imports WHERE lease_until < \(bind: now.epoch)").all().map { try $0.int("id") }
            for id in stale {
                try await db.raw("DELETE FROM leads WHERE state = 'staged' AND claim_id = \(bind: id)").run()
                try await db.raw("DELETE FROM lead_imports WHERE id = \(bind: id)").run()
            }
            return stale.count
        }
    }
}
