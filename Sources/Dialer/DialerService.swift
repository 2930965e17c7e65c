import Foundation
import Logging
import ServiceLifecycle
import SwitchboardCore
import Workers

public struct DialerConfiguration: Sendable {
    public var limits: ClaimLimits
    /// The longest the loop sleeps when nothing is due sooner.
    public var pollInterval: TimeInterval
    public var heartbeatInterval: TimeInterval
    public var reapInterval: TimeInterval
    /// Real seconds a graceful shutdown waits for calls in flight. Calls still up then are
    /// left as a crash leaves them: `dialing` under their lease, for reconciliation with the
    /// carrier by whichever dialer reaps them next.
    public var shutdownDeadline: TimeInterval

    public init(limits: ClaimLimits = ClaimLimits(), pollInterval: TimeInterval = 1, heartbeatInterval: TimeInterval = 15,
                reapInterval: TimeInterval = 5, shutdownDeadline: TimeInterval = 30) {
        self.limits = limits
        self.pollInterval = pollInterval
        self.heartbeatInterval = heartbeatInterval
        self.reapInterval = reapInterval
        self.shutdownDeadline = shutdownDeadline
    }
}

/// The dialing engine: claims due leads from the database (the queue), dials them through
/// their number's carrier, and writes outcomes with the retry planner's decision. Any number
/// of these may run against one database; claims, leases and fencing keep them apart.
public final class Dialer: Service, Sendable {
    let store: any DialQueue
    let providers: ProviderRegistry
    let clock: any WallClock
    let configuration: DialerConfiguration
    let logger: Logger
    let worker: LeasedWorker
    let observer: (any EngineObserver)?
    private let completionSignal = WakeSignal()
    /// Fired when written outcomes take calls off `inFlight`: a shutdown waits on it.
    private let callsEnded = WakeSignal()
    private let inFlight = Locked<[Int64: ClaimedAttempt]>([:])
    private let finished = Locked<[AttemptCompletion]>([])
    /// Calls ringing or answered since the last write, announced with the next batch.
    private let progressed = Locked<[AttemptProgress]>([])
    /// Set once every call in flight has ended: the outcome writer may return.
    private let stopping = Locked(false)
    /// Set when the shutdown deadline passed with calls in flight: what they end with is not
    /// written (the reaper reconciles them, as after a crash).
    private let abandoned = Locked(false)

    public init(store: any DialQueue, providers: ProviderRegistry, clock: any WallClock, configuration: DialerConfiguration = .init(),
                passes: WorkerPasses? = nil, observer: (any EngineObserver)? = nil, logger: Logger) {
        self.observer = observer
        self.store = store
        self.providers = providers
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        worker = LeasedWorker(name: "dialer", clock: clock, pollInterval: configuration.pollInterval,
                              shutdownDeadline: configuration.shutdownDeadline, passes: passes, logger: logger)
    }

    /// New work: look now instead of at the next poll.
    public func wake() { worker.wake() }

    public func run() async throws {
        logger.info("dialer started", metadata: ["providers": "\(providers.names.joined(separator: ","))"])
        await withDiscardingTaskGroup { group in
            group.addTask { await self.runCompletions() }
            await withDiscardingTaskGroup { calls in
                // The worker claims; each claim becomes a call in this group, which outlives
                // the pass that claimed it.
                let (claimed, placing) = AsyncStream<(ClaimedAttempt, ContinuousClock.Instant)>.makeStream()
                calls.addTask {
                    await self.runClaims { claim, at in placing.yield((claim, at)) }
                    placing.finish()
                }
                for await (claim, claimedAt) in claimed {
                    calls.addTask { await self.place(claim, claimedAt: claimedAt) }
                }
                self.logger.notice("dialer stopped claiming", metadata: ["calls_in_flight": "\(self.inFlight.withLock { $0.count })"])
                // Calls in flight finish and their outcomes are written, for as long as the
                // deadline allows (real time: it bounds how long the process takes).
                let deadline = Date().addingTimeInterval(configuration.shutdownDeadline)
                while !inFlight.withLock({ $0.isEmpty }) {
                    if Date() >= deadline {
                        abandoned.withLock { $0 = true }
                        logger.warning("shutdown deadline passed; calls in flight are left to reconciliation",
                                       metadata: ["calls_in_flight": "\(inFlight.withLock { $0.count })",
                                                  "deadline_seconds": "\(configuration.shutdownDeadline)"])
                        calls.cancelAll()
                        break
                    }
                    await callsEnded.wait(until: min(deadline, Date().addingTimeInterval(0.2)), clock: SystemClock())
                }
            }
            stopping.withLock { $0 = true }
            completionSignal.fire()
        }
        logger.info("dialer stopped")
    }

    /// Passes of the worker: reap expired claims now and then, renew this dialer's leases, and
    /// claim what is due, handing each claim to `place`.
    private func runClaims(place: @escaping @Sendable (ClaimedAttempt, ContinuousClock.Instant) -> Void) async {
        let reap = Chore(every: configuration.reapInterval) { now in
            try await self.bounded { try await self.reap(now: now) }
            _ = try await self.bounded { try await self.store.reapAbandonedImports(now: now) }
        }
        // The first renewal is one interval in: a claim's lease is fresh when it is made.
        let started = Locked(false)
        let heartbeat = Chore(every: configuration.heartbeatInterval) { now in
            guard started.withLock({ started in defer { started = true }; return started }) else { return }
            let ids = self.inFlight.withLock { Array($0.keys) }
            try await self.bounded { try await self.store.renewLeases(attemptIDs: ids, until: now.addingTimeInterval(self.configuration.limits.lease)) }
        }
        await worker.run(chores: [reap, heartbeat]) { now in
            let (claims, next) = try await self.bounded { try await self.claimDue(now: now) }
            let claimedAt = ContinuousClock.now
            for claim in claims {
                self.inFlight.withLock { $0[claim.attemptID] = claim }
                place(claim, claimedAt)
            }
            return claims.isEmpty ? .idle(nextDue: next) : .worked
        }
    }

    /// One pass over the live campaigns: end the overdue, complete the finished, claim the due.
    /// Returns the claims and the earliest time something else becomes due.
    func claimDue(now: Date) async throws -> ([ClaimedAttempt], Date?) {
        var claims: [ClaimedAttempt] = []
        var next: Date?
        for campaign in try await store.liveCampaigns() {
            if now >= campaign.endAt {
                try await store.endCampaign(id: campaign.key, reason: "campaign_end_time reached", now: now)
                logger.info("campaign ended", metadata: ["campaign_id": "\(campaign.id)"])
                continue
            }
            guard campaign.status == .active else { continue }
            if now < campaign.beginAt {
                next = min(next ?? campaign.beginAt, campaign.beginAt)
                continue
            }
            let started = ContinuousClock.now
            let claimed = try await store.claim(campaign, limits: configuration.limits, now: now)
            observer?.claimed(count: claimed.count, duration: ContinuousClock.now - started)
            claims += claimed
            if claimed.isEmpty {
                if try await store.completeCampaignIfDone(id: campaign.key, now: now) {
                    logger.info("campaign completed", metadata: ["campaign_id": "\(campaign.id)"])
                } else if let due = try await store.nextDue(campaignID: campaign.key), due > now {
                    next = min(next ?? due, due)
                }
            }
        }
        return (claims, next)
    }

    /// Dials one claimed attempt. Its `dialing` row is already committed, so a crash from
    /// here on leaves a record that reconciliation finds.
    private func place(_ claim: ClaimedAttempt, claimedAt: ContinuousClock.Instant) async {
        var logger = self.logger
        logger[metadataKey: "call_id"] = "\(claim.callID)"
        logger[metadataKey: "attempt_id"] = "\(claim.attemptID)"
        if claim.dialAt > clock.now() { try? await clock.sleep(until: claim.dialAt) }
        // A process that stalled (stopped, swapped out) for half its lease may have lost the
        // claim to a reaper, which found no call and re-queued the lead. Dialing now could
        // ring the lead twice; leaving it lets the reaper settle it. Real time, not the
        // injected clock: this is about the process, not the schedule.
        let waited = ContinuousClock.now - claimedAt
        if waited > .seconds(configuration.limits.lease / 2 + configuration.limits.horizon) {
            logger.warning("claim too old to dial safely; left to the reaper")
            inFlight.withLock { $0[claim.attemptID] = nil }
            return
        }
        if abandoned.withLock({ $0 }) { return }
        let result: DialResult
        observer?.dialStarted(carrier: claim.provider)
        if let provider = providers.provider(named: claim.provider) {
            logger.debug("dialing", metadata: ["from": "\(claim.from)", "to": "\(claim.to)", "provider": "\(claim.provider)"])
            result = await provider.dial(claim.dialRequest { [progressed, completionSignal] step in
                progressed.withLock { $0.append(AttemptProgress(attempt: claim, progress: step)) }
                completionSignal.fire()
            })
        } else {
            result = DialResult(outcome: .failed, endedAt: clock.now(), detail: "provider \(claim.provider) is not configured on this server")
        }
        observer?.dialEnded(carrier: claim.provider, outcome: result.outcome)
        // Past the shutdown deadline the call was let go, not ended: its row stays `dialing`.
        if abandoned.withLock({ $0 }) { return }
        logger.info("call ended", metadata: ["campaign_id": "\(ScopedID.publicID(claim.campaignID))", "outcome": "\(result.outcome.rawValue)",
                                             "duration_sec": "\(result.duration)", "provider": "\(claim.provider)"])
        finished.withLock { $0.append(AttemptCompletion(attempt: claim, result: result)) }
        completionSignal.fire()
    }

    /// Writes finished calls in batches: one transaction for everything that ended meanwhile.
    private func runCompletions() async {
        while true {
            // Progress first: a call's ringing is taken no later than its end.
            let steps = progressed.withLock { steps -> [AttemptProgress] in defer { steps = [] }; return steps }
            let batch = finished.withLock { batch -> [AttemptCompletion] in defer { batch = [] }; return batch }
            if batch.isEmpty && steps.isEmpty {
                if stopping.withLock({ $0 }) { return }
                await completionSignal.wait(until: clock.now().addingTimeInterval(configuration.pollInterval), clock: clock)
                continue
            }
            do {
                _ = try await bounded { try await self.store.complete(batch, progress: steps) }
                inFlight.withLock { for c in batch { $0[c.attempt.attemptID] = nil } }
                callsEnded.fire()
                worker.wake()
            } catch {
                // Keep them and try again: an outcome is never dropped while we live.
                logger.warning("writing outcomes failed; will retry", metadata: ["error": "\(String(reflecting: error))", "count": "\(batch.count)"])
                finished.withLock { $0.insert(contentsOf: batch, at: 0) }
                progressed.withLock { $0.insert(contentsOf: steps, at: 0) }
                try? await clock.sleep(until: clock.now().addingTimeInterval(0.5))
            }
        }
    }

    /// The engine's statements are short: a connection that does not answer within this is
    /// lost, and the pass is tried again on another, well inside a lease.
    static let databaseDeadline: Duration = .seconds(10)

    private func bounded<T: Sendable>(_ operation: @Sendable () async throws -> T) async throws -> T {
        try await DatabaseDeadline.$current.withValue(Self.databaseDeadline, operation: operation)
    }

    /// Claims whose dialer stopped renewing them: ask the carrier what happened, then finish
    /// the attempt with that, or put the lead back if the carrier never saw the call.
    func reap(now: Date) async throws {
        for claim in try await store.expiredClaims(now: now, limit: 500) {
            if inFlight.withLock({ $0[claim.attemptID] != nil }) { continue }
            var logger = self.logger
            logger[metadataKey: "attempt_id"] = "\(claim.attemptID)"
            guard let provider = providers.provider(named: claim.provider) else { continue }
            switch await provider.status(of: claim.dialRequest()) {
            case .unknown:
                logger.notice("in-doubt attempt never reached the carrier; lead re-queued")
                try await store.requeueNeverPlaced(claim, now: now)
            case .ended(let result):
                logger.notice("in-doubt attempt reconciled from the carrier", metadata: ["outcome": "\(result.outcome.rawValue)"])
                try await store.complete([AttemptCompletion(attempt: claim, result: result)], progress: [])
            case .inProgress:
                logger.notice("in-doubt attempt still in progress at the carrier; checking again later")
            }
        }
    }
}

extension ClaimedAttempt {
    /// What the carrier is told of this attempt, to dial it or to answer for it after a crash.
    public func dialRequest(progress: @escaping @Sendable (CallProgress) -> Void = { _ in }) -> DialRequest {
        DialRequest(attemptID: attemptID, callID: callID, attemptNumber: attemptNumber, from: from, to: to, dialAt: dialAt,
                    settings: carrierSettings, ringTimeout: ringTimeout, maxDuration: maxDuration, fields: fields, progress: progress)
    }
}
