import Hummingbird
import Logging
import Store
import SwitchboardCore

/// An organization's compliance settings: how often one number may be dialed across all its
/// campaigns. Anyone of the organization may read them; an admin key changes them.
struct OrganizationSettingsController {
    let api: APIEnvironment

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.get("v1/organizations/:organization_id/settings", use: get)
        router.put("v1/organizations/:organization_id/settings", use: put)
    }

    @Sendable func get(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.OrganizationSettings>> {
        let principal = try own(context)
        return api.teli(Schemas.OrganizationSettings(try await api.store.organizationSettings(principal.organizationID), organizationID: principal.organizationID))
    }

    @Sendable func put(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.OrganizationSettings>> {
        let principal = try own(context)
        guard principal.isAdmin else { throw APIError.forbidden("only an admin key may change organization settings") }
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        var settings = try await api.store.organizationSettings(principal.organizationID)
        if let caps = try body.object("attempt_caps") {
            settings.attemptCaps = AttemptCaps(per24Hours: try caps.int("per_24_hours", in: 0...1_000) ?? settings.attemptCaps.per24Hours,
                                               per7Days: try caps.int("per_7_days", in: 0...10_000) ?? settings.attemptCaps.per7Days)
        }
        try await api.store.setOrganizationSettings(settings, organizationID: principal.organizationID, now: api.clock.now())
        context.logger.info("organization settings changed", metadata: ["attempt_caps": "\(settings.attemptCaps)"])
        return api.teli(Schemas.OrganizationSettings(settings, organizationID: principal.organizationID))
    }

    /// Another organization's settings do not exist for this key.
    private func own(_ context: SwitchboardContext) throws -> Principal {
        let principal = try context.caller()
        guard try context.parameter("organization_id") == principal.organizationID else { throw APIError.notFound("Organization") }
        return principal
    }
}
