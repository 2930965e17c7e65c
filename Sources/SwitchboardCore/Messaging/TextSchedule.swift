import Foundation

/// When an SMS campaign's texts may go out: what the contact did not ask for (a starting
/// message, a drip) only inside the campaign's calling hours in every zone the number may be
/// in; replies to a contact who wrote in, and a person's own texts, at once.
public struct TextSchedule: Sendable, Equatable, Codable {
    public var callingHours: CallingHours
    /// The zone for numbers whose own zone is unknown.
    public var timeZone: String

    public init(callingHours: CallingHours = .default, timeZone: String = "UTC") {
        self.callingHours = callingHours
        self.timeZone = timeZone
    }

    /// Kinds of text that wait for calling hours.
    public static func isUnsolicited(_ kind: MessageKind) -> Bool { kind == .start || kind == .drip }

    /// The earliest time a text of `kind` may go to `contact`: `now` when it may go now; a
    /// day later (to look again) when the window opens nowhere within two weeks.
    public func nextSendable(kind: MessageKind, to contact: String, now: Date) -> Date {
        guard Self.isUnsolicited(kind) else { return now }
        return callingHours.nextOpening(for: contact, fallback: timeZone, from: now) ?? now.addingTimeInterval(86_400)
    }
}
