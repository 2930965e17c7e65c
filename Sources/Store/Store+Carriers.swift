import Foundation
import SQLKit
import SwitchboardCore

extension Store {
    /// The carrier and settings of the number an attempt was placed from; nil for an unknown
    /// attempt.
    public func attemptCarrier(_ attemptID: Int64) async throws -> AttemptCarrier? {
        try await database.read { db in
            try await db.raw("""
                SELECT a.id, a.provider, a.from_number, a.to_number, p.settings FROM attempts a
                LEFT JOIN phone_numbers p ON p.phone_number = a.from_number WHERE a.id = \(bind: attemptID)
                """).first().map { row in
                AttemptCarrier(attemptID: attemptID, provider: try row.value("provider"), settings: try NumberCarrier.settings(row),
                               from: try row.string("from_number"), to: try row.string("to_number"))
            }
        }
    }
}
