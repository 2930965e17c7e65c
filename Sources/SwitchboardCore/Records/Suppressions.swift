import Foundation

// Numbers never called or texted.

/// A number, or a prefix of numbers, an organization must not call or text.
public struct Suppression: Sendable, Equatable {
    public enum Kind: String, Sendable { case number, prefix }
    /// Who added it: the API, a CSV import, or the channel an opt-out came through.
    public enum Source: String, Sendable, Codable { case api, `import`, sms, call }
    public var value: String
    public var kind: Kind
    public var reason: String?
    public var source: Source
    public var createdAt: Date

    public init(value: String, kind: Kind, reason: String?, source: Source, createdAt: Date) {
        self.value = value
        self.kind = kind
        self.reason = reason
        self.source = source
        self.createdAt = createdAt
    }
}
