import Foundation
import SQLKit
import SwitchboardCore

/// Who in this process waits for what a committed write adds: the webhook sender for new
/// deliveries. Told after the commit, so a worker woken by it sees the rows. (Other processes
/// find them at their next poll, or by a notification where the database has them.)
public final class CommitObservers: Sendable {
    private let webhooks = Locked<[@Sendable () -> Void]>([])

    public init() {}

    /// `wake` runs after each commit that queued webhook deliveries.
    public func onWebhookDeliveries(_ wake: @escaping @Sendable () -> Void) {
        webhooks.withLock { $0.append(wake) }
    }

    func webhookDeliveriesQueued() {
        for wake in webhooks.withLock({ $0 }) { wake() }
    }
}

/// What one transaction queued, noted inside it and announced after it commits.
final class CommitNotes: Sendable {
    let webhookDeliveries = Locked(false)
    @TaskLocal static var current: CommitNotes?
}

extension Store {
    /// Every write of the store: one transaction, then the announcements of what it queued.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let notes = CommitNotes()
        let result = try await CommitNotes.$current.withValue(notes) { try await database.write(body) }
        if notes.webhookDeliveries.withLock({ $0 }) { observers.webhookDeliveriesQueued() }
        return result
    }
}
