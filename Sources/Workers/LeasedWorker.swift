import Foundation
import Logging
import ServiceLifecycle
import SwitchboardCore

/// What a pass found.
public enum PassResult: Sendable {
    /// It had work: look again at once.
    case worked
    /// Nothing was due; the next thing is due at this time, if it is known.
    case idle(nextDue: Date?)
}

/// Work done now and then between passes (reaping expired leases, renewing this worker's).
public struct Chore: Sendable {
    let every: TimeInterval
    let work: @Sendable (Date) async throws -> Void

    public init(every interval: TimeInterval, _ work: @escaping @Sendable (Date) async throws -> Void) {
        self.every = interval
        self.work = work
    }
}

/// The loop every engine runs — the dialer, the SMS engine, the webhook sender: a pass claims
/// what is due and works it; after a pass that found work it goes again at once, otherwise it
/// sleeps on the injected clock until the next due time or the poll interval, or until woken.
/// A graceful shutdown stops it between passes; the pass under way has `shutdownDeadline`
/// (real seconds: it bounds how long the process takes to stop) and is then cancelled.
public final class LeasedWorker: Sendable {
    public let name: String
    let clock: any WallClock
    let pollInterval: TimeInterval
    let shutdownDeadline: TimeInterval
    let passes: WorkerPasses?
    let logger: Logger
    private let wakeSignal = WakeSignal()
    private let stopSignal = WakeSignal()
    private let running = Locked(true)

    public init(name: String, clock: any WallClock, pollInterval: TimeInterval, shutdownDeadline: TimeInterval,
                passes: WorkerPasses? = nil, logger: Logger) {
        self.name = name
        self.clock = clock
        self.pollInterval = pollInterval
        self.shutdownDeadline = shutdownDeadline
        self.passes = passes
        self.logger = logger
    }

    /// New work: look now instead of at the next poll.
    public func wake() { wakeSignal.fire() }

    /// Whether passes go on (false once a graceful shutdown began).
    public var isRunning: Bool { running.withLock { $0 } }

    /// Runs passes until a graceful shutdown (or cancellation) and returns.
    public func run(chores: [Chore] = [], pass: @escaping @Sendable (Date) async throws -> PassResult) async {
        passes?.register(name) { [wakeSignal] in wakeSignal.fire() }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask { await self.loop(chores: chores, pass: pass); return true }
                group.addTask {
                    await self.stopSignal.wait()
                    try? await Task.sleep(for: .seconds(self.shutdownDeadline))
                    return Task.isCancelled
                }
                if await group.next() == false {
                    logger.warning("shutdown deadline passed; the pass under way is cancelled",
                                   metadata: ["worker": "\(name)", "deadline_seconds": "\(shutdownDeadline)"])
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.running.withLock { $0 = false }
            self.stopSignal.fire()
            self.wakeSignal.fire()
        }
    }

    private func loop(chores: [Chore], pass: @Sendable (Date) async throws -> PassResult) async {
        var choresDue = [Date](repeating: .distantPast, count: chores.count)
        while isRunning, !Task.isCancelled {
            let number = passes?.begin(name)
            let now = clock.now()
            var wakeAt = now.addingTimeInterval(pollInterval)
            var worked = false
            do {
                for (index, chore) in chores.enumerated() where now >= choresDue[index] {
                    try await chore.work(now)
                    choresDue[index] = now.addingTimeInterval(chore.every)
                }
                switch try await pass(now) {
                case .worked: worked = true
                case .idle(let next?): wakeAt = min(wakeAt, max(next, now))
                case .idle(nil): break
                }
            } catch where Task.isCancelled {
                return
            } catch {
                // Including a CancellationError a database driver throws for a connection it
                // lost: only our own cancellation ends the loop. The database is down or busy:
                // try again at the next poll.
                logger.warning("\(name) pass failed", metadata: ["worker": "\(name)", "error": "\(String(reflecting: error))"])
            }
            if let number { passes?.finished(name, pass: number) }
            if worked { continue }
            await wakeSignal.wait(until: wakeAt, clock: clock)
        }
    }
}
