import Foundation
import Logging
import ServiceLifecycle
import SwitchboardCore
import Testing
import Workers

/// The one worker loop: driven a pass at a time, stopped between passes, and not held up past
/// its deadline by a pass that never ends.
@Suite struct LeasedWorkerTests {
    /// The worker as a service, with a pass that does what the test says.
    struct Running: Service {
        let worker: LeasedWorker
        let pass: @Sendable (Date) async throws -> PassResult
        func run() async throws { await worker.run(pass: pass) }
    }

    static func worker(deadline: TimeInterval, passes: WorkerPasses) -> LeasedWorker {
        // A poll far in the future on a clock that never moves: only a wake starts a pass.
        LeasedWorker(name: "test", clock: ManualClock(Date(timeIntervalSince1970: 0)), pollInterval: 3_600,
                     shutdownDeadline: deadline, passes: passes, logger: Logger(label: "test"))
    }

    @Test func passesAreDrivenOneAtATime() async throws {
        let passes = WorkerPasses()
        let count = Locked(0)
        let worker = Self.worker(deadline: 5, passes: passes)
        let group = ServiceGroup(services: [Running(worker: worker) { _ in count.withLock { $0 += 1 }; return .idle(nextDue: nil) }],
                                 logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await passes.pass(of: "test")
            let first = count.withLock { $0 }
            #expect(first >= 1)
            // Asleep on a clock that does not move: only a wake brings another pass, and one comes.
            await passes.pass(of: "test")
            #expect(count.withLock { $0 } > first)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func aPassThatNeverEndsIsCancelledAtTheDeadline() async throws {
        let passes = WorkerPasses()
        let started = WakeSignal()
        let worker = Self.worker(deadline: 0.2, passes: passes)
        let group = ServiceGroup(services: [Running(worker: worker) { _ in
            started.fire()
            try await Task.sleep(for: .seconds(3_600))
            return .worked
        }], logger: Logger(label: "test"))
        let began = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await started.wait()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(ContinuousClock.now - began < .seconds(30))
        #expect(!worker.isRunning)
    }
}
