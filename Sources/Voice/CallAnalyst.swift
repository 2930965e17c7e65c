import Agents
import Foundation
import Logging
import ServiceLifecycle
import SwitchboardCore
import Workers

/// Analyses answered calls after they end, away from the dialer and the call: claims the
/// calls waiting (`CallAnalysisQueue`), asks the language model once per call for the summary,
/// sentiment, success verdict and extracted fields, and stores them with a `call.analyzed`
/// event. A failed request is tried again later with back-off, a few times, then given up.
public final class CallAnalyst: Service, Sendable {
    public struct Configuration: Sendable {
        public var batch = 8
        public var lease: TimeInterval = 120
        public var pollInterval: TimeInterval = 1
        public var tries = 5
        public var backoff = Backoff(base: 30, cap: 3_600)
        public var shutdownDeadline: TimeInterval = 30
        public init() {}
    }

    let queue: any CallAnalysisQueue
    /// The call's agent, as the call had it (prompt, success criteria, extraction, lead).
    let dialogue: @Sendable (PendingAnalysis) async throws -> CallDialogue?
    let clock: any WallClock
    let configuration: Configuration
    let logger: Logger
    let worker: LeasedWorker

    public init(queue: any CallAnalysisQueue, dialogue: @escaping @Sendable (PendingAnalysis) async throws -> CallDialogue?,
                clock: any WallClock, configuration: Configuration = Configuration(), passes: WorkerPasses? = nil, logger: Logger) {
        self.queue = queue
        self.dialogue = dialogue
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        worker = LeasedWorker(name: "analysis", clock: clock, pollInterval: configuration.pollInterval,
                              shutdownDeadline: configuration.shutdownDeadline, passes: passes, logger: logger)
    }

    /// A call was stored for analysis: look now rather than at the next poll.
    public func wake() { worker.wake() }

    public func run() async throws {
        await worker.run { now in
            let due = try await self.queue.claimAnalyses(now: now, lease: self.configuration.lease, limit: self.configuration.batch)
            guard !due.isEmpty else { return .idle(nextDue: nil) }
            await withDiscardingTaskGroup { group in
                for job in due { group.addTask { await self.analyze(job) } }
            }
            return .worked
        }
    }

    func analyze(_ job: PendingAnalysis) async {
        var logger = self.logger
        logger[metadataKey: "call_id"] = "\(job.callID)"
        do {
            guard let dialogue = try await dialogue(job), let (analysis, extracted) = try await dialogue.analysis(job.transcript) else {
                try await queue.retryAnalysis(job, at: nil, error: "no language model configured")
                return
            }
            try await queue.saveAnalysis(analysis, extracted: extracted, for: job, now: clock.now())
            logger.info("call analyzed", metadata: ["sentiment": "\(analysis.sentiment.rawValue)", "successful": "\(analysis.successful.map(String.init) ?? "n/a")"])
        } catch {
            let tries = job.tries + 1
            let retryAt = tries < configuration.tries ? clock.now().addingTimeInterval(configuration.backoff.delay(retry: tries)) : nil
            logger.notice("call analysis failed", metadata: ["error": "\(error)", "try": "\(tries)", "again": "\(retryAt != nil)"])
            try? await queue.retryAnalysis(job, at: retryAt, error: "\(error)")
        }
    }
}
