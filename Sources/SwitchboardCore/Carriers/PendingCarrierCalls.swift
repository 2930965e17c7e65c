import Foundation

/// Calls this process placed through a callback-driven carrier and still waits on, by attempt:
/// the callback route posts what the carrier reports, the waiting dial reads it. A report for
/// a call another process placed finds no mailbox here and is dropped; that process learns
/// the same by polling the carrier.
public final class PendingCarrierCalls: Sendable {
    private let calls = Locked<[Int64: Mailbox<CarrierCallEvent>]>([:])

    public init() {}

    public func open(_ attemptID: Int64) -> Mailbox<CarrierCallEvent> {
        let mailbox = Mailbox<CarrierCallEvent>()
        calls.withLock { $0[attemptID] = mailbox }
        return mailbox
    }

    public func close(_ attemptID: Int64) {
        calls.withLock { $0.removeValue(forKey: attemptID) }?.close()
    }

    /// True when a dial here was waiting for it.
    @discardableResult
    public func deliver(_ event: CarrierCallEvent) -> Bool {
        guard let mailbox = calls.withLock({ $0[event.attemptID] }) else { return false }
        mailbox.post(event)
        return true
    }
}
