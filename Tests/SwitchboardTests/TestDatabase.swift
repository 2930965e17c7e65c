import Foundation
import Logging
import SQLKit
import Store
import Testing

/// The backends every store, engine and HTTP test runs on.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A fresh, empty database for one test: a SQLite file in the test's directory, or a schema
/// of its own in the PostgreSQL cluster `scripts/with-postgres` started.
enum TestDatabase {
    static let postgresVariable = "SWITCHBOARD_TEST_POSTGRES_URL"

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "\(TestDatabase.postgresVariable) is not set: run the tests with scripts/test, which starts PostgreSQL"
        }
    }

    /// The URL a test's app opens. For PostgreSQL the schema is created by `prepare`.
    static func url(_ backend: Backend, directory: URL) -> String {
        switch backend {
        case .sqlite:
            return "sqlite://\(directory.appendingPathComponent("test.sqlite").path)"
        case .postgres:
            let base = ProcessInfo.processInfo.environment[postgresVariable] ?? "postgres://missing"
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            return "\(base)?search_path=\(schema)"
        }
    }

    /// Creates the PostgreSQL schema named in `url` (once; later calls find it there). A test
    /// on PostgreSQL fails here, loudly, when no cluster is running.
    static func prepare(_ url: String) async throws {
        guard url.hasPrefix("postgres"), let parts = URLComponents(string: url),
              let schema = parts.queryItems?.first(where: { $0.name == "search_path" })?.value else { return }
        guard ProcessInfo.processInfo.environment[postgresVariable] != nil else { throw Missing() }
        var base = parts
        base.queryItems = nil
        let database = try await DatabaseURL.open(base.string!, logger: Logger(label: "test"))
        do {
            try await database.write { db in try await db.raw("CREATE SCHEMA IF NOT EXISTS \(ident: schema)").run() }
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }

    /// Opens (and migrates) a fresh database of the backend, for store-level tests.
    static func open(_ backend: Backend, directory: URL) async throws -> any DatabaseProvider {
        let url = url(backend, directory: directory)
        try await prepare(url)
        return try await DatabaseURL.open(url, logger: Logger(label: "test"))
    }
}
