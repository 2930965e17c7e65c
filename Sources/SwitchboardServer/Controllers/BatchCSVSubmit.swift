import Foundation
import Hummingbird
import MultipartKit
import NIOCore
import Store
import SwitchboardCore

/// `POST /v1/voiceai/batch-calling/submit` as `multipart/form-data`: the submission's fields as
/// form fields, and a CSV `file` with a `phone_number` column whose other columns become the
/// recipients' variables. The file is parsed and staged as it arrives, never held whole; the
/// batch and its recipients are created together at the end, or not at all.
struct BatchCSVSubmit {
    let api: APIEnvironment

    func submit(_ request: Request, id: String, principal: Principal) async throws -> (CampaignRecord, [InvalidLead]) {
        guard let boundary = FormParts.boundary(request.headers[.contentType] ?? "") else {
            throw APIError.badRequest("multipart/form-data requires a boundary", field: "file")
        }
        let session = try await LeadImportSession.begin(campaignID: ScopedID.key(organizationID: principal.organizationID, id: id), format: .csv,
                                                        store: api.store, clock: api.clock)
        do {
            let parts = FormParts(boundary: boundary)
            for try await buffer in api.upload(request) {
                try parts.execute(buffer)
                for chunk in parts.takeFileChunks() { try await session.feed(chunk) }
            }
            guard parts.sawFile else { throw APIError.badRequest("file required: a CSV with a phone_number column", field: "file") }
            let summary = try await session.finishStaging()
            guard summary.received > 0 else { throw APIError.badRequest("file has no recipients", field: "file") }
            let body = try BatchSubmitRequest.body(form: parts.fields)
            var parsed = try await BatchSubmitRequest.parse(body, id: id, principal: principal, store: api.store, now: api.clock.now())
            parsed.campaign.invalidLeadsCount = summary.invalidCount
            let batch = try await api.store.createCampaign(parsed.campaign, leads: [], staged: session.staged)
            return (batch, summary.invalid)
        } catch {
            await session.abort()
            if let problem = error as? LeadStreamError { throw APIError.badRequest(problem.description, field: "file") }
            throw error
        }
    }
}
