import Synchronization

/// A value behind a mutex, for the few caches and registries that outlive a task.
public final class Locked<Value: Sendable>: Sendable {
    @usableFromInline let mutex: Mutex<Value>
    public init(_ value: Value) { mutex = Mutex(value) }
    /// Inlinable, so a caller in another module gets a copy specialized to its `R`: called
    /// generically, each call looked up `R`'s metadata at run time (a status read's cache
    /// lookups spent more there than under the lock).
    @inlinable
    public func withLock<R: Sendable>(_ body: (inout sending Value) throws -> sending R) rethrows -> R {
        try mutex.withLock(body)
    }
}
