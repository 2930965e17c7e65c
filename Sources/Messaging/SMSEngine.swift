import Agents
import Foundation
import Logging
import ServiceLifecycle
import SwitchboardCore
import Workers

public struct SMSEngineConfiguration: Sendable {
    /// The longest the loop sleeps when nothing is due sooner.
    public var pollInterval: TimeInterval = 1
    /// Real seconds a graceful shutdown waits for the pass under way (a model's reply, a
    /// carrier's answer); past it, the pass is cancelled and its claims run out.
    public var shutdownDeadline: TimeInterval = 30
    /// Conversations and texts taken per pass.
    public var batch = 50
    /// A claimed conversation is another worker's after this long (this one died).
    public var lease: TimeInterval = 120
    /// A text still `sending` after this long was lost with its process: failed, not resent.
    public var inDoubtAfter: TimeInterval = 600
    public init() {}
}

/// The SMS side of the engine: turns due conversations into queued texts (starting messages,
/// drips, agent replies) and sends the outbox, paced per number, through each number's carrier.
public final class SMSEngine: Service, Sendable {
    let store: any TextQueue
    let providers: [ProviderName: any MessagingProvider]
    let planner: ConversationPlanner
    let clock: any WallClock
    let configuration: SMSEngineConfiguration
    let wakeDialer: @Sendable () -> Void
    let observer: (any EngineObserver)?
    let logger: Logger
    let worker: LeasedWorker

    public init(store: any TextQueue, providers: [any MessagingProvider], agent: ConversationAgent?, clock: any WallClock,
                configuration: SMSEngineConfiguration = .init(), passes: WorkerPasses? = nil,
                wakeDialer: @escaping @Sendable () -> Void, observer: (any EngineObserver)? = nil, logger: Logger) {
        self.store = store
        self.providers = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.planner = ConversationPlanner(store: store, agent: agent, logger: logger)
        self.clock = clock
        self.configuration = configuration
        self.wakeDialer = wakeDialer
        self.observer = observer
        self.logger = logger
        worker = LeasedWorker(name: "sms", clock: clock, pollInterval: configuration.pollInterval,
                              shutdownDeadline: configuration.shutdownDeadline, passes: passes, logger: logger)
    }

    /// New work (a campaign, an inbound text, a human's message): look now.
    public func wake() { worker.wake() }

    /// Stops at the end of the pass under way, not inside one: a pass cancelled halfway would
    /// abandon its database work (and a text the carrier has, unrecorded) — unless it outlasts
    /// the shutdown deadline.
    public func run() async throws {
        let reap = Chore(every: 60) { now in
            let lost = try await self.store.reapInDoubtMessages(olderThan: now.addingTimeInterval(-self.configuration.inDoubtAfter), now: now)
            if lost > 0 { self.logger.warning("texts in doubt marked failed", metadata: ["count": "\(lost)"]) }
        }
        await worker.run(chores: [reap]) { now in
            let conversed = try await self.converse(now: now)
            let sent = try await self.send(now: self.clock.now())
            return conversed || sent ? .worked : .idle(nextDue: nil)
        }
        logger.info("sms engine stopped")
    }

    /// One pass over due conversations; true when there were any.
    func converse(now: Date) async throws -> Bool {
        let due = try await store.claimConversations(now: now, lease: configuration.lease, limit: configuration.batch)
        guard !due.isEmpty else { return false }
        var plans: [String: (SMSCampaignRecord, SMSCampaignPlan)] = [:]
        for conversation in due where plans[conversation.campaignID] == nil {
            guard let campaign = try await store.smsCampaign(id: ScopedID.publicID(conversation.campaignID), organizationID: conversation.organizationID) else { continue }
            let agent = try await store.agent(id: campaign.agentID, organizationID: campaign.organizationID)
            plans[campaign.key] = (campaign, SMSCampaignPlan(campaign, agent: agent))
        }
        // Decided concurrently (a model takes seconds), written together in one transaction.
        let turns = Locked<[(conversation: ConversationRecord, turn: ConversationTurn, campaign: SMSCampaignRecord)]>([])
        await withDiscardingTaskGroup { group in
            for conversation in due {
                guard let (campaign, plan) = plans[conversation.campaignID] else { continue }
                group.addTask {
                    switch await self.planner.decide(conversation, plan: plan, now: self.clock.now()) {
                    case .turn(let turn):
                        turns.withLock { $0.append((conversation, turn, campaign)) }
                    case .retry(let after):
                        try? await self.store.deferConversation(conversation, until: self.clock.now().addingTimeInterval(after))
                    case .wait(let opening):
                        try? await self.store.deferConversation(conversation, until: opening)
                    }
                }
            }
        }
        let decided = turns.withLock { $0 }
        let kept = try await store.commitTurns(decided, now: clock.now())
        if kept.count < decided.count { logger.notice("conversation claims lost; turns dropped", metadata: ["count": "\(decided.count - kept.count)"]) }
        if decided.contains(where: { kept.contains($0.conversation.id) && $0.turn.voiceCall != nil }) { wakeDialer() }
        logger.debug("conversation turns", metadata: ["count": "\(kept.count)"])
        return true
    }

    /// One pass over the outbox; true when texts went out.
    func send(now: Date) async throws -> Bool {
        let claimed = try await store.claimOutbox(now: now, limit: configuration.batch)
        guard !claimed.isEmpty else { return false }
        let results = Locked<[(messageID: Int64, result: SMSSendResult)]>([])
        await withDiscardingTaskGroup { group in
            for outgoing in claimed {
                group.addTask {
                    let message = outgoing.message
                    let result: SMSSendResult
                    if let provider = self.providers[outgoing.provider] {
                        result = await provider.send(OutboundSMS(messageID: message.id, from: message.ourNumber, to: message.contactNumber,
                                                                 body: message.body, mediaURL: message.mediaURL, settings: outgoing.settings))
                    } else {
                        result = SMSSendResult(status: .failed, error: "provider \(outgoing.provider) cannot send SMS")
                    }
                    results.withLock { $0.append((message.id, result)) }
                    self.observer?.textSent(carrier: outgoing.provider, status: result.status)
                }
            }
        }
        let answered = results.withLock { $0 }
        do {
            try await store.recordSMSStatuses(answered, now: clock.now())
        } catch {
            // Left `sending`: the reaper marks them failed in doubt, never resent.
            logger.error("texts sent but their statuses not written", metadata: ["count": "\(answered.count)", "error": "\(error)"])
            throw error
        }
        let byID = Dictionary(claimed.map { ($0.message.id, $0.message) }, uniquingKeysWith: { first, _ in first })
        for (messageID, result) in answered where result.recipientOptedOut {
            guard let message = byID[messageID] else { continue }
            try await store.suppress([Suppression(value: message.contactNumber, kind: .number, reason: result.error, source: .sms, createdAt: clock.now())],
                                     organizationID: message.organizationID, announce: true)
        }
        logger.debug("texts sent", metadata: ["count": "\(answered.count)"])
        return true
    }
}
