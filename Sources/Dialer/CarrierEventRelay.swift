import Foundation
import Logging
import ServiceLifecycle
import Store
import SwitchboardCore

/// Hands carriers' reports to the dials of this process that wait on them, whichever process
/// received them: the callback routes keep in the database what they could not hand over
/// themselves, and this reads it, woken by PostgreSQL's NOTIFY and polling as a fallback (on
/// SQLite, the poll alone). With `--role api` in front of separate dialers a call's end
/// reaches its dialer within a poll, not at the next carrier poll or the give-up time.
public final class CarrierEventRelay: Service, Sendable {
    let store: Store
    /// The waiting dials of each carrier, by provider name.
    let pending: [ProviderName: PendingCarrierCalls]
    let pollInterval: TimeInterval
    let logger: Logger
    private let wakeSignal = WakeSignal()
    /// How far back each pass reads: longer than any insert takes to commit.
    static let lookback: TimeInterval = 10
    /// Reports are kept this long, then pruned.
    static let retention: TimeInterval = 3_600

    public init(store: Store, pending: [ProviderName: PendingCarrierCalls], pollInterval: TimeInterval = 0.25, logger: Logger) {
        self.store = store
        self.pending = pending
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.listen() }
                await self.relay()
                group.cancelAll()
            }
        }
    }

    /// Wakes the relay on each NOTIFY; listens again after a lost connection.
    private func listen() async {
        while !Task.isCancelled {
            do {
                try await store.database.listen(Store.carrierEventsChannel) { [wakeSignal] in wakeSignal.fire() }
            } catch {
                if Task.isCancelled { return }
                logger.debug("carrier event listener lost its connection", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Every dial opens its mailbox before it asks the carrier, so a report for a call of this
    /// process is never early: one no dial here waits on belongs to another process. Each pass
    /// looks back `lookback` seconds and hands over what it has not seen yet.
    private func relay() async {
        var seen: [Int64: Date] = [:]
        var nextPrune = Date()
        while !Task.isCancelled {
            do {
                let since = Date().addingTimeInterval(-Self.lookback)
                var page = try await store.carrierEvents(since: since)
                while let last = page.last {
                    for stored in page where seen[stored.id] == nil {
                        seen[stored.id] = stored.receivedAt
                        if pending[stored.provider]?.deliver(stored.event) == true {
                            logger.debug("carrier event relayed", metadata: ["attempt_id": "\(stored.event.attemptID)", "stage": "\(stored.event.stage)"])
                        }
                    }
                    page = try await store.carrierEvents(since: since, afterID: last.id)
                }
                let horizon = Date().addingTimeInterval(-2 * Self.lookback)
                seen = seen.filter { $0.value >= horizon }
                let now = Date()
                if now >= nextPrune {
                    try await store.pruneCarrierEvents(before: now.addingTimeInterval(-Self.retention))
                    nextPrune = now.addingTimeInterval(60)
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("carrier event relay pass failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            await wakeSignal.wait(until: Date().addingTimeInterval(pollInterval), clock: SystemClock())
        }
    }
}
