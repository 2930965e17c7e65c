import Foundation
import Logging
import SQLKit
import SwitchboardCore

/// Every read and write Switchboard makes, over any `DatabaseProvider`. The only place that
/// writes SQL.
public struct Store: Sendable {
    public let database: any DatabaseProvider
    let logger: Logger
    /// Told after commits what they queued (for this process's workers).
    public let observers: CommitObservers
    let principals = PrincipalCache()
    /// Status reads since the last write (`campaignWithProgress`).
    let statusReads = UnchangedReads<Store.CampaignWithProgress?>()

    public init(database: any DatabaseProvider, logger: Logger, observers: CommitObservers = CommitObservers()) {
        self.database = database
        self.logger = logger
        self.observers = observers
    }

    @discardableResult
    public func migrate() async throws -> [Int] { try await Migrations.run(on: database) }

    /// A cheap round trip, for `/health`.
    public func ping() async throws {
        _ = try await database.read { db in try await db.raw("SELECT 1 AS ok").first() }
    }

    /// Every migration this build knows is applied (a process ahead of its database is not ready).
    public func schemaIsCurrent() async throws -> Bool {
        try await database.read { db in
            let applied = try await db.raw("SELECT MAX(version) AS v FROM schema_migrations").first()?.optionalInt("v") ?? 0
            return applied >= (Migrations.all.last?.version ?? 0)
        }
    }
}

public enum StoreError: Error, Equatable, Sendable {
    /// A unique value is taken (an id, a phone number), or what the request continues is gone
    /// (an upload whose lease lapsed).
    case conflict(String)
}

// MARK: - Encoding helpers shared by the store's files

enum Coding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        // What the store keeps most as JSON (lead fields, what was extracted) is read by our
        // own parser: JSONDecoder's containers were most of a claim's decoding.
        if T.self == [String: JSONValue].self {
            guard case .object(let object) = try JSONValue(parsing: text) else {
                throw DecodingError.typeMismatch(type, .init(codingPath: [], debugDescription: "not a JSON object"))
            }
            return object as! T
        }
        if T.self == JSONValue.self { return try JSONValue(parsing: text) as! T }
        return try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

extension Date {
    var epoch: Double { timeIntervalSince1970 }
    init(epoch: Double) { self.init(timeIntervalSince1970: epoch) }
}

extension SQLRow {
    func string(_ column: String) throws -> String { try typed(column, String.self) }
    func optionalString(_ column: String) throws -> String? { try typed(column, String?.self) }
    func int(_ column: String) throws -> Int { try typed(column, Int.self) }
    func optionalInt(_ column: String) throws -> Int? { try typed(column, Int?.self) }
    func double(_ column: String) throws -> Double { try typed(column, Double.self) }
    func optionalDouble(_ column: String) throws -> Double? { try typed(column, Double?.self) }
    func date(_ column: String) throws -> Date { Date(epoch: try double(column)) }
    func optionalDate(_ column: String) throws -> Date? { try optionalDouble(column).map(Date.init(epoch:)) }

    /// A column as `type`. The store's own rows (embedded SQLite, PostgreSQL) are read directly,
    /// where the type is known: through the `SQLRow` protocol, each value took a generic decode
    /// that looked up type metadata and cast its result, most of the time a page of calls spent
    /// reading its rows.
    @inline(__always)
    private func typed<D: Decodable>(_ column: String, _ type: D.Type) throws -> D {
        if let row = self as? SQLiteDirectRow { return try row.decode(column: column, as: D.self) }
        if let row = self as? PostgresDirectRow { return try row.decode(column: column, as: D.self) }
        return try decode(column: column, as: D.self)
    }

    /// A state, kind or name stored as its raw value; one this build does not know is a row it
    /// cannot read, never a default.
    func value<T: RawRepresentable>(_ column: String, as type: T.Type = T.self) throws -> T where T.RawValue == String {
        try Self.state(try string(column), column: column)
    }

    /// Each column is decoded once: a row decode costs more than the rest of the mapping.
    func optionalValue<T: RawRepresentable>(_ column: String, as type: T.Type = T.self) throws -> T? where T.RawValue == String {
        try optionalString(column).map { try Self.state($0, column: column) }
    }

    private static func state<T: RawRepresentable>(_ raw: String, column: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(column) '\(raw)' is not a \(T.self)"))
        }
        return value
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
