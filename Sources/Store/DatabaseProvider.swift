import SQLKit

/// The two SQL engines Switchboard runs on. The store's SQL is one portable subset; the few
/// statements that differ ask the flavor.
public enum SQLFlavor: Sendable {
    case sqlite, postgres
}

/// A database as the store needs it: reads, and writes that are one transaction each.
/// Each backend is a provider; there is one store.
public protocol DatabaseProvider: Sendable {
    var flavor: SQLFlavor { get }
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    func close() async
}

