import Foundation

/// When a lead may be called: a daily window on chosen weekdays, in the recipient's local time
/// (or one fixed zone). Compliance default: 08:00–21:00 every day, recipient time.
public struct CallingHours: Sendable, Equatable, Codable {
    /// Minutes after local midnight, `0...1440`; `start < end`.
    public var start: Int
    public var end: Int
    /// ISO weekdays, 1 = Monday … 7 = Sunday.
    public var days: Set<Int>
    /// `nil`: the recipient's zones (from the number). Otherwise an IANA identifier.
    public var timeZone: String?
    /// Local dates (`YYYY-MM-DD`) with no calls at all, in whichever zone governs.
    public var holidays: Set<String>

    public static let allDays: Set<Int> = Set(1...7)
    public static let `default` = CallingHours(start: 8 * 60, end: 21 * 60, days: allDays, timeZone: nil)

    public init(start: Int, end: Int, days: Set<Int> = allDays, timeZone: String? = nil, holidays: Set<String> = []) {
        self.start = start
        self.end = end
        self.days = days
        self.timeZone = timeZone
        self.holidays = holidays
    }

    enum CodingKeys: String, CodingKey { case start, end, days, timeZone, holidays }

    /// Settings stored before holidays existed have none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(start: try c.decode(Int.self, forKey: .start), end: try c.decode(Int.self, forKey: .end),
                  days: try c.decode(Set<Int>.self, forKey: .days), timeZone: try c.decodeIfPresent(String.self, forKey: .timeZone),
                  holidays: try c.decodeIfPresent(Set<String>.self, forKey: .holidays) ?? [])
    }

    public var isAlways: Bool { start == 0 && end == 1440 && days == Self.allDays && holidays.isEmpty }

    /// `YYYY-MM-DD`, a real calendar date.
    public static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return false }
        let components = DateComponents(calendar: calendar(TimeZone(identifier: "UTC")!), year: y, month: m, day: d)
        return components.isValidDate
    }

    public static let weekdayNames = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]

    /// Parses `HH:MM` (`24:00` allowed) into minutes after midnight.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
              (0...24).contains(h), (0...59).contains(m), h * 60 + m <= 1440 else { return nil }
        return h * 60 + m
    }

    /// The zones whose local time governs a call to `number`: the fixed zone, or the number's
    /// candidate zones, or `fallback` when the number's zone is unknown.
    public func zones(for number: PhoneNumber, fallback: String) -> [TimeZone] {
        if let timeZone { return [TimeZoneCache.zone(timeZone)] }
        let candidates = number.candidateTimeZones
        return (candidates.isEmpty ? [fallback] : candidates).map(TimeZoneCache.zone)
    }

    /// The earliest instant at or after `date` that lies inside the window in every zone, or
    /// `nil` when the zones' windows never overlap within two weeks.
    public func nextOpening(from date: Date, zones: [TimeZone]) -> Date? {
        if isAlways || zones.isEmpty { return date }
        var t = date
        let horizon = date.addingTimeInterval(14 * 86_400)
        // Each pass moves t to the next opening of a zone that is closed at t; t only grows, and
        // it settles as soon as every zone is open.
        for _ in 0..<64 {
            guard t < horizon else { return nil }
            guard let closed = zones.first(where: { !isOpen(at: t, in: $0) }) else { return t }
            guard let next = nextOpening(from: t, in: closed) else { return nil }
            t = next
        }
        return nil
    }

    /// When a contact at `number` (E.164) may next be reached, at or after `date`: `date`
    /// itself when the window is open in all its zones; `nil` when it opens in none within two
    /// weeks. A number we cannot place uses `fallback`.
    public func nextOpening(for number: String, fallback: String, from date: Date) -> Date? {
        if isAlways { return date }
        let zones = (try? PhoneNumber(parsing: number)).map { self.zones(for: $0, fallback: fallback) } ?? [TimeZoneCache.zone(timeZone ?? fallback)]
        return nextOpening(from: date, zones: zones)
    }

    public func isOpen(at date: Date, in zone: TimeZone) -> Bool {
        let calendar = Self.calendar(zone)
        let parts = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute], from: date)
        let minute = parts.hour! * 60 + parts.minute!
        return days.contains(Self.isoWeekday(parts.weekday!)) && minute >= start && minute < end && !isHoliday(parts)
    }

    private func isHoliday(_ parts: DateComponents) -> Bool {
        !holidays.isEmpty && holidays.contains(String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!))
    }

    private func nextOpening(from date: Date, in zone: TimeZone) -> Date? {
        let calendar = Self.calendar(zone)
        let midnight = calendar.startOfDay(for: date)
        // Two weeks: a week of allowed weekdays, plus holidays in between.
        for offset in 0..<15 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: midnight) else { return nil }
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard days.contains(Self.isoWeekday(parts.weekday!)), !isHoliday(parts) else { continue }
            // Wall-clock arithmetic, so a DST change keeps 08:00 at 08:00.
            guard let open = calendar.date(bySettingHour: start / 60, minute: start % 60, second: 0, of: day) else { continue }
            let close = end == 1440
                ? calendar.date(byAdding: .day, value: 1, to: day)!
                : calendar.date(bySettingHour: end / 60, minute: end % 60, second: 0, of: day)!
            if date < close { return max(date, open) }
        }
        return nil
    }

    private static func isoWeekday(_ gregorian: Int) -> Int { gregorian == 1 ? 7 : gregorian - 1 }

    private static func calendar(_ zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }
}

/// `TimeZone(identifier:)` parses tzdata on every call on Linux; leads share few zones.
public enum TimeZoneCache {
    private static let cache = Locked<[String: TimeZone]>([:])

    public static func zone(_ identifier: String) -> TimeZone {
        if let zone = cache.withLock({ $0[identifier] }) { return zone }
        let zone = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
        cache.withLock { $0[identifier] = zone }
        return zone
    }

    public static func isKnown(_ identifier: String) -> Bool { TimeZone(identifier: identifier) != nil }
}
