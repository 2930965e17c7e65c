import Foundation

/// Messages for one waiting task, taken one at a time with a deadline: what a call's
/// transaction reads its carrier's answers from. Messages that arrive while nobody waits are
/// kept in order.
public final class Mailbox<Message: Sendable>: Sendable {
    private struct State {
        var queued: [Message] = []
        var waiter: (id: UInt64, continuation: CheckedContinuation<Message?, Never>)?
        var nextID: UInt64 = 0
        var closed = false
    }
    private let state = Locked(State())

    public init() {}

    public func post(_ message: Message) {
        let waiter = state.withLock { state -> CheckedContinuation<Message?, Never>? in
            guard !state.closed else { return nil }
            if let waiter = state.waiter { state.waiter = nil; return waiter.continuation }
            state.queued.append(message)
            return nil
        }
        waiter?.resume(returning: message)
    }

    /// Ends the mailbox: a waiter gets nil now, later posts are dropped.
    public func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Message?, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume(returning: nil)
    }

    /// The next message, or nil at `deadline` (real time), on cancellation or once closed.
    public func receive(until deadline: ContinuousClock.Instant) async -> Message? {
        if let message = state.withLock({ $0.queued.isEmpty ? nil : $0.queued.removeFirst() }) { return message }
        let id = state.withLock { state -> UInt64 in state.nextID += 1; return state.nextID }
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            self.expire(id)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Message?, Never>) in
                let immediate = state.withLock { state -> Message?? in
                    if !state.queued.isEmpty { return .some(state.queued.removeFirst()) }
                    if state.closed || Task.isCancelled || ContinuousClock.now >= deadline { return .some(nil) }
                    state.waiter = (id, continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            self.expire(id)
        }
    }

    private func expire(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Message?, Never>? in
            guard let waiter = state.waiter, waiter.id == id else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: nil)
    }
}
