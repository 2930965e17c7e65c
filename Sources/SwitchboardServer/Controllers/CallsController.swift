import Agents
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
        router.get("v1/voice/calls/:call_id/recording", use: recording)
        router.get("v1/call-logs/:call_id/retries", use: retries)
    }

    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        let query = request.query
        let status = try query.string("call_status").map { given in
            guard let status = CallStatus(rawValue: given) else {
                throw APIError.badRequest("call_status must be ongoing, ended or retry_scheduled (got \(given))", field: "call_status")
            }
            return status
        }
        let successful = try query.string("success").map { given in
            guard let value = ["true": true, "false": false][given] else {
                throw APIError.badRequest("success must be true or false (got \(given))", field: "success")
            }
            return value
        }
        if let format = query.string("format"), format != "csv", format != "json" {
            throw APIError.badRequest("format must be json or csv", field: "format")
        }
        let filter = CallFilter(userID: try principal.listScope(query), campaignID: query.string("campaign_id"),
                                agentID: query.string("agent_id"), status: status, successful: successful,
                                limit: try query.int("limit", in: 1...100) ?? 100, offset: try query.int("offset", in: 0...Int(Int32.max)) ?? 0)
        if StreamedCSV.wanted(request) { return try await export(filter, organizationID: principal.organizationID) }
        let calls = try await api.store.calls(organizationID: principal.organizationID, filter: filter)
        return try api.teli(Schemas.CallList(count: calls.count, calls: calls.map(Schemas.Call.init))).response(from: request, context: context)
    }

    /// Every call the filter selects (not a page), one row each, read 1,000 at a time. For one
    /// campaign its agent's extraction fields are columns of their own; otherwise what was
    /// extracted is one JSON column.
    private func export(_ filter: CallFilter, organizationID: String) async throws -> Response {
        var named: [String]?
        if let campaignID = filter.campaignID {
            let campaign = try await api.store.campaign(id: campaignID, organizationID: organizationID)
            let agent = try await campaign.asyncMap { try await api.store.agent(id: $0.settings.agentID, organizationID: organizationID) } ?? nil
            named = AgentProfile.fields(agent?.body["extraction_fields"]).map { $0.name }
        }
        let fields = named
        let columns = ["call_id", "campaign_id", "direction", "from_number", "to_number", "call_status", "outcome", "attempts", "duration_sec",
                       "started_at", "ended_at", "detail", "summary", "sentiment", "successful", "recording_url"]
            + (fields ?? ["extracted_fields"])
        let store = api.store
        return StreamedCSV.response(columns: columns, filename: "calls.csv") { (after: CallCursor?) in
            var page = filter
            (page.limit, page.offset, page.after) = (1_000, 0, after)
            let calls = try await store.calls(organizationID: organizationID, filter: page)
            let rows = calls.map { call -> [String] in
                let shown = Schemas.Call(call)
                let extracted: [String] = fields.map { names in names.map { call.extracted?[$0]?.text ?? "" } }
                    ?? [call.extracted.map { JSONValue.object($0).jsonText } ?? ""]
                return [call.id, call.campaignID, call.direction.rawValue, shown.from_number, shown.to_number, call.status.rawValue,
                        call.outcome?.rawValue ?? "", "\(call.attempts)", "\(call.duration)", Timestamps.teli(shown.call_started_at), shown.call_ended_at.map(Timestamps.teli) ?? "",
                        call.detail ?? "", call.analysis?.summary ?? "", call.analysis?.sentiment.rawValue ?? "",
                        call.analysis?.successful.map { "\($0)" } ?? "", shown.recording_url ?? ""] + extracted
            }
            return (rows, calls.last.map { CallCursor(createdAt: $0.createdAt, id: $0.id) })
        }
    }

    @Sendable func get(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.CallEnvelope>> {
        let call = try await load(context)
        let attempts = try await api.store.attempts(callID: call.id)
        return api.teli(Schemas.CallEnvelope(call: Schemas.Call(call, attempts: attempts)))
    }

    /// The call's recording (stereo WAV: the callee left, the agent right), streamed from the
    /// recordings directory with the caller's authorization.
    @Sendable func recording(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let call = try await load(context)
        guard let recording = call.recording else { throw APIError.notFound("Recording") }
        let path = api.recordings.absolute(recording.path)
        guard let handle = FileHandle(forReadingAtPath: path), let size = try? handle.seekToEnd() else { throw APIError.notFound("Recording") }
        try handle.seek(toOffset: 0)
        var headers = HTTPFields()
        headers[.contentType] = "audio/wav"
        headers[.contentLength] = "\(size)"
        headers[.contentDisposition] = "attachment; filename=\"\(RecordingsDirectory.safe(call.id)).wav\""
        let body = ResponseBody { writer in
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 64 * 1024), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// DialNexa's retry history: every attempt of the parent call, in order.
    @Sendable func retries(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Schemas.RetryHistory> {
        let call = try await load(context)
        let attempts = try await api.store.attempts(callID: call.id)
        return JSONBody(body: Schemas.RetryHistory(call_id: call.id, data: attempts.map(Schemas.RetryAttempt.init)))
    }

    private func load(_ context: SwitchboardContext) async throws -> CallRecord {
        let id = try context.parameter("call_id")
        return try await context.owned("Call") { try await api.store.call(id: id, organizationID: $0) }
    }
}
