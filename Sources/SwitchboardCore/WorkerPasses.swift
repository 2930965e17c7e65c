import Foundation

/// Where the engine's workers report each pass they finish, so a test (or an operator's
/// probe) can drive a worker one pass at a time: `pass(of:)` wakes the worker and returns once
/// a pass that began after the call has finished. "Nothing happened" then means the worker
/// looked and did nothing, not that a sleep was too short to see it.
public final class WorkerPasses: Sendable {
    private struct Waiter {
        let id: UInt64
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
        var nextWaiter: UInt64 = 0
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

    /// Wakes `worker` and returns when a pass that began after this call has finished, or
    /// when the task is cancelled.
    public func pass(of worker: String) async {
        let id = state.withLock { state -> UInt64 in state.nextWaiter += 1; return state.nextWaiter }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let wake = state.withLock { state -> (@Sendable () -> Void)? in
                    state.waiters.append(Waiter(id: id, worker: worker, after: state.begun[worker, default: 0], continuation: continuation))
                    return state.wakes[worker]
                }
                wake?()
                if Task.isCancelled { release(id) }
            }
        } onCancel: {
            release(id)
        }
    }

    private func release(_ id: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume()
    }
}
