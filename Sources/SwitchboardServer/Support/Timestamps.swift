import Foundation

/// The timestamp shapes of the compatible APIs.
enum Timestamps {
    /// Teli writes `2025-11-21T21:40:13.089462`: UTC, no offset, microseconds.
    static func teli(_ date: Date) -> String { format(date, fractionDigits: 6, zulu: false) }
    /// DialNexa writes `2024-03-01T10:00:00.000Z`.
    static func dialNexa(_ date: Date) -> String { format(date, fractionDigits: 3, zulu: true) }
    /// Teli's SMS campaign list writes `2025-11-12T16:31:02+00:00`: whole seconds, an offset.
    static func teliOffset(_ date: Date) -> String { format(date, fractionDigits: 0, zulu: false) + "+00:00" }

    private static func format(_ date: Date, fractionDigits: Int, zulu: Bool) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = floor(seconds)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: whole))
        let scale = pow(10, Double(fractionDigits))
        let fraction = min(Int(((seconds - whole) * scale).rounded()), Int(scale) - 1)
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        let digits = fractionDigits == 0 ? "" : "." + String(format: "%0\(fractionDigits)d", fraction)
        return base + digits + (zulu ? "Z" : "")
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
