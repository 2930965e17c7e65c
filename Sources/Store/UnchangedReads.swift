import SwitchboardCore

/// Reads kept while nothing has been written since (`DatabaseProvider.writeGeneration`): a
/// campaign's status is polled far more often than anything commits, even while it dials (at
/// 17k polls/s while 1M leads dialled, one poll in ~220 went to the database). Kept by the
/// generation they were read at, taken before the read began: a write that lands during the
/// read moves the generation on, so that read is never served. One generation's reads at a
/// time, at most `capacity`: a write empties it. Where the provider cannot know of every write
/// (PostgreSQL), nothing is kept.
final class UnchangedReads<Value: Sendable>: Sendable {
    private struct Kept: Sendable {
        var generation: UInt64 = 0
        var values: [String: Value] = [:]
    }
    private static var capacity: Int { 1_024 }
    private let kept = Locked(Kept())

    /// `read`'s value for `key`, from a read made since the last write when there was one.
    func value(_ key: String, database: any DatabaseProvider, read: () async throws -> Value) async throws -> Value {
        guard let generation = database.writeGeneration else { return try await read() }
        if let value = kept.withLock({ $0.generation == generation ? $0.values[key] : nil }) { return value }
        let value = try await read()
        kept.withLock { kept in
            if generation > kept.generation { kept = Kept(generation: generation) }
            guard generation == kept.generation, kept.values.count < Self.capacity else { return }
            kept.values[key] = value
        }
        return value
    }
}
