import Foundation
import SQLKit
import SwitchboardCore

/// A call to one of our numbers, opened for the agent that answers it.
public struct InboundCall: Sendable, Equatable {
    public var attemptID: Int64
    public var callID: String
    /// The campaign (its public id) that last called the caller; nil for a caller no campaign
    /// has called, answered by the number's inbound agent.
    public var campaignID: String?
    public var agentID: String
}

extension Store {
    /// A lead calling `number` back: a call of its own in the campaign that last called them
    /// (its lead, its agent, its owner), or, for a caller no campaign of the number's
    /// organization has called, a call answered by the number's inbound agent outside any
    /// campaign. Nil when neither applies: the carrier is told to reject the call.
    public func openInboundCall(number: PhoneNumberRecord, caller: String, providerCallID: String?, now: Date) async throws -> InboundCall? {
        try await write { db in
            let last = try await db.raw("""
                SELECT a.campaign_id, a.lead_id, c.agent_id, c.tenant_id, c.user_id FROM attempts a JOIN calls c ON c.id = a.call_id
                WHERE a.to_number = \(bind: caller) AND a.direction = 'outbound' AND c.organization_id = \(bind: number.organizationID)
                  AND c.agent_id IS NOT NULL
                ORDER BY a.dial_at DESC LIMIT 1
                """).first()
            let campaignKey = try last?.string("campaign_id")
            guard let agentID = try last?.optionalString("agent_id") ?? number.inboundAgentID else { return nil }
            let callID = Identifier.ordered("call_", at: now)
            try await db.raw("""
                INSERT INTO calls (id, organization_id, tenant_id, user_id, campaign_id, lead_id, agent_id, from_number, to_number,
                  status, attempts, created_at, updated_at, direction)
                VALUES (\(bind: callID), \(bind: number.organizationID), \(bind: try last?.string("tenant_id") ?? number.tenantID),
                  \(bind: try last?.string("user_id") ?? number.userID), \(bind: campaignKey ?? ""), \(bind: try last?.optionalInt("lead_id")),
                  \(bind: agentID), \(bind: number.phoneNumber), \(bind: caller), 'ongoing', 1, \(bind: now.epoch), \(bind: now.epoch), 'inbound')
                """).run()
            guard let row = try await db.raw("""
                INSERT INTO attempts (call_id, campaign_id, lead_id, attempt, from_number, to_number, provider, status, provider_call_id,
                  claimed_at, dial_at, answered_at, direction)
                VALUES (\(bind: callID), \(bind: campaignKey ?? ""), \(bind: try last?.optionalInt("lead_id") ?? 0), 1, \(bind: number.phoneNumber),
                  \(bind: caller), \(bind: number.provider.rawValue), 'live', \(bind: providerCallID), \(bind: now.epoch), \(bind: now.epoch),
                  \(bind: now.epoch), 'inbound')
                RETURNING id
                """).first() else { throw StoreError.conflict("the inbound attempt was not written") }
            return InboundCall(attemptID: Int64(try row.int("id")), callID: callID, campaignID: campaignKey.map(ScopedID.publicID), agentID: agentID)
        }
    }

    /// The call-back ended. Its outcome is `completed` (or `transferred`); when the caller spoke
    /// and their lead waits for a retry, the lead is done (a lead who called back and talked to
    /// the agent is not dialled again) and its campaign call ends with the call-back's outcome.
    /// Returns the campaign (its key) whose lead this finished, which may now be complete.
    @discardableResult
    public func closeInboundCall(attemptID: Int64, outcome: Outcome, detail: String?, transferredTo: String?, callerSpoke: Bool,
                                 now: Date) async throws -> String? {
        try await writeCounting { db, counts in
            guard let row = try await db.raw("""
                UPDATE attempts SET status = 'ended', outcome = \(bind: outcome.rawValue), detail = \(bind: detail), ended_at = \(bind: now.epoch),
                  duration_sec = \(bind: now.epoch) - answered_at, transferred_to = COALESCE(transferred_to, \(bind: transferredTo))
                WHERE id = \(bind: attemptID) AND status = 'live' RETURNING call_id, lead_id, duration_sec
                """).first() else { return nil }
            let duration = try row.double("duration_sec")
            try await db.raw("""
                UPDATE calls SET status = 'ended', outcome = \(bind: outcome.rawValue), duration_sec = \(bind: duration), detail = \(bind: detail),
                  updated_at = \(bind: now.epoch)
                WHERE id = \(bind: try row.string("call_id"))
                """).run()
            let leadID = try row.int("lead_id")
            guard callerSpoke, leadID != 0 else { return nil }
            guard let lead = try await db.raw("""
                UPDATE leads SET state = 'done', last_outcome = \(bind: outcome.rawValue), due_reason = NULL
                WHERE id = \(bind: leadID) AND state = 'queued' RETURNING call_id, campaign_id, attempts
                """).first() else { return nil }
            counts.moveQueued(try lead.string("campaign_id"), attempts: [try lead.int("attempts")], to: LeadCounts.done(outcome.rawValue))
            try await db.raw("""
                UPDATE calls SET status = 'ended', outcome = \(bind: outcome.rawValue), detail = 'the lead called back', updated_at = \(bind: now.epoch)
                WHERE id = \(bind: try lead.optionalString("call_id")) AND status = 'retry_scheduled'
                """).run()
            return try lead.string("campaign_id")
        }
    }
}
