import Foundation
import Store
import SwitchboardCore

extension Schemas {
    /// `Call`: Teli's call object, with DialNexa's aliases. Its fields are written by hand
    /// (`JSONFields`): a page holds a hundred of them.
    struct Call: JSONFields, Sendable {
        var call_id: String
        var campaign_id: String
        var voice_agent_id: String?
        var agent_id: String?
        var organization_id: String
        var tenant_id: String
        var user_id: String
        var from_number: String
        var to_number: String
        var direction: Direction
        var call_status: CallStatus
        var status: CallStatus
        var outcome: Outcome?
        var disconnection_reason: Outcome?
        var in_voicemail: Bool
        var call_successful: Bool
        var attempts_count: Int
        var duration_ms: Int
        var detail: String?
        var start_timestamp: Int
        var end_timestamp: Int?
        /// Written as Teli's timestamps (`Timestamps.Style.teli`), straight into the response.
        var call_started_at: Date
        var call_ended_at: Date?
        /// Only on a single call: every attempt and the conversation.
        var attempts: [Attempt]?
        var transcript: String?
        var transcript_object: [TranscriptTurn]?
        var extracted_fields: [String: JSONValue]?
        var recording_url: String?
        var recording_duration_sec: Double?
        var turn_latency_ms: TurnLatency?
        /// After the call: summary, sentiment, and the verdict against the agent's success criteria.
        var call_analysis: Analysis?

        func encode(to encoder: any Encoder) throws { try encodeFields(to: encoder) }

        /// In the contract's order; a nullable field is written as `null`, the single call's
        /// own fields are left out of a page.
        func writeFields(to out: inout some JSONFieldWriter) throws {
            try out.string("call_id", call_id)
            try out.string("campaign_id", campaign_id)
            try out.string("voice_agent_id", nullable: voice_agent_id)
            try out.string("agent_id", nullable: agent_id)
            try out.string("organization_id", organization_id)
            try out.string("tenant_id", tenant_id)
            try out.string("user_id", user_id)
            try out.string("from_number", from_number)
            try out.string("to_number", to_number)
            try out.raw("direction", direction)
            try out.raw("call_status", call_status)
            try out.raw("status", status)
            try out.raw("outcome", nullable: outcome)
            try out.raw("disconnection_reason", nullable: disconnection_reason)
            try out.bool("in_voicemail", in_voicemail)
            try out.bool("call_successful", call_successful)
            try out.int("attempts_count", attempts_count)
            try out.int("duration_ms", duration_ms)
            try out.string("detail", nullable: detail)
            try out.int("start_timestamp", start_timestamp)
            try out.int("end_timestamp", nullable: end_timestamp)
            try out.timestamp("call_started_at", call_started_at, .teli)
            try out.timestamp("call_ended_at", nullable: call_ended_at, .teli)
            try out.value("attempts", ifPresent: attempts)
            try out.string("transcript", ifPresent: transcript)
            try out.value("transcript_object", ifPresent: transcript_object)
            try out.value("extracted_fields", ifPresent: extracted_fields)
            try out.string("recording_url", nullable: recording_url)
            try out.double("recording_duration_sec", nullable: recording_duration_sec)
            try out.value("turn_latency_ms", ifPresent: turn_latency_ms)
            try out.value("call_analysis", nullable: call_analysis)
        }

        struct Analysis: Encodable, Sendable {
            var summary: String
            var sentiment: CallAnalysis.Sentiment
            @Nullable var successful: Bool?
            @Nullable var reason: String?
        }

        struct TurnLatency: Encodable, Sendable {
            var p50: Double
            var p95: Double
        }

        init(_ call: CallRecord) {
            let ended = call.status == .ended
            call_id = call.id
            campaign_id = call.campaignID
            voice_agent_id = call.agentID
            agent_id = call.agentID
            organization_id = call.organizationID
            tenant_id = call.tenantID
            user_id = call.userID
            // Stored as our number and the lead's; shown the way the call went.
            (from_number, to_number) = call.direction == .inbound ? (call.toNumber, call.fromNumber) : (call.fromNumber, call.toNumber)
            direction = call.direction
            call_status = call.status
            status = call.status
            outcome = call.outcome
            disconnection_reason = call.outcome
            in_voicemail = call.outcome == .voicemail
            call_successful = call.outcome == .completed
            attempts_count = call.attempts
            duration_ms = Int(call.duration * 1000)
            detail = call.detail
            start_timestamp = Int(call.createdAt.timeIntervalSince1970 * 1000)
            end_timestamp = ended ? Int(call.updatedAt.timeIntervalSince1970 * 1000) : nil
            call_started_at = call.createdAt
            call_ended_at = ended ? call.updatedAt : nil
            recording_url = call.recording.map { _ in "/v1/voice/calls/\(call.id)/recording" }
            recording_duration_sec = call.recording?.seconds
            turn_latency_ms = call.turnLatency.map { TurnLatency(p50: $0.p50.rounded(), p95: $0.p95.rounded()) }
            call_analysis = call.analysis.map { Analysis(summary: $0.summary, sentiment: $0.sentiment, successful: $0.successful, reason: $0.reason) }
        }

        /// The call with its attempts and Teli's conversation fields: the transcript as text
        /// and as turns, and what was extracted.
        init(_ call: CallRecord, attempts: [AttemptRecord]) {
            self.init(call)
            self.attempts = attempts.map(Attempt.init)
            transcript = call.transcript.map { "\($0.role == .agent ? "Agent" : "User"): \($0.content)" }.joined(separator: "\n")
            transcript_object = call.transcript
            extracted_fields = call.extracted ?? [:]
        }
    }

    /// `Attempt`: one dial of a call.
    struct Attempt: Encodable, Sendable {
        var attempt: Int
        var status: String
        var from_number: String
        var to_number: String
        var provider: ProviderName
        @Nullable var provider_call_id: String?
        @Nullable var detail: String?
        var called_at: String
        @Nullable var answered_at: String?
        @Nullable var ended_at: String?
        var duration_sec: Double
        var reconciled: Bool
        var voicemail_left: Bool
        var direction: Direction
        @Nullable var transferred_to: String?

        init(_ attempt: AttemptRecord) {
            voicemail_left = attempt.voicemailLeft
            direction = attempt.direction
            transferred_to = attempt.transferredTo
            self.attempt = attempt.attempt
            status = attempt.outcome?.rawValue ?? "in_progress"
            (from_number, to_number) = attempt.direction == .inbound ? (attempt.toNumber, attempt.fromNumber) : (attempt.fromNumber, attempt.toNumber)
            provider = attempt.provider
            provider_call_id = attempt.providerCallID
            detail = attempt.detail
            called_at = Timestamps.teli(attempt.dialAt)
            answered_at = attempt.answeredAt.map(Timestamps.teli)
            ended_at = attempt.endedAt.map(Timestamps.teli)
            duration_sec = attempt.duration
            reconciled = attempt.inDoubt
        }
    }

    /// `CallList`'s payload.
    struct CallList: Encodable, Sendable {
        var count: Int
        var calls: [Call]
    }

    /// `CallEnvelope`'s payload.
    struct CallEnvelope: Encodable, Sendable {
        var call: Call
    }

    /// `RetryAttempt`: DialNexa's view of an attempt, with both spellings of its time.
    struct RetryAttempt: Encodable, Sendable {
        var attempt: Int
        var status: String
        var duration_sec: Int
        var called_at: String
        var timestamp: String
        var from_number: String
        @Nullable var detail: String?

        init(_ attempt: AttemptRecord) {
            let at = Timestamps.dialNexa(attempt.dialAt)
            self.attempt = attempt.attempt
            status = attempt.outcome?.rawValue ?? "in_progress"
            duration_sec = Int(attempt.duration.rounded())
            called_at = at
            timestamp = at
            from_number = attempt.fromNumber
            detail = attempt.detail
        }
    }

    /// `RetryHistory`: DialNexa's body, without Teli's envelope.
    struct RetryHistory: Encodable, Sendable {
        var call_id: String
        var data: [RetryAttempt]
    }
}
