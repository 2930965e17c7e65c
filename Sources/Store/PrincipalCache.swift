import SwitchboardCore

/// API keys this process resolved in the last `lifetime`, by their hash: a request then costs
/// no key lookup, which was one of a status read's three statements. A revoke through this
/// process forgets the key at once; another process (an API beside this one on PostgreSQL)
/// still accepts it for at most `lifetime`. Unknown keys are never kept, so guessing fills
/// nothing, and the cache is emptied when it reaches `capacity`.
public final class PrincipalCache: Sendable {
    public static let lifetime: Duration = .seconds(2)
    private static let capacity = 10_000
    private let entries = Locked<[String: (principal: Principal, until: ContinuousClock.Instant)]>([:])

    public init() {}

    func principal(hash: String) -> Principal? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            guard entry.until > now else { entries[hash] = nil; return nil }
            return entry.principal
        }
    }

    func remember(_ principal: Principal, hash: String) {
        let until = ContinuousClock.now + Self.lifetime
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[hash] = (principal, until)
        }
    }

    func forget(keyID: String) {
        entries.withLock { entries in entries = entries.filter { $0.value.principal.keyID != keyID } }
    }
}
