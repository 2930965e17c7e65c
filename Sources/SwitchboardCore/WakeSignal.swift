import Foundation

/// Wakes one sleeping loop early: new work arrived (a campaign was created or resumed, a call
/// ended and freed capacity). A signal sent while nobody waits is kept for the next wait.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Locked(State())

    public init() {}

    public func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter { state.waiter = nil; return waiter }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at `deadline` on `clock`, or sooner when fired.
    public func wait(until deadline: Date, clock: any WallClock) async {
        if state.withLock({ state -> Bool in defer { state.pending = false }; return state.pending }) { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(until: deadline) }
            group.addTask { await self.waitFired() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns when fired (or at once, if it was fired while nobody waited).
    public func wait() async {
        if state.withLock({ state -> Bool in defer { state.pending = false }; return state.pending }) { return }
        await waitFired()
    }

    private func waitFired() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled { state.pending = false; return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
