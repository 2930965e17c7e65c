import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// A page of calls, without their transcripts (a page shows none; a single call does).
    public func calls(organizationID: String, filter: CallFilter) async throws -> [CallRecord] {
        try await database.read(Self.cost(of: filter)) { db in
            var sql: SQLQueryString = "SELECT \(unsafeRaw: Self.callPageColumns) FROM calls WHERE organization_id = \(bind: organizationID)"
            if let userID = filter.userID { sql += " AND user_id = \(bind: userID)" }
            if let campaignID = filter.campaignID { sql += " AND campaign_id = \(bind: ScopedID.key(organizationID: organizationID, id: campaignID))" }
            if let agentID = filter.agentID { sql += " AND agent_id = \(bind: agentID)" }
            if let status = filter.status { sql += " AND status = \(bind: status.rawValue)" }
            if let successful = filter.successful { sql += " AND analysis_successful = \(bind: successful ? 1 : 0)" }
            if let after = filter.after {
                sql += " AND (created_at < \(bind: after.createdAt.epoch) OR (created_at = \(bind: after.createdAt.epoch) AND id < \(bind: after.id)))"
            }
            sql += " ORDER BY created_at DESC, id DESC LIMIT \(literal: filter.limit) OFFSET \(literal: filter.offset)"
            return try await db.raw(sql).all().map { try Self.call($0, transcript: false) }
        }
    }

    /// A page by organization or campaign walks its index in order and reads about `limit`
    /// rows; a filter the index does not hold, or a large offset, may read many more. The
    /// key's own user is every list's default scope, so it counts as bounded, though its page
    /// also reads past the other users' calls in the organization's index: many rows only in
    /// an organization whose users make very different numbers of calls. (Marking it a scan
    /// sent the usual calls page back through the reader's thread: 2,120 → 1,204 pages/s.)
    private static func cost(of filter: CallFilter) -> ReadCost {
        let walksItsIndex = filter.agentID == nil && filter.status == nil && filter.successful == nil
        return walksItsIndex && filter.offset <= 1_000 ? .bounded : .scan
    }

    /// What a page shows of a call: every column `call(_:transcript: false)` reads. A transcript
    /// can run to kilobytes, and the analysis worker's own columns are not shown.
    static let callPageColumns = """
        id, organization_id, tenant_id, user_id, campaign_id, agent_id, from_number, to_number, status, outcome, attempts, duration_sec, \
        detail, created_at, updated_at, extracted, recording_path, recording_sec, turn_latency_p50_ms, turn_latency_p95_ms, analysis, direction
        """

    public func call(id: String, organizationID: String) async throws -> CallRecord? {
        try await database.read { db in
            try await db.raw("SELECT * FROM calls WHERE id = \(bind: id) AND organization_id = \(bind: organizationID)").first().map { try Self.call($0) }
        }
    }

    /// Every dial of a call that reached (or may have reached) a carrier, in order.
    public func attempts(callID: String) async throws -> [AttemptRecord] {
        try await database.read { db in
            try await db.raw("SELECT * FROM attempts WHERE call_id = \(bind: callID) AND status <> 'void' ORDER BY attempt, id").all().map { row in
                AttemptRecord(
                    id: Int64(try row.int("id")), attempt: try row.int("attempt"), fromNumber: try row.string("from_number"),
                    toNumber: try row.string("to_number"), provider: try row.value("provider"), status: try row.value("status"),
                    outcome: try row.optionalValue("outcome"), detail: try row.optionalString("detail"),
                    providerCallID: try row.optionalString("provider_call_id"), dialAt: try row.date("dial_at"),
                    answeredAt: try row.optionalDate("answered_at"), endedAt: try row.optionalDate("ended_at"),
                    duration: try row.double("duration_sec"), inDoubt: try row.int("in_doubt") != 0,
                    voicemailLeft: try row.int("voicemail_left") != 0, direction: try row.value("direction"),
                    transferredTo: try row.optionalString("transferred_to"))
            }
        }
    }

    static func call(_ row: any SQLRow, transcript: Bool = true) throws -> CallRecord {
        // One cast per row, so the 20-odd reads below are specialised for the embedded row
        // rather than each opening the existential and casting (`SQLRow.typed`).
        if let row = row as? SQLiteDirectRow { return try call(of: row, transcript: transcript) }
        return try call(of: row, transcript: transcript)
    }

    private static func call(of row: some SQLRow, transcript: Bool) throws -> CallRecord {
        CallRecord(
            id: try row.string("id"), organizationID: try row.string("organization_id"), tenantID: try row.string("tenant_id"),
            userID: try row.string("user_id"), campaignID: ScopedID.publicID(try row.string("campaign_id")), agentID: try row.optionalString("agent_id"),
            fromNumber: try row.string("from_number"), toNumber: try row.string("to_number"), status: try row.value("status"),
            outcome: try row.optionalValue("outcome"), attempts: try row.int("attempts"), duration: try row.double("duration_sec"),
            detail: try row.optionalString("detail"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            transcript: transcript ? try row.optionalString("transcript").map { try Coding.decode([TranscriptTurn].self, $0) } ?? [] : [],
            extracted: try row.optionalString("extracted").map { try Coding.decode([String: JSONValue].self, $0) },
            recording: try row.optionalString("recording_path").map { CallMedia.Recording(path: $0, seconds: try row.optionalDouble("recording_sec") ?? 0) },
            turnLatency: try row.optionalDouble("turn_latency_p50_ms").map {
                CallMedia.Latency(p50: $0, p95: try row.optionalDouble("turn_latency_p95_ms") ?? $0)
            },
            analysis: try row.optionalString("analysis").map { try Coding.decode(CallAnalysis.self, $0) },
            direction: try row.value("direction"))
    }

    /// The call an attempt belongs to, with what its voice agent needs: the agent, the lead's
    /// fields, and the text conversation the engine escalated it from (with why), if any.
    public func callConversation(attemptID: Int64) async throws -> CallConversation? {
        try await database.read { db in
            guard let row = try await db.raw("""
                SELECT c.*, l.fields AS lead_fields, l.conversation_id AS lead_conversation_id, l.escalation_reason,
                  (SELECT p.transcript FROM calls p WHERE p.id = l.call_id AND p.id <> c.id) AS previous_transcript
                FROM attempts a JOIN calls c ON c.id = a.call_id
                LEFT JOIN leads l ON l.id = a.lead_id WHERE a.id = \(bind: attemptID)
                """).first() else { return nil }
            let fields = try row.optionalString("lead_fields").map { try Coding.decode([String: JSONValue].self, $0) } ?? [:]
            return CallConversation(call: try Self.call(row), fields: fields,
                                    escalatedFrom: try row.optionalInt("lead_conversation_id").map(Int64.init),
                                    escalationReason: try row.optionalString("escalation_reason"),
                                    previousTranscript: try row.optionalString("previous_transcript").map { try Coding.decode([TranscriptTurn].self, $0) } ?? [])
        }
    }

    /// Stores what was said on a call, and what its agent extracted.
    public func saveCallConversation(callID: String, transcript: [TranscriptTurn], extracted: [String: JSONValue]?) async throws {
        try await saveCallConversation(callID: callID, transcript: transcript, extracted: extracted, analyzeAttempt: nil, now: Date())
    }

    /// Stores what was said on a call and what was extracted; with `analyzeAttempt`, queues the
    /// call's analysis of that attempt's conversation, due now.
    public func saveCallConversation(callID: String, transcript: [TranscriptTurn], extracted: [String: JSONValue]?,
                                     analyzeAttempt attemptID: Int64?, now: Date) async throws {
        let transcriptJSON = try Coding.json(transcript)
        let extractedJSON = try extracted.map { try Coding.json($0) }
        try await write { db in
            var sql: SQLQueryString = "UPDATE calls SET transcript = \(bind: transcriptJSON), extracted = COALESCE(\(bind: extractedJSON), extracted)"
            if let attemptID {
                sql += """
                    , analysis_status = 'pending', analysis_due_at = \(bind: now.epoch), analysis_tries = 0,
                      analysis_attempt_id = \(bind: attemptID), analysis_error = NULL
                    """
            }
            try await db.raw(sql + " WHERE id = \(bind: callID)").run()
        }
    }

    /// The agent's transfer of this attempt's call to `destination` is under way (nil: it
    /// failed): its end, when the carrier reports it, is `transferred`, and the carrier's
    /// request for where to send the call finds the destination here.
    public func markTransferred(attemptID: Int64, to transfer: TransferRequest?) async throws {
        try await write { db in
            try await db.raw("""
                UPDATE attempts SET transferred_to = \(bind: transfer?.destination), transfer_summary = \(bind: transfer?.summary)
                WHERE id = \(bind: attemptID)
                """).run()
        }
    }

    /// The transfer under way on this attempt, if any.
    public func transfer(attemptID: Int64) async throws -> TransferRequest? {
        try await database.read { db in
            guard let row = try await db.raw("SELECT transferred_to, transfer_summary FROM attempts WHERE id = \(bind: attemptID)").first(),
                  let destination = try row.optionalString("transferred_to") else { return nil }
            return TransferRequest(destination: destination, summary: try row.optionalString("transfer_summary"))
        }
    }

    /// Stores the recording and the turn latency of a call our pipeline held.
    public func saveCallMedia(callID: String, _ media: CallMedia) async throws {
        try await write { db in
            try await db.raw("""
                UPDATE calls SET recording_path = COALESCE(\(bind: media.recording?.path), recording_path),
                  recording_sec = COALESCE(\(bind: media.recording?.seconds), recording_sec),
                  turn_latency_p50_ms = COALESCE(\(bind: media.latency?.p50), turn_latency_p50_ms),
                  turn_latency_p95_ms = COALESCE(\(bind: media.latency?.p95), turn_latency_p95_ms)
                WHERE id = \(bind: callID)
                """).run()
        }
    }

    // MARK: the analysis queue

    public func claimAnalyses(now: Date, lease: TimeInterval, limit: Int) async throws -> [PendingAnalysis] {
        try await write { db in
            var select: SQLQueryString = """
                SELECT id, organization_id, analysis_attempt_id, transcript, analysis_tries FROM calls
                WHERE analysis_status = 'pending' AND analysis_due_at <= \(bind: now.epoch)
                ORDER BY analysis_due_at LIMIT \(literal: limit)
                """
            if database.flavor == .postgres { select += " FOR UPDATE SKIP LOCKED" }
            let jobs = try await db.raw(select).all().map { row in
                PendingAnalysis(callID: try row.string("id"), attemptID: Int64(try row.optionalInt("analysis_attempt_id") ?? 0),
                                organizationID: try row.string("organization_id"),
                                transcript: try row.optionalString("transcript").map { try Coding.decode([TranscriptTurn].self, $0) } ?? [],
                                tries: try row.int("analysis_tries"))
            }
            guard !jobs.isEmpty else { return [] }
            try await db.raw("UPDATE calls SET analysis_due_at = \(bind: now.epoch + lease) WHERE id IN (\(binds: jobs.map(\.callID)))").run()
            return jobs
        }
    }

    public func saveAnalysis(_ analysis: CallAnalysis, extracted: [String: JSONValue]?, for job: PendingAnalysis, now: Date) async throws {
        let analysisJSON = try Coding.json(analysis)
        let extractedJSON = try extracted.map { try Coding.json($0) }
        try await write { db in
            // Only the analysis still pending for this attempt: a newer conversation queued its own.
            let updated = try await db.raw("""
                UPDATE calls SET analysis = \(bind: analysisJSON), analysis_successful = \(bind: analysis.successful.map { $0 ? 1 : 0 }),
                  extracted = COALESCE(\(bind: extractedJSON), extracted), analysis_status = 'done', analysis_error = NULL
                WHERE id = \(bind: job.callID) AND analysis_status = 'pending' AND analysis_attempt_id = \(bind: job.attemptID)
                RETURNING campaign_id
                """).all()
            guard let row = updated.first else { return }
            var data: [String: JSONValue] = [
                "call_id": .string(job.callID), "campaign_id": .string(ScopedID.publicID(try row.string("campaign_id"))),
                "summary": .string(analysis.summary), "sentiment": .string(analysis.sentiment.rawValue),
                "successful": analysis.successful.map(JSONValue.bool) ?? .null, "reason": analysis.reason.map(JSONValue.string) ?? .null,
            ]
            if let extracted { data["extracted_fields"] = .object(extracted) }
            try await emit(db, [WebhookEvent(organizationID: job.organizationID, type: .callAnalyzed, occurredAt: now, data: data)])
        }
    }

    public func retryAnalysis(_ job: PendingAnalysis, at retryAt: Date?, error: String) async throws {
        try await write { db in
            try await db.raw("""
                UPDATE calls SET analysis_tries = analysis_tries + 1, analysis_error = \(bind: String(error.prefix(500))),
                  analysis_status = \(bind: retryAt == nil ? "failed" : "pending"), analysis_due_at = \(bind: retryAt?.epoch)
                WHERE id = \(bind: job.callID) AND analysis_status = 'pending' AND analysis_attempt_id = \(bind: job.attemptID)
                """).run()
        }
    }
}
