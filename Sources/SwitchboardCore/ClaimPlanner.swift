import Foundation

/// A lead the queue says is due: what the claim decides on.
public struct DueLead: Sendable, Equatable {
    public var id: Int64
    public var phone: String
    public var fields: String?
    public var attempts: Int
    /// The call its earlier attempts belong to (a retry joins it).
    public var callID: String?

    public init(id: Int64, phone: String, fields: String?, attempts: Int, callID: String?) {
        self.id = id
        self.phone = phone
        self.fields = fields
        self.attempts = attempts
        self.callID = callID
    }
}

/// What a claim does with the due leads it read, decided without the database: the store
/// reads the facts (the leads, which numbers are suppressed, their recent dials) and applies
/// the plan in the same transaction.
public struct ClaimPlan: Sendable, Equatable {
    /// Dialed now, in queue order.
    public var dial: [DueLead] = []
    /// On the organization's suppression list: never dialed.
    public var suppress: [Int64] = []
    /// Outside calling hours or over an attempt cap: due again at the next opening, and why.
    public var deferred: [(id: Int64, until: Date, reason: DueReason)] = []
    /// No opening before the campaign ends: not called, and why.
    public var notCalled: [(id: Int64, reason: DueReason)] = []

    public init() {}

    /// Whether the plan set any lead aside (suppressed, deferred, not called): the claim then
    /// reads further into the queue for leads that can be dialed.
    public var setAside: Bool { !suppress.isEmpty || !deferred.isEmpty || !notCalled.isEmpty }

    /// - Parameters:
    ///   - suppressed: the numbers among the leads' that are suppressed now (checked at every
    ///     claim, not only at import: a number suppressed a second ago is not dialed).
    ///   - recentDials: each number's dials across the organization within `AttemptCaps.lookBack`.
    public init(leads: [DueLead], suppressed: Set<String>, recentDials: [String: [Date]], caps: AttemptCaps,
                settings: CampaignSettings, campaignEnds: Date, now: Date) {
        let hours = settings.callingHours
        // Leads share few zones and most may be dialed now: each opening is worked out once per
        // claim, not with a calendar's date arithmetic per lead on the writer's thread.
        var openings: [OpeningKey: Date?] = [:]
        for lead in leads {
            if suppressed.contains(lead.phone) {
                suppress.append(lead.id)
                continue
            }
            let allowed = caps.nextAllowed(after: recentDials[lead.phone] ?? [], now: now)
            let opening: Date?
            if hours.isAlways {
                // Hours open around the clock: where the number is does not matter.
                opening = allowed
            } else if let number = try? PhoneNumber(parsing: lead.phone) {
                let zones = hours.zones(for: number, fallback: settings.timeZone)
                let key = OpeningKey(from: allowed, zones: zones.map(\.identifier))
                if let known = openings[key] {
                    opening = known
                } else {
                    opening = hours.nextOpening(from: allowed, zones: zones)
                    openings[key] = opening
                }
            } else {
                opening = nil
            }
            let reason = allowed > now ? DueReason.attemptCap : .callingHours
            if let opening, opening <= now {
                dial.append(lead)
            } else if let opening, opening < campaignEnds {
                deferred.append((lead.id, opening, reason))
            } else {
                notCalled.append((lead.id, reason))
            }
        }
    }

    private struct OpeningKey: Hashable {
        var from: Date
        var zones: [String]
    }

    public static func == (lhs: ClaimPlan, rhs: ClaimPlan) -> Bool {
        lhs.dial == rhs.dial && lhs.suppress == rhs.suppress
            && lhs.deferred.map { "\($0.id) \($0.until) \($0.reason)" } == rhs.deferred.map { "\($0.id) \($0.until) \($0.reason)" }
            && lhs.notCalled.map { "\($0.id) \($0.reason)" } == rhs.notCalled.map { "\($0.id) \($0.reason)" }
    }
}
