import Foundation
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// `POST /v1/voice/phone-numbers/create` provisions a simulator number or registers an
/// existing number with its carrier; `GET /v1/voice/phone-numbers` lists them. Carrier
/// secrets are stored and never returned.
struct PhoneNumbersController {
    let api: APIEnvironment

    /// Per-number pacing defaults: real carriers start at Twilio's 1 call per second; a
    /// simulated line has no carrier limit (0) unless one is set.
    static let defaultCallsPerSecond: [ProviderName: Double] = [.simulator: 0]
    static let defaultMaxConcurrent = 10

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.post("v1/voice/phone-numbers/create", use: create)
        router.get("v1/voice/phone-numbers", use: list)
    }

    @Sendable func create(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.PhoneNumber>> {
        let principal = try context.caller()
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        let owner = try principal.owner(body)
        guard let provider = ProviderName(rawValue: try body.string("provider") ?? ProviderName.simulator.rawValue) else {
            throw APIError.badRequest("provider must be one of \(ProviderName.allCases.map(\.rawValue).sorted().joined(separator: ", "))", field: "provider")
        }
        let areaCode = try body.string("area_code")
        if let areaCode, areaCode.count != 3 || !areaCode.allSatisfy(\.isNumber) || areaCode.first == "0" || areaCode.first == "1" {
            throw APIError.badRequest("area_code must be three digits not starting with 0 or 1", field: "area_code")
        }
        let number: PhoneNumber
        if let raw = try body.string("phone_number") {
            do { number = try PhoneNumber(parsing: raw) }
            catch { throw APIError.badRequest("phone_number is invalid: \(error)", field: "phone_number") }
        } else if provider == .simulator {
            number = try await provision(areaCode: areaCode ?? "555")
        } else {
            throw APIError.badRequest("phone_number required to register a \(provider.rawValue) number", field: "phone_number")
        }
        var capabilities = Capability.allCases
        if let given = try body.array("capabilities") {
            capabilities = given.compactMap { $0.stringValue.flatMap(Capability.init(rawValue:)) }
            guard capabilities.count == given.count else {
                throw APIError.badRequest("capabilities must list voice and/or sms", field: "capabilities")
            }
        }
        var settings = try body.object("settings")?.object ?? [:]
        // Carrier credentials may come at the top level too (account_sid, auth_token, host…).
        for key in ["account_sid", "auth_token", "auth_id", "api_base_url", "host", "port", "transport", "username", "password", "from_domain"] {
            if let value = body.object[key] { settings[key] = value }
        }
        // Where a number's credentials are sent is the operator's to allow and an admin's to set.
        if settings["api_base_url"] != nil, settings["api_base_url"] != .null {
            guard api.allowCarrierBaseURL else {
                throw APIError.badRequest("api_base_url is not allowed on this server (its operator sets SWITCHBOARD_ALLOW_CARRIER_BASE_URL=1 to allow it)",
                                          field: "api_base_url")
            }
            guard principal.isAdmin else { throw APIError.forbidden("only an admin key may set api_base_url") }
        }
        do { try CarrierSettingsError.check(provider: provider, settings: settings) }
        catch { throw APIError.badRequest(error.message, field: error.field) }
        // Who answers a caller no campaign has called: a voice agent the caller may use.
        let inboundAgentID = try body.string("inbound_agent_id")
        if let inboundAgentID {
            guard let agent = try await api.store.agent(id: inboundAgentID, organizationID: owner.organizationID), agent.type == .voice,
                  principal.mayAccess(userID: agent.userID) else {
                throw APIError.badRequest("inbound_agent_id \(inboundAgentID) is not a voice agent of this organization", field: "inbound_agent_id")
            }
        }
        let record = PhoneNumberRecord(
            id: Identifier.make("phnum_", bytes: 10), phoneNumber: number.e164, organizationID: owner.organizationID,
            tenantID: owner.tenantID, userID: owner.userID, provider: provider, capabilities: capabilities,
            nickname: try body.string("nickname"), areaCode: number.countryCode == "1" ? String(number.digits.dropFirst().prefix(3)) : areaCode,
            settings: settings, maxConcurrentCalls: try body.int("max_concurrent_calls", in: 1...10_000) ?? Self.defaultMaxConcurrent,
            callsPerSecond: try body.number("calls_per_second").map { v in
                guard v >= 0, v <= 10_000 else { throw APIError.badRequest("calls_per_second must be between 0 (no limit) and 10000", field: "calls_per_second") }
                return v
            } ?? Self.defaultCallsPerSecond[provider] ?? 1,
            createdAt: api.clock.now(), inboundAgentID: inboundAgentID)
        try await api.store.insertPhoneNumber(record)
        context.logger.info("phone number added", metadata: ["phone_number": "\(record.phoneNumber)", "provider": "\(provider)"])
        return api.teli(Schemas.PhoneNumber(record, message: body.has("phone_number") ? "Phone number registered successfully" : "Phone number provisioned successfully"))
    }

    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.PhoneNumberList>> {
        let principal = try context.caller()
        let scope = try principal.listScope(request.query)
        var numbers = try await api.store.phoneNumbers(organizationID: principal.organizationID, userID: scope)
        if let type = try request.query.choice("phone_type", ["voice", "sms"]).flatMap(Capability.init(rawValue:)) { numbers = numbers.filter { $0.capabilities.contains(type) } }
        return api.teli(Schemas.PhoneNumberList(count: numbers.count, phone_numbers: numbers.map { Schemas.PhoneNumber($0) }))
    }

    /// A free simulator number in the area code.
    private func provision(areaCode: String) async throws -> PhoneNumber {
        for _ in 0..<20 {
            let line = String(format: "%04d", Int.random(in: 0...9999))
            let number = try PhoneNumber(parsing: "+1\(areaCode)555\(line)")
            if try await !api.store.phoneNumberTaken(number.e164) { return number }
        }
        throw APIError.conflict("no free simulator number left in area code \(areaCode)")
    }
}
