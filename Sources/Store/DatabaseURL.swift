import Foundation
import Logging

/// `sqlite://PATH`, `sqlite://:memory:` or `postgres://user:pass@host:port/db`.
public enum DatabaseURL {
    public static let `default` = "sqlite://switchboard.sqlite"

    public enum Failure: Error, CustomStringConvertible {
        case unsupported(String)
        /// A setting in the URL's query that has no valid value.
        case invalidSetting(name: String, value: String, expected: String)
        public var description: String {
            switch self {
            case .unsupported(let url):
                "unsupported database URL \(url): use sqlite://PATH, sqlite://:memory: or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            case .invalidSetting(let name, let value, let expected):
                "invalid \(name)=\(value) in the database URL: expected \(expected)"
            }
        }
    }

    /// `sqliteWriterNiceness`: see `SQLiteProvider` (PostgreSQL's server schedules its own work).
    public static func open(_ url: String, sqliteWriterNiceness: Int32 = SQLiteProvider.defaultWriterNiceness,
                            logger: Logger) async throws -> any DatabaseProvider {
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw Failure.unsupported(url) }
            return try await SQLiteProvider.open(path: path, writerNiceness: sqliteWriterNiceness, logger: logger)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return try await PostgresProvider.open(url: url, logger: logger)
        }
        throw Failure.unsupported(url)
    }
}
