import Foundation

/// One follow-up of a drip schedule, as Teli writes it: `{"delay_hours": 24, "type": "ai"}` or
/// `{"day": 3, "type": "custom", "message": "…"}`. Delays count from the starting message, so a
/// schedule reads as a calendar; a step due before the one above it is sent right after it.
public struct DripStep: Sendable, Equatable {
    public enum Kind: String, Sendable { case ai, custom }
    public var delay: TimeInterval
    public var kind: Kind
    public var message: String?

    public init(delay: TimeInterval, kind: Kind, message: String?) {
        self.delay = delay
        self.kind = kind
        self.message = message
    }

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Parses a schedule; names the first bad step.
    public static func schedule(_ value: JSONValue?) throws -> [DripStep] {
        guard let value, value != .null else { return [] }
        guard case .array(let items) = value else { throw Invalid(description: "drip_schedule must be an array") }
        return try items.enumerated().map { index, item in
            let hours: Double
            // A year at most: a later drip is a mistake, and an unbounded one overflows dates.
            if case .number(let h)? = item["delay_hours"], h >= 0, h <= 8_760 { hours = h }
            else if case .number(let day)? = item["day"], day >= 0, day <= 365 { hours = day * 24 }
            else { throw Invalid(description: "drip_schedule[\(index)] needs delay_hours (0 to 8760) or day (0 to 365)") }
            let message = item["message"]?.stringValue
            let kind: Kind
            switch item["type"]?.stringValue {
            case nil: kind = message == nil ? .ai : .custom
            case let raw?:
                guard let parsed = Kind(rawValue: raw) else { throw Invalid(description: "drip_schedule[\(index)].type must be ai or custom") }
                kind = parsed
            }
            if kind == .custom, (message ?? "").isEmpty { throw Invalid(description: "drip_schedule[\(index)] of type custom needs a message") }
            return DripStep(delay: hours * 3_600, kind: kind, message: message)
        }
    }
}
