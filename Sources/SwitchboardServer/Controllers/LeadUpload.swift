import Foundation
import Hummingbird
import Store
import SwitchboardCore

/// `POST /v1/voice/campaigns/{id}/leads`: a JSON array or a CSV body (a `phone_number`
/// column), read as it arrives and staged in chunks; the leads become dialable together when
/// the body ends, or not at all.
struct LeadUpload {
    let api: APIEnvironment
    /// Leads per staging transaction.
    static let chunk = 2_000
    /// Invalid leads listed in the response (all are counted).
    static let listedInvalid = 1_000

    @Sendable func upload(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let campaign = try await VoiceCampaignsController(api: api).load(request, context)
        guard campaign.status.isLive || campaign.status == .completed else {
            throw APIError.conflict("Campaign is \(campaign.status.rawValue); leads can be added to an active, paused or completed campaign")
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let upload = try await api.store.beginImport(campaignID: campaign.id, now: api.clock.now())
        do {
            var parser = StreamParser(csv: contentType.contains("csv"))
            var received = 0
            var invalid: [InvalidLead] = []
            var invalidCount = 0
            var pending: [ValidLead] = []
            var bytes = 0
            func take(_ inputs: [LeadInput]) async throws {
                for input in inputs {
                    switch input.validated(index: received) {
                    case .success(let lead): pending.append(lead)
                    case .failure(let problem):
                        invalidCount += 1
                        if invalid.count < Self.listedInvalid { invalid.append(problem) }
                    }
                    received += 1
                }
                if pending.count >= Self.chunk {
                    _ = try await api.store.stage(pending, in: upload, now: api.clock.now())
                    pending.removeAll(keepingCapacity: true)
                }
            }
            for try await buffer in request.body {
                bytes += buffer.readableBytes
                guard bytes <= api.maxUploadBytes else { throw APIError(.contentTooLarge, "lead upload is larger than \(api.maxUploadBytes) bytes") }
                try await take(try parser.feed(buffer.readableBytesView))
            }
            try await take(try parser.finish())
            if !pending.isEmpty { _ = try await api.store.stage(pending, in: upload, now: api.clock.now()) }
            let counts = try await api.store.commitImport(upload, received: received, invalid: invalidCount, now: api.clock.now())
            api.wakeDialer()
            context.logger.info("leads uploaded", metadata: ["campaign_id": "\(campaign.id)", "received": "\(received)", "added": "\(counts.added)"])
            return api.teli([
                "campaign_id": .string(campaign.id),
                "received": JSONValue(received),
                "added_count": JSONValue(counts.added),
                "duplicate_leads_count": JSONValue(counts.duplicates),
                "invalid_leads_count": JSONValue(invalidCount),
                "invalid_leads": .array(invalid.map(VoiceCampaignsController.json)),
                "invalid_leads_truncated": .bool(invalidCount > invalid.count),
                "message": "Leads added",
            ])
        } catch {
            try? await api.store.abortImport(upload)
            if let problem = error as? LeadStreamError { throw APIError.badRequest(problem.description) }
            throw error
        }
    }

    /// JSON unless the client says CSV; each element or row becomes a `LeadInput`.
    struct StreamParser {
        var csv: Bool
        var json = JSONArrayFramer()
        var csvParser = CSVLeadParser()

        init(csv: Bool) { self.csv = csv }

        mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [LeadInput] {
            if csv { return try csvParser.feed(bytes) }
            return try json.feed(bytes).map(Self.decode)
        }

        mutating func finish() throws -> [LeadInput] {
            if csv { return try csvParser.finish() }
            try json.finish()
            return []
        }

        static func decode(_ element: [UInt8]) throws -> LeadInput {
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(element)) else {
                throw APIError.badRequest("a lead in the body is not valid JSON")
            }
            return LeadInput(json: value)
        }
    }
}
