import Foundation

// The ports the engines depend on: what each needs of the database, and no more. `Store`
// implements them over SQLite and PostgreSQL (each write one transaction, so a claim is
// exactly as safe as the SQL makes it); the engine tests also run them in memory.

/// The dialer's queue: live campaigns, claims, outcomes, leases.
public protocol DialQueue: Sendable {
    func liveCampaigns() async throws -> [CampaignRecord]
    /// Ends a campaign whose window closed: what was not dialed is not called.
    func endCampaign(id: String, reason: String, now: Date) async throws
    /// Claims the campaign's due leads that fit its caps, pacing and calling hours, committed
    /// as `dialing` attempts before any carrier hears of them.
    func claim(_ campaign: CampaignRecord, limits: ClaimLimits, now: Date) async throws -> [ClaimedAttempt]
    /// Marks the campaign completed when no lead is left to dial; whether it did.
    func completeCampaignIfDone(id: String, now: Date) async throws -> Bool
    /// When the campaign's next queued lead is due.
    func nextDue(campaignID: String) async throws -> Date?
    /// Writes outcomes (fenced by their claims) and the retry decisions, and progress steps;
    /// returns the campaigns touched.
    @discardableResult
    func complete(_ completions: [AttemptCompletion], progress: [AttemptProgress]) async throws -> Set<String>
    func renewLeases(attemptIDs: [Int64], until: Date) async throws
    /// Claims whose lease ran out: their dialer stopped renewing them.
    func expiredClaims(now: Date, limit: Int) async throws -> [ClaimedAttempt]
    /// Puts back a lead whose claimed attempt never reached the carrier.
    func requeueNeverPlaced(_ attempt: ClaimedAttempt, now: Date) async throws
    /// Removes lead uploads abandoned halfway; how many.
    func reapAbandonedImports(now: Date) async throws -> Int
}

/// The SMS engine's conversations and outbox.
public protocol TextQueue: Sendable {
    func claimConversations(now: Date, lease: TimeInterval, limit: Int) async throws -> [ConversationRecord]
    func smsCampaign(id: String, organizationID: String) async throws -> SMSCampaignRecord?
    func agent(id: String, organizationID: String) async throws -> AgentRecord?
    func conversationMessages(_ conversationID: Int64, organizationID: String, limit: Int) async throws -> [MessageRecord]
    func deferConversation(_ conversation: ConversationRecord, until retryAt: Date) async throws
    /// Writes the turns of conversations still claimed; the ids of those written.
    func commitTurns(_ turns: [(conversation: ConversationRecord, turn: ConversationTurn, campaign: SMSCampaignRecord)],
                     now: Date) async throws -> Set<Int64>
    func claimOutbox(now: Date, limit: Int) async throws -> [OutboxMessage]
    func recordSMSStatuses(_ results: [(messageID: Int64, result: SMSSendResult)], now: Date) async throws
    /// Texts left `sending` by a process that died: failed in doubt, never resent.
    func reapInDoubtMessages(olderThan cutoff: Date, now: Date) async throws -> Int
    @discardableResult
    func suppress(_ entries: [Suppression], organizationID: String, announce: Bool) async throws -> Int
}

/// The webhook sender's outbox.
public protocol WebhookOutbox: Sendable {
    func claimDeliveries(now: Date, limit: Int, lease: TimeInterval) async throws -> [OutgoingDelivery]
    func recordDelivery(_ delivery: WebhookDelivery, result: DeliveryResult, now: Date) async throws
}

/// How long one operation may hold a connection. Past it the connection is taken for lost (a
/// server restart can leave a connection whose query never gets an answer), closed, and the
/// operation fails with `DatabaseUnavailable`, to be tried again on a fresh one. The engine,
/// whose statements are short, asks for a short deadline; API calls and imports keep the
/// generous default.
public enum DatabaseDeadline {
    @TaskLocal public static var current: Duration = .seconds(120)
}

/// Calls waiting for their post-call analysis, worked through by the analyst, away from the
/// dialer: a slow or failing language model never holds a line.
public protocol CallAnalysisQueue: Sendable {
    /// Due analyses, each leased for `lease` seconds.
    func claimAnalyses(now: Date, lease: TimeInterval, limit: Int) async throws -> [PendingAnalysis]
    /// Stores the analysis and extracted fields, and emits `call.analyzed`, in one transaction.
    func saveAnalysis(_ analysis: CallAnalysis, extracted: [String: JSONValue]?, for job: PendingAnalysis, now: Date) async throws
    /// A failed try: again at `retryAt`, or given up (nil).
    func retryAnalysis(_ job: PendingAnalysis, at retryAt: Date?, error: String) async throws
}
