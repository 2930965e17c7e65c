import Crypto
import SwitchboardCore

/// API keys this process resolved in the last `lifetime`, by their SHA-256: a request then costs
/// no key lookup, which was one of a status read's three statements. The digest is kept as its
/// bytes, so the hex form the database keeps is made only on a miss. A revoke through this
/// process forgets the key at once; another process (an API beside this one on PostgreSQL)
/// still accepts it for at most `lifetime`. Unknown keys are never kept, so guessing fills
/// nothing, and the cache is emptied when it reaches `capacity`.
public final class PrincipalCache: Sendable {
    public static let lifetime: Duration = .seconds(2)
    private static let capacity = 10_000
    private let entries = Locked<[SIMD4<UInt64>: (principal: Principal, until: ContinuousClock.Instant)]>([:])

    public init() {}

    func principal(digest: SHA256Digest) -> Principal? {
        let key = Self.key(digest)
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.until > now else { entries[key] = nil; return nil }
            return entry.principal
        }
    }

    func remember(_ principal: Principal, digest: SHA256Digest) {
        let key = Self.key(digest)
        let until = ContinuousClock.now + Self.lifetime
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = (principal, until)
        }
    }

    func forget(keyID: String) {
        entries.withLock { entries in entries = entries.filter { $0.value.principal.keyID != keyID } }
    }

    /// The digest's 32 bytes as a value that is `Sendable` (the digest is not).
    private static func key(_ digest: SHA256Digest) -> SIMD4<UInt64> {
        digest.withUnsafeBytes { $0.loadUnaligned(as: SIMD4<UInt64>.self) }
    }
}
