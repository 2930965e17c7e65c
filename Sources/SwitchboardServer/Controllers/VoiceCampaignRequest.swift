import Foundation
import Store
import SwitchboardCore

/// A `POST /v1/voice/campaigns` body, validated: the campaign to store, its valid leads, and
/// the invalid ones with their index and reason. Checks run in the seed's order, so a body
/// missing several things gets the message Teli would give first.
struct VoiceCampaignRequest {
    var campaign: CampaignRecord
    var leads: [ValidLead]
    var invalid: [InvalidLead]

    static func parse(_ body: JSONObjectReader, principal: Principal, store: Store, now: Date) async throws -> VoiceCampaignRequest {
        guard let rawLeads = try? body.array("leads") else { throw APIError.badRequest("leads array required", field: "leads") }
        let agentID = try body.requiredString("voice_agent_id")
        let outboundRaw = try body.requiredString("agent_outbound_number")
        let owner = try principal.owner(body)

        let (leads, invalid) = rawLeads.map(LeadInput.init(json:)).validated()

        let outbound: PhoneNumber
        do { outbound = try PhoneNumber(parsing: outboundRaw) }
        catch { throw APIError.badRequest("agent_outbound_number is invalid: \(error)", field: "agent_outbound_number") }
        var pool: [String] = [outbound.e164]
        for (index, entry) in (try body.array("number_pool") ?? []).enumerated() {
            let raw = entry["phone_number"]?.stringValue ?? entry.stringValue
            guard let raw, let number = try? PhoneNumber(parsing: raw) else {
                throw APIError.badRequest("number_pool[\(index)].phone_number must be a valid phone number", field: "number_pool")
            }
            if !pool.contains(number.e164) { pool.append(number.e164) }
        }

        // The agent and every number must be the organization's own, and the caller's to use.
        guard let agent = try await store.agent(id: agentID, organizationID: owner.organizationID), agent.type == .voice,
              principal.mayAccess(userID: agent.userID) else {
            throw APIError.badRequest("voice_agent_id \(agentID) is not a voice agent of this organization", field: "voice_agent_id")
        }
        let owned = Set(try await store.phoneNumbers(pool, organizationID: owner.organizationID)
            .filter { principal.mayAccess(userID: $0.userID) }.map(\.phoneNumber))
        guard owned.contains(outbound.e164) else {
            throw APIError.badRequest("agent_outbound_number \(outbound.e164) is not a phone number of this organization", field: "agent_outbound_number")
        }
        if let missing = pool.first(where: { !owned.contains($0) }) {
            throw APIError.badRequest("number_pool number \(missing) is not a phone number of this organization", field: "number_pool")
        }

        let begin = try body.timestamp("campaign_begin_time") ?? now
        let end = try body.timestamp("campaign_end_time") ?? begin.addingTimeInterval(CampaignSettings.defaultCampaignLength)
        guard end > begin else { throw APIError.badRequest("campaign_end_time must be after campaign_begin_time", field: "campaign_end_time") }

        let redialEnabled = try body.bool("redial_enabled") ?? false
        let retry = try retryPolicy(body.object("redial_config"))
        let timeZone = try body.string("timezone") ?? "UTC"
        guard TimeZoneCache.isKnown(timeZone) else { throw APIError.badRequest("timezone must be an IANA time zone such as America/New_York", field: "timezone") }
        let hours = try callingHours(body.object("calling_hours"))

        let campaignID = try body.string("campaign_id") ?? Identifier.make("voice_campaign_")
        let settings = CampaignSettings(
            name: try body.string("campaign_name") ?? body.string("name"), agentID: agentID, outboundNumber: outbound.e164,
            numbers: pool, redialEnabled: redialEnabled, retry: retry, callingHours: hours, timeZone: timeZone,
            maxConcurrentCalls: try body.int("max_concurrent_calls", in: 1...10_000) ?? CampaignSettings.defaultMaxConcurrentCalls,
            callsPerSecond: try positive(body, "calls_per_second", max: 10_000),
            ringTimeout: Double(try body.int("ring_timeout_seconds", in: 5...300) ?? Int(CampaignSettings.defaultRingTimeout)),
            maxCallDuration: Double(try body.int("max_call_duration_seconds", in: 1...14_400) ?? Int(CampaignSettings.defaultMaxCallDuration)),
            circuitBreaker: try circuitBreaker(body.object("circuit_breaker")))
        let campaign = CampaignRecord(
            id: campaignID, organizationID: owner.organizationID, tenantID: owner.tenantID, userID: owner.userID,
            settings: settings, beginAt: begin, endAt: end, invalidLeadsCount: invalid.count, createdAt: now, updatedAt: now)
        return VoiceCampaignRequest(campaign: campaign, leads: leads, invalid: invalid)
    }

    /// Teli's `retry_limit` and `call_interval_days`, plus minutes, seconds and `retry_on`.
    static func retryPolicy(_ config: JSONObjectReader?) throws -> RetryPolicy {
        guard let config else { return RetryPolicy(maxAttempts: 4, interval: 86_400) }
        let retries = try config.int("retry_limit", in: 0...20) ?? 3
        // Each part, and their sum, within a year: a later retry is never made, and an
        // unbounded one overflows the calendar.
        let days = try nonNegative(config, "call_interval_days", max: 365)
        let minutes = try nonNegative(config, "call_interval_minutes", max: 525_600)
        let seconds = try nonNegative(config, "call_interval_seconds", max: 31_536_000)
        let given = days != nil || minutes != nil || seconds != nil
        let interval = given ? (days ?? 0) * 86_400 + (minutes ?? 0) * 60 + (seconds ?? 0) : 86_400
        guard interval <= 31_536_000 else {
            throw APIError.badRequest("redial_config's call interval must add up to at most 365 days", field: "redial_config.call_interval_days")
        }
        var retryOn = RetryPolicy.defaultRetryOn
        if let list = try config.array("retry_on") {
            retryOn = []
            for item in list {
                guard let text = item.stringValue, let outcome = Outcome(lenient: text), outcome.isRetryable else {
                    throw APIError.badRequest("redial_config.retry_on may list no_answer, busy, voicemail, failed, call_declined", field: "redial_config.retry_on")
                }
                retryOn.insert(outcome)
            }
        }
        return RetryPolicy(maxAttempts: retries + 1, interval: interval, retryOn: retryOn)
    }

    /// `{"start":"09:00","end":"20:00","days":["mon",…],"timezone":"recipient"|IANA}`.
    static func callingHours(_ config: JSONObjectReader?) throws -> CallingHours {
        guard let config else { return .default }
        var hours = CallingHours.default
        if let start = try config.string("start") {
            guard let minutes = CallingHours.minutes(start) else { throw APIError.badRequest("calling_hours.start must be HH:MM", field: "calling_hours.start") }
            hours.start = minutes
        }
        if let end = try config.string("end") {
            guard let minutes = CallingHours.minutes(end) else { throw APIError.badRequest("calling_hours.end must be HH:MM", field: "calling_hours.end") }
            hours.end = minutes
        }
        guard hours.start < hours.end else { throw APIError.badRequest("calling_hours.end must be after calling_hours.start", field: "calling_hours.end") }
        if let days = try config.array("days") {
            var set: Set<Int> = []
            for day in days {
                guard let name = day.stringValue?.lowercased().prefix(3), let number = CallingHours.weekdayNames[String(name)] else {
                    throw APIError.badRequest("calling_hours.days must name weekdays (mon … sun)", field: "calling_hours.days")
                }
                set.insert(number)
            }
            guard !set.isEmpty else { throw APIError.badRequest("calling_hours.days must name at least one day", field: "calling_hours.days") }
            hours.days = set
        }
        if let holidays = try config.array("holidays") {
            for day in holidays {
                guard let text = day.stringValue, CallingHours.isDate(text) else {
                    throw APIError.badRequest("calling_hours.holidays must list dates as YYYY-MM-DD", field: "calling_hours.holidays")
                }
                hours.holidays.insert(text)
            }
        }
        if let zone = try config.string("timezone"), zone != "recipient" {
            guard TimeZoneCache.isKnown(zone) else {
                throw APIError.badRequest("calling_hours.timezone must be recipient or an IANA time zone", field: "calling_hours.timezone")
            }
            hours.timeZone = zone
        }
        return hours
    }

    /// Dograh's `{"enabled", "failure_threshold", "window_seconds", "min_calls_in_window"}`;
    /// what is left out keeps its default.
    static func circuitBreaker(_ config: JSONObjectReader?) throws -> CircuitBreaker? {
        guard let config else { return nil }
        var breaker = CircuitBreaker.default
        breaker.enabled = try config.bool("enabled") ?? true
        if let threshold = try config.number("failure_threshold") {
            guard threshold > 0, threshold <= 1 else {
                throw APIError.badRequest("circuit_breaker.failure_threshold must be above 0 and at most 1", field: "circuit_breaker.failure_threshold")
            }
            breaker.failureThreshold = threshold
        }
        if let window = try config.int("window_seconds", in: 10...86_400) { breaker.windowSeconds = Double(window) }
        if let minimum = try config.int("min_calls_in_window", in: 1...100_000) { breaker.minCalls = minimum }
        return breaker
    }

    private static func nonNegative(_ config: JSONObjectReader, _ key: String, max: Double) throws -> Double? {
        guard let value = try config.number(key) else { return nil }
        guard value >= 0, value <= max else {
            throw APIError.badRequest("\(config.name(key)) must be from 0 to \(Int(max))", field: config.name(key))
        }
        return value
    }

    private static func positive(_ body: JSONObjectReader, _ key: String, max: Double) throws -> Double? {
        guard let value = try body.number(key) else { return nil }
        guard value > 0, value <= max else { throw APIError.badRequest("\(key) must be above 0 and at most \(Int(max))", field: key) }
        return value
    }
}

extension CampaignSettings {
    /// The redial configuration as the client sees it.
    var redialConfigJSON: JSONValue {
        [
            "retry_limit": JSONValue(retry.maxAttempts - 1),
            "call_interval_days": JSONValue(retry.interval / 86_400),
            "call_interval_seconds": JSONValue(retry.interval),
            "retry_on": .array(retry.retryOn.map(\.rawValue).sorted().map { .string($0) }),
        ]
    }

    var circuitBreakerJSON: JSONValue {
        [
            "enabled": .bool(breaker.enabled), "failure_threshold": JSONValue(breaker.failureThreshold),
            "window_seconds": JSONValue(breaker.windowSeconds), "min_calls_in_window": JSONValue(breaker.minCalls),
        ]
    }

    var callingHoursJSON: JSONValue { callingHours.json }
}

extension CallingHours {
    /// As a client writes it: `{"start": "09:00", "end": "20:00", "days": [...], "timezone": …, "holidays": [...]}`.
    var json: JSONValue {
        // Not `String(format:)`: a status read writes two of these, and it showed in its profile.
        func hhmm(_ minutes: Int) -> String {
            func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
            return twoDigits(minutes / 60) + ":" + twoDigits(minutes % 60)
        }
        let names = CallingHours.weekdayNames.sorted { $0.value < $1.value }.filter { days.contains($0.value) }.map(\.key)
        return [
            "start": .string(hhmm(start)),
            "end": .string(hhmm(end)),
            "days": .array(names.map { .string($0) }),
            "timezone": .string(timeZone ?? "recipient"),
            "holidays": .array(holidays.sorted().map { .string($0) }),
        ]
    }
}
