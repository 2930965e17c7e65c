import Agents
import Foundation
import Logging
import ServiceLifecycle
import Store
import SwitchboardCore

public struct SMSEngineConfiguration: Sendable {
    /// The longest the loop sleeps when nothing is due sooner (real time).
    public var pollInterval: TimeInterval = 1
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
    let store: Store
    let providers: [String: any MessagingProvider]
    let planner: ConversationPlanner
    let clock: any WallClock
    let configuration: SMSEngineConfiguration
    let wakeDialer: @Sendable () -> Void
    let logger: Logger
    private let wakeSignal = WakeSignal()

    public init(store: Store, providers: [any MessagingProvider], agent: ConversationAgent?, clock: any WallClock,
                configuration: SMSEngineConfiguration = .init(), wakeDialer: @escaping @Sendable () -> Void, logger: Logger) {
        self.store = store
        self.providers = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.planner = ConversationPlanner(store: store, agent: agent, logger: logger)
        self.clock = clock
        self.configuration = configuration
        self.wakeDialer = wakeDialer
        self.logger = logger
    }

    /// New work (a campaign, an inbound text, a human's message): look now.
    public func wake() { wakeSignal.fire() }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        var nextReap = Date.distantPast
        while !Task.isCancelled {
            var busy = false
            do {
                let now = clock.now()
                if now >= nextReap {
                    let lost = try await store.reapInDoubtMessages(olderThan: now.addingTimeInterval(-configuration.inDoubtAfter), now: now)
                    if lost > 0 { logger.warning("texts in doubt marked failed", metadata: ["count": "\(lost)"]) }
                    nextReap = now.addingTimeInterval(60)
                }
                let conversed = try await converse(now: now)
                let sent = try await send(now: clock.now())
                busy = conversed || sent
            } catch {
                logger.warning("sms pass failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            if busy { continue }
            await wakeSignal.wait(until: Date().addingTimeInterval(configuration.pollInterval), clock: SystemClock())
        }
    }

    /// One pass over due conversations; true when there were any.
    func converse(now: Date) async throws -> Bool {
        let due = try await store.claimConversations(now: now, lease: configuration.lease, limit: configuration.batch)
        guard !due.isEmpty else { return false }
        var plans: [String: (SMSCampaignRecord, SMSCampaignPlan)] = [:]
        for conversation in due where plans[conversation.campaignID] == nil {
            guard let campaign = try await store.smsCampaign(id: conversation.campaignID, organizationID: conversation.organizationID) else { continue }
            let agent = try await store.agent(id: campaign.agentID, organizationID: campaign.organizationID)
            plans[campaign.id] = (campaign, SMSCampaignPlan(campaign, agent: agent))
        }
        let escalated = Locked(false)
        await withDiscardingTaskGroup { group in
            for conversation in due {
                guard let (campaign, plan) = plans[conversation.campaignID] else { continue }
                group.addTask {
                    var logger = self.logger
                    logger[metadataKey: "conversation_id"] = "\(conversation.id)"
                    logger[metadataKey: "campaign_id"] = "\(conversation.campaignID)"
                    switch await self.planner.decide(conversation, plan: plan, now: self.clock.now()) {
                    case .turn(let turn):
                        do {
                            let kept = try await self.store.commitTurn(conversation, turn, campaign: campaign, now: self.clock.now())
                            if !kept { logger.notice("conversation claim lost; turn dropped") }
                            if kept, turn.voiceCall != nil { escalated.withLock { $0 = true } }
                            logger.debug("conversation turn", metadata: ["kind": "\(conversation.dueKind ?? "")", "texts": "\(turn.messages.count)"])
                        } catch {
                            logger.warning("conversation turn not written", metadata: ["error": "\(error)"])
                        }
                    case .retry(let after):
                        try? await self.store.deferConversation(conversation, until: self.clock.now().addingTimeInterval(after))
                    }
                }
            }
        }
        if escalated.withLock({ $0 }) { wakeDialer() }
        return true
    }

    /// One pass over the outbox; true when texts went out.
    func send(now: Date) async throws -> Bool {
        let claimed = try await store.claimOutbox(now: now, limit: configuration.batch)
        guard !claimed.isEmpty else { return false }
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
                    do {
                        try await self.store.recordSMSStatus(messageID: message.id, result, now: self.clock.now())
                        if result.recipientOptedOut {
                            try await self.store.suppress([Suppression(value: message.contactNumber, kind: .number, reason: result.error, source: "sms",
                                                                       createdAt: self.clock.now())],
                                                          organizationID: message.organizationID, announce: true)
                        }
                    } catch {
                        self.logger.error("text sent but its status not written", metadata: ["message_id": "\(message.id)", "error": "\(error)"])
                    }
                    self.logger.debug("text sent", metadata: ["message_id": "\(message.id)", "status": "\(result.status.rawValue)",
                                                              "provider": "\(outgoing.provider)"])
                }
            }
        }
        return true
    }
}
