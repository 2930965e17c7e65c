import Foundation

/// Exponential back-off with full jitter (AWS's "full jitter": a uniform delay between zero
/// and the capped exponential), unless the server said how long to wait: then that, plus up
/// to 10% so many waiters do not return together.
public struct Backoff: Sendable, Equatable {
    public var base: TimeInterval
    public var cap: TimeInterval

    public init(base: TimeInterval = 1, cap: TimeInterval = 60) {
        self.base = base
        self.cap = cap
    }

    /// The wait before try number `retry` (1 = the first retry).
    public func delay(retry: Int, retryAfter: TimeInterval? = nil,
                      random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) -> TimeInterval {
        if let retryAfter, retryAfter >= 0 { return min(cap, retryAfter) * random(1...1.1) }
        let ceiling = min(cap, base * pow(2, Double(max(0, retry - 1))))
        return random(0...ceiling)
    }

    /// `Retry-After` as seconds or an HTTP date, relative to `now`.
    public static func retryAfter(_ header: String?, now: Date) -> TimeInterval? {
        guard let header = header?.trimmingWhitespace(), !header.isEmpty else { return nil }
        if let seconds = TimeInterval(header) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: String(header)).map { max(0, $0.timeIntervalSince(now)) }
    }
}
