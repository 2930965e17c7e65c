import Foundation

/// Where the engine's workers report each pass they finish, so a test (or an operator's
/// probe) can drive a worker one pass at a time: `pass(of:)` wakes the worker and returns once
/// a pass that began after the call has finished. "Nothing happened" then means the worker
/// looked and did nothing, not that a sleep was too short to see it.
public final class WorkerPasses: Sendable {
    private struct Waiter {
        let worker: String
        let after: UInt64
        let continuation: CheckedContinuation<Void, Never>
    }
    private struct State {
        /// Per worker: how many passes have begun, and the last begun one that has finished.
        var begun: [String: UInt64] = [:]
        var finished: [String: UInt64] = [:]
        var wakes: [String: @Sendable () -> Void] = [:]
        var waiters: [Waiter] = []
    }
    private let state = Locked(State())

    public init() {}

    /// A worker starts: how to wake it.
    public func register(_ worker: String, wake: @escaping @Sendable () -> Void) {
        state.withLock { $0.wakes[worker] = wake }
    }

    /// A pass begins; its number, to hand back to `finished`.
    public func begin(_ worker: String) -> UInt64 {
        state.withLock { state in
            let number = state.begun[worker, default: 0] + 1
            state.begun[worker] = number
            return number
        }
    }

    /// The pass `number` of `worker` has finished (its work written, its sleep not begun).
    public func finished(_ worker: String, pass number: UInt64) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished[worker] = max(state.finished[worker, default: 0], number)
            let (done, waiting) = state.waiters.reduce(into: ([Waiter](), [Waiter]())) { split, waiter in
                if waiter.worker == worker, waiter.after < number { split.0.append(waiter) } else { split.1.append(waiter) }
            }
            state.waiters = waiting
            return done.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Wakes `worker` and returns when a pass that began after this call has finished.
    public func pass(of worker: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wake = state.withLock { state -> (@Sendable () -> Void)? in
                state.waiters.append(Waiter(worker: worker, after: state.begun[worker, default: 0], continuation: continuation))
                return state.wakes[worker]
            }
            wake?()
        }
    }
}
