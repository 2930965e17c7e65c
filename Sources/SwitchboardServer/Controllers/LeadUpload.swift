import Foundation
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// `POST /v1/voice/campaigns/{id}/leads`: a JSON array or a CSV body (`Content-Type: text/csv`,
/// a `phone_number` column), read as it arrives; the leads become dialable together when the
/// body ends, or not at all.
struct LeadUpload {
    let api: APIEnvironment

    @Sendable func upload(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.LeadUpload>> {
        let campaign = try await VoiceCampaignsController(api: api).load(request, context)
        guard campaign.status.isLive || campaign.status == .completed else {
            throw APIError.conflict("Campaign is \(campaign.status.rawValue); leads can be added to an active, paused or completed campaign")
        }
        let csv = request.headers[.contentType]?.lowercased().contains("csv") ?? false
        let session = try await LeadImportSession.begin(campaignID: campaign.key, format: csv ? .csv : .json, store: api.store, clock: api.clock)
        let summary: LeadImportSession.Summary
        do {
            for try await buffer in api.upload(request) {
                try await session.feed(buffer.readableBytesView)
            }
            summary = try await session.finish()
        } catch {
            await session.abort()
            if let problem = error as? LeadStreamError { throw APIError.badRequest(problem.description) }
            throw error
        }
        api.wakeDialer()
        context.logger.info("leads uploaded", metadata: ["campaign_id": "\(campaign.id)", "received": "\(summary.received)", "added": "\(summary.added)"])
        return api.teli(Schemas.LeadUpload(
            campaign_id: campaign.id, received: summary.received, added_count: summary.added,
            duplicate_leads_count: summary.duplicates, invalid_leads_count: summary.invalidCount,
            invalid_leads: summary.invalid.map(Schemas.InvalidLead.init),
            invalid_leads_truncated: summary.invalidCount > summary.invalid.count))
    }
}
