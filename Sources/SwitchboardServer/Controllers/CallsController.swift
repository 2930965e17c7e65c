import Foundation
import Hummingbird
import Store
import SwitchboardCore

/// Call history: Teli's `/v1/voice/calls` and DialNexa's `/v1/call-logs/{id}/retries`.
struct CallsController {
    let api: APIEnvironment

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.get("v1/voice/calls", use: list)
        router.get("v1/voice/calls/:call_id", use: get)
        router.get("v1/call-logs/:call_id/retries", use: retries)
    }

    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        let query = request.query
        let status: String? = switch query.string("call_status") {
        case "ongoing"?: "ongoing"
        case "ended"?: "ended"
        case "retry_scheduled"?: "retry_scheduled"
        case nil: nil
        case let other?: throw APIError.badRequest("call_status must be ongoing, ended or retry_scheduled (got \(other))", field: "call_status")
        }
        let filter = CallFilter(userID: try principal.listScope(query), campaignID: query.string("campaign_id"),
                                agentID: query.string("agent_id"), status: status,
                                limit: try query.int("limit", in: 1...100) ?? 100, offset: try query.int("offset", in: 0...Int(Int32.max)) ?? 0)
        let calls = try await api.store.calls(organizationID: principal.organizationID, filter: filter)
        return api.teli(["count": JSONValue(calls.count), "calls": .array(calls.map { .object(Self.json($0)) })])
    }

    @Sendable func get(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let call = try await load(context)
        var fields = Self.json(call)
        let attempts = try await api.store.attempts(callID: call.id)
        fields["attempts"] = .array(attempts.map { attempt in
            [
                "attempt": JSONValue(attempt.attempt),
                "status": .string(attempt.outcome ?? "in_progress"),
                "from_number": .string(attempt.fromNumber),
                "to_number": .string(attempt.toNumber),
                "provider": .string(attempt.provider),
                "provider_call_id": JSONValue(attempt.providerCallID),
                "detail": JSONValue(attempt.detail),
                "called_at": .string(Timestamps.teli(attempt.dialAt)),
                "answered_at": JSONValue(attempt.answeredAt.map(Timestamps.teli)),
                "ended_at": JSONValue(attempt.endedAt.map(Timestamps.teli)),
                "duration_sec": JSONValue(attempt.duration),
                "reconciled": .bool(attempt.inDoubt),
            ]
        })
        // Teli's conversation fields: the transcript as text and as turns, and what was extracted.
        fields["transcript"] = .string(call.transcript.map { "\($0.role == "agent" ? "Agent" : "User"): \($0.content)" }.joined(separator: "\n"))
        fields["transcript_object"] = .array(call.transcript.map { ["role": .string($0.role), "content": .string($0.content)] })
        fields["extracted_fields"] = .object(call.extracted ?? [:])
        return api.teli(["call": .object(fields)])
    }

    /// DialNexa's retry history: every attempt of the parent call, in order, with both
    /// spellings of its time (`called_at` and `timestamp`).
    @Sendable func retries(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let call = try await load(context)
        let attempts = try await api.store.attempts(callID: call.id)
        let data: [JSONValue] = attempts.map { attempt in
            let at = Timestamps.dialNexa(attempt.dialAt)
            return [
                "attempt": JSONValue(attempt.attempt),
                "status": .string(attempt.outcome ?? "in_progress"),
                "duration_sec": JSONValue(Int(attempt.duration.rounded())),
                "called_at": .string(at),
                "timestamp": .string(at),
                "from_number": .string(attempt.fromNumber),
                "detail": JSONValue(attempt.detail),
            ]
        }
        return JSONValue.object(["call_id": .string(call.id), "data": .array(data)]).response()
    }

    private func load(_ context: SwitchboardContext) async throws -> CallRecord {
        let id = try context.parameter("call_id")
        return try await context.owned("Call") { try await api.store.call(id: id, organizationID: $0) }
    }

    static func json(_ call: CallRecord) -> [String: JSONValue] {
        let ended = call.status == "ended"
        return [
            "call_id": .string(call.id),
            "campaign_id": .string(call.campaignID),
            "voice_agent_id": JSONValue(call.agentID),
            "agent_id": JSONValue(call.agentID),
            "organization_id": .string(call.organizationID),
            "tenant_id": .string(call.tenantID),
            "user_id": .string(call.userID),
            "from_number": .string(call.fromNumber),
            "to_number": .string(call.toNumber),
            "direction": "outbound",
            "call_status": .string(call.status),
            "status": .string(call.status),
            "outcome": JSONValue(call.outcome),
            "disconnection_reason": JSONValue(call.outcome),
            "in_voicemail": .bool(call.outcome == Outcome.voicemail.rawValue),
            "call_successful": .bool(call.outcome == Outcome.completed.rawValue),
            "attempts_count": JSONValue(call.attempts),
            "duration_ms": JSONValue(Int(call.duration * 1000)),
            "detail": JSONValue(call.detail),
            "start_timestamp": JSONValue(Int(call.createdAt.timeIntervalSince1970 * 1000)),
            "end_timestamp": ended ? JSONValue(Int(call.updatedAt.timeIntervalSince1970 * 1000)) : .null,
            "call_started_at": .string(Timestamps.teli(call.createdAt)),
            "call_ended_at": ended ? .string(Timestamps.teli(call.updatedAt)) : .null,
        ]
    }
}
