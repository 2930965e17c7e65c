import Foundation
import Store
import SwitchboardCore

/// The store's entry; inside `Schemas`, `Suppression` is the response's.
typealias SuppressionEntry = Suppression

extension Schemas {
    /// `Suppression`: a number or a prefix never called or texted.
    struct Suppression: Encodable, Sendable {
        @Nullable var phone_number: String?
        @Nullable var prefix: String?
        @Nullable var reason: String?
        var source: SuppressionEntry.Source
        var created_at: String

        init(_ entry: SuppressionEntry) {
            phone_number = entry.kind == .number ? entry.value : nil
            prefix = entry.kind == .prefix ? entry.value : nil
            reason = entry.reason
            source = entry.source
            created_at = Timestamps.teli(entry.createdAt)
        }
    }

    /// `SuppressionCreated`'s payload.
    struct SuppressionCreated: Encodable, Sendable {
        var suppression: Suppression
        var created: Bool
    }

    /// `SuppressionList`'s payload.
    struct SuppressionList: Encodable, Sendable {
        var count: Int
        var suppressions: [Suppression]
        @Nullable var next_after: String?
    }

    /// What removing one answers.
    struct SuppressionRemoved: Encodable, Sendable {
        var phone_number: String
        var message = "Suppression removed"
    }

    /// `SuppressionImport`'s payload.
    struct SuppressionImport: Encodable, Sendable {
        var received: Int
        var added_count: Int
        var already_listed_count: Int
        var invalid_count: Int
        var invalid: [InvalidLead]
    }
}
