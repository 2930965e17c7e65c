import Foundation

/// The timestamp shapes of the compatible APIs.
enum Timestamps {
    /// The shapes, each as the API that writes it.
    enum Style: Sendable {
        /// Teli writes `2025-11-21T21:40:13.089462`: UTC, no offset, microseconds.
        case teli
        /// DialNexa writes `2024-03-01T10:00:00.000Z`.
        case dialNexa
        /// Teli's SMS campaign list writes `2025-11-12T16:31:02+00:00`: whole seconds, an offset.
        case teliOffset
    }

    static func teli(_ date: Date) -> String { format(date, .teli) }
    static func dialNexa(_ date: Date) -> String { format(date, .dialNexa) }
    static func teliOffset(_ date: Date) -> String { format(date, .teliOffset) }

    static func format(_ date: Date, _ style: Style) -> String {
        String(unsafeUninitializedCapacity: maxLength) { write(date, style, into: $0) }
    }

    /// The most bytes `write` writes: a sign and 19 digits of year, the rest of the date and
    /// time, six digits of fraction and an offset.
    static let maxLength = 48

    /// Writes `date` in `style` at the start of `out` (at least `maxLength` bytes) and returns
    /// how many bytes it wrote. Integer arithmetic into the caller's bytes: a calls page writes
    /// two hundred of these, and `Calendar` with `String(format:)`, then a string built piece by
    /// piece, were a fifth and then a tenth of the page's cost; the encoder writes them straight
    /// into its buffer.
    static func write(_ date: Date, _ style: Style, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let (fractionDigits, scale): (Int, Int64) = switch style {
        case .teli: (6, 1_000_000)
        case .dialNexa: (3, 1_000)
        case .teliOffset: (0, 1)
        }
        let seconds = date.timeIntervalSince1970
        let whole = Int64(seconds.rounded(.down))
        let fraction = min(Int64(((seconds - Double(whole)) * Double(scale)).rounded()), scale - 1)
        let (days, secondOfDay) = whole.quotientAndRemainder(dividingBy: 86_400)
        let (day, time) = secondOfDay < 0 ? (days - 1, secondOfDay + 86_400) : (days, secondOfDay)
        let (year, month, dayOfMonth) = civil(daysSinceEpoch: day)
        var at = 0
        func put(_ byte: UInt8) { out[at] = byte; at += 1 }
        func put(_ value: Int64, atLeast digits: Int) { at += writeDigits(value, atLeast: digits, into: out, at: at) }
        put(year, atLeast: 4); put(UInt8(ascii: "-"))
        put(month, atLeast: 2); put(UInt8(ascii: "-"))
        put(dayOfMonth, atLeast: 2); put(UInt8(ascii: "T"))
        put(time / 3_600, atLeast: 2); put(UInt8(ascii: ":"))
        put(time / 60 % 60, atLeast: 2); put(UInt8(ascii: ":"))
        put(time % 60, atLeast: 2)
        if fractionDigits > 0 { put(UInt8(ascii: ".")); put(fraction, atLeast: fractionDigits) }
        switch style {
        case .teli: break
        case .dialNexa: put(UInt8(ascii: "Z"))
        case .teliOffset: for byte in "+00:00".utf8 { put(byte) }
        }
        return at
    }

    /// `value` in decimal, zero-padded to at least `digits` digits, written right to left
    /// into its place at `start`; returns how many bytes.
    private static func writeDigits(_ value: Int64, atLeast digits: Int, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var at = start
        if value < 0 { out[at] = UInt8(ascii: "-"); at += 1 }
        var rest = value.magnitude
        var width = 1
        var power: UInt64 = 10
        while width < 19, rest >= power { width += 1; power *= 10 }
        width = max(width, digits)
        var index = at + width - 1
        while index >= at {
            out[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            index -= 1
        }
        return at + width - start
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`, exact for every day a timestamp can name).
    static func civil(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// ISO 8601: `YYYY-MM-DDTHH:MM[:SS[.fraction]][Z|±HH:MM]` (a space for `T` too). Without an
    /// offset the time is UTC, as in the seeds' examples.
    static func parse(_ text: String) -> Date? {
        let chars = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        var i = 0
        func number(_ count: Int) -> Int? {
            guard i + count <= chars.count else { return nil }
            var value = 0
            for _ in 0..<count {
                let c = chars[i]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
                i += 1
            }
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < chars.count, chars[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2) else { return nil }
        var hour = 0, minute = 0, second = 0
        var fraction = 0.0
        if i < chars.count {
            guard chars[i] == 84 || chars[i] == 116 || chars[i] == 32 else { return nil } // T, t, space
            i += 1
            guard let h = number(2), expect(58), let m = number(2) else { return nil }
            hour = h
            minute = m
            if expect(58) {
                guard let s = number(2) else { return nil }
                second = s
                if expect(46) || expect(44) {
                    var scale = 0.1
                    let start = i
                    while i < chars.count, chars[i] >= 48, chars[i] <= 57 {
                        fraction += Double(chars[i] - 48) * scale
                        scale /= 10
                        i += 1
                    }
                    guard i > start else { return nil }
                }
            }
        }
        var offset = 0
        if i < chars.count {
            if chars[i] == 90 || chars[i] == 122 { i += 1 } // Z
            else if chars[i] == 43 || chars[i] == 45 { // + or -
                let sign = chars[i] == 45 ? -1 : 1
                i += 1
                guard let oh = number(2) else { return nil }
                _ = expect(58)
                let om = number(2) ?? 0
                offset = sign * (oh * 3600 + om * 60)
            } else { return nil }
        }
        guard i == chars.count, (1...12).contains(month), (1...31).contains(day), hour < 24 || (hour == 24 && minute == 0 && second == 0),
              minute < 60, second < 61 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)),
              calendar.component(.day, from: date) == day || hour == 24 else { return nil }
        return date.addingTimeInterval(fraction - Double(offset))
    }
}
