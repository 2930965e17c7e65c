import Foundation
import SQLKit
import SwitchboardCore

/// A campaign's leads counted by where they stand (`campaign_lead_counts`), changed by the
/// same transactions that move the leads, so a status read costs the same at 1k and 1M leads
/// instead of counting the leads. A statement that moves leads says how many went from which
/// bucket to which; the transaction applies the sum once, at its end, in key order (two
/// transactions never wait on each other's counts in opposite orders).
///
/// Buckets: `queued:new`, `queued:retry` (dialed before), `dialing`, `done:<outcome>`,
/// `not_called:<reason>`, `suppressed`; and `dialed`, the leads dialed at least once.
struct LeadCounts {
    private(set) var changes: [String: [String: Int]] = [:]

    static let dialing = "dialing"
    static let suppressed = "suppressed"
    static let dialed = "dialed"
    static func queued(attempts: Int) -> String { attempts > 0 ? "queued:retry" : "queued:new" }
    static func done(_ outcome: String) -> String { "done:" + outcome }
    static func notCalled(_ reason: String) -> String { "not_called:" + reason }

    /// The bucket of a `leads` row, in SQL: for the migration that first fills the counts, and
    /// for the recount the tests and the chaos harness hold the counts against.
    static let bucketSQL = """
        CASE state WHEN 'queued' THEN (CASE WHEN attempts > 0 THEN 'queued:retry' ELSE 'queued:new' END)
          WHEN 'dialing' THEN 'dialing'
          WHEN 'done' THEN 'done:' || COALESCE(last_outcome, 'failed')
          WHEN 'not_called' THEN 'not_called:' || COALESCE(due_reason, 'campaign_ended')
          ELSE state END
        """

    var isEmpty: Bool { changes.isEmpty }

    mutating func add(_ campaignID: String, _ bucket: String, _ n: Int = 1) {
        guard n != 0 else { return }
        changes[campaignID, default: [:]][bucket, default: 0] += n
    }

    mutating func move(_ campaignID: String, from: String, to: String, _ n: Int = 1) {
        guard from != to else { return }
        add(campaignID, from, -n)
        add(campaignID, to, n)
    }

    /// Leads that left `state … queued` for `to`, from rows returning their `attempts`.
    mutating func moveQueued(_ campaignID: String, attempts: [Int], to: String) {
        let retried = attempts.filter { $0 > 0 }.count
        move(campaignID, from: Self.queued(attempts: 1), to: to, retried)
        move(campaignID, from: Self.queued(attempts: 0), to: to, attempts.count - retried)
    }
}

extension Store {
    /// Adds the transaction's changes to the counts: one statement, keys in order.
    func apply(_ db: any SQLDatabase, _ counts: LeadCounts) async throws {
        var rows: [[any SQLBindable]] = []
        for campaign in counts.changes.keys.sorted() {
            for (bucket, n) in (counts.changes[campaign] ?? [:]).sorted(by: { $0.key < $1.key }) where n != 0 {
                rows.append([campaign, bucket, n])
            }
        }
        guard !rows.isEmpty else { return }
        try await db.raw("INSERT INTO campaign_lead_counts (campaign_id, bucket, n) " + Self.rows(rows) + """
             ON CONFLICT (campaign_id, bucket) DO UPDATE SET n = campaign_lead_counts.n + excluded.n
            """).run()
    }

    /// A write that moves leads: `body` notes what it moved, and the counts change with it.
    func writeCounting<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase, inout LeadCounts) async throws -> T) async throws -> T {
        try await write { db in
            var counts = LeadCounts()
            let result = try await body(db, &counts)
            try await apply(db, counts)
            return result
        }
    }

    /// Where the kept counts differ from the leads counted now, every campaign's: nothing when
    /// they are right. For the tests; the counts are only ever changed by the statements that
    /// move leads.
    public func leadCountDrift() async throws -> [String] {
        try await database.read(.scan) { db in
            var kept: [String: Int] = [:]
            for row in try await db.raw("SELECT campaign_id, bucket, n FROM campaign_lead_counts WHERE n <> 0").all() {
                kept[try row.string("campaign_id") + " " + row.string("bucket")] = try row.int("n")
            }
            let counted = try await countLeads(db, campaignID: nil)
            return Set(kept.keys).union(counted.keys).sorted().compactMap { key in
                kept[key] == counted[key] ? nil : "\(key): kept \(kept[key] ?? 0), counted \(counted[key] ?? 0)"
            }
        }
    }

    /// One campaign's buckets counted from its leads, as every status read did before the counts
    /// were kept: the baseline of `switchboard bench status`.
    public func countLeads(campaignID: String) async throws -> CampaignProgress {
        try await database.read(.scan) { db in
            var counts: [String: Int] = [:]
            for (key, n) in try await countLeads(db, campaignID: campaignID) { counts[String(key.split(separator: " ", maxSplits: 1)[1])] = n }
            return CampaignProgress(counts: counts)
        }
    }

    /// Leads counted by campaign and bucket (`"<campaign> <bucket>"`), of one campaign or all.
    private func countLeads(_ db: any SQLDatabase, campaignID: String?) async throws -> [String: Int] {
        let filter: SQLQueryString = campaignID.map { "WHERE campaign_id = \(bind: $0)" } ?? ""
        let dialed: SQLQueryString = campaignID.map { "AND campaign_id = \(bind: $0)" } ?? ""
        var counted: [String: Int] = [:]
        for row in try await db.raw("""
            SELECT campaign_id, \(unsafeRaw: LeadCounts.bucketSQL) AS bucket, COUNT(*) AS n FROM leads \(filter) GROUP BY 1, 2
            UNION ALL SELECT campaign_id, 'dialed' AS bucket, COUNT(*) AS n FROM leads WHERE attempts > 0 \(dialed) GROUP BY 1
            """).all() {
            counted[try row.string("campaign_id") + " " + row.string("bucket")] = try row.int("n")
        }
        return counted
    }
}

extension CampaignProgress {
    /// Progress from a campaign's counts.
    init(counts: [String: Int]) {
        self.init()
        for (bucket, n) in counts where n != 0 {
            // "<kind>" or "<kind>:<detail>", split without allocating (every status read does this).
            let colon = bucket.utf8.firstIndex(of: UInt8(ascii: ":"))
            let kind = bucket[..<(colon ?? bucket.endIndex)]
            let detail = colon.map { String(bucket[bucket.index(after: $0)...]) }
            switch kind {
            case "dialed": dialed += n
            case "queued":
                total += n
                if detail == "retry" { retryScheduled += n } else { pending += n }
            case "dialing":
                total += n
                inProgress += n
            case "done":
                total += n
                let outcome = detail ?? Outcome.failed.rawValue
                if outcome == Outcome.completed.rawValue { completed += n } else { failed += n }
                outcomes[outcome, default: 0] += n
            case "not_called":
                total += n
                notCalled += n
                notCalledReasons[detail ?? "campaign_ended", default: 0] += n
            case "suppressed":
                total += n
                suppressed += n
            default: break
            }
        }
    }
}
