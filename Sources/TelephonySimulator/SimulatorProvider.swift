import Foundation
import SwitchboardCore

/// A carrier in a box: rings, talks and ends calls with realistic times (scaled), by a script
/// per lead (`simulate: "busy,no_answer,completed"`, the last one repeating) or, without one,
/// by a fixed mix keyed on the number's last two digits:
///
/// | last two digits | outcome          |
/// |-----------------|------------------|
/// | 00–59           | `completed`      |
/// | 60–71           | `no_answer`      |
/// | 72–81           | `busy`           |
/// | 82–91           | `voicemail`      |
/// | 92–95           | `call_declined`  |
/// | 96–97           | `failed`         |
/// | 98–99           | `invalid_number` |
///
/// Every dial is written to its dial log before it rings, so after a crash the engine can ask
/// what became of an attempt, as it would ask a real carrier's call list.
public struct SimulatorProvider: TelephonyProvider {
    public let name = ProviderName.simulator
    /// 1 = realistic times, 0.01 = a hundred times faster, 0 = instant.
    public let timeScale: Double
    private let clock: any WallClock
    private let log: SimulatorDialLog

    public init(timeScale: Double, clock: any WallClock, log: SimulatorDialLog = SimulatorDialLog()) {
        self.timeScale = max(0, timeScale)
        self.clock = clock
        self.log = log
    }

    public func dial(_ request: DialRequest) async -> DialResult {
        let start = clock.now()
        let outcome = Self.scriptedOutcome(request) ?? Self.defaultOutcome(for: request.to)
        let plan = Self.timing(outcome, request: request)
        let answered = outcome == .completed || outcome == .voicemail
        // The whole call is decided when it is placed, so the log can answer for it at once,
        // from any process, even after this one dies.
        let planned = DialResult(outcome: outcome, providerCallID: "SIM\(request.attemptID)",
                                 answeredAt: answered ? start.addingTimeInterval(plan.ring * timeScale) : nil,
                                 endedAt: start.addingTimeInterval((plan.ring + plan.talk) * timeScale), duration: answered ? plan.talk : 0,
                                 detail: "simulator: \(outcome.rawValue)")
        log.placed(attemptID: request.attemptID, from: request.from, to: request.to, result: planned)
        // Ringing, then talking if answered; the clock decides how long that really takes.
        // Busy, invalid and failed calls end before anything rings.
        if [.completed, .voicemail, .noAnswer, .callDeclined].contains(outcome) { request.progress(.ringing(at: start)) }
        if let answeredAt = planned.answeredAt {
            if timeScale > 0 { try? await clock.sleep(until: answeredAt) }
            request.progress(.answered(at: answeredAt))
        }
        if timeScale > 0 { try? await clock.sleep(until: planned.endedAt) }
        var result = planned
        result.endedAt = max(clock.now(), start)
        return result
    }

    public func status(of attempt: DialRequest) async -> ProviderCallStatus { log.status(attemptID: attempt.attemptID, now: clock.now()) }

    static func scriptedOutcome(_ request: DialRequest) -> Outcome? {
        guard let script = request.fields["simulate"]?.text else { return nil }
        let steps = script.split(separator: ",").compactMap { Outcome(lenient: String($0.trimmingWhitespace())) }
        guard let last = steps.last else { return nil }
        return request.attemptNumber <= steps.count ? steps[request.attemptNumber - 1] : last
    }

    public static func defaultOutcome(for number: String) -> Outcome {
        let digits = number.filter(\.isNumber)
        let tail = Int(digits.suffix(2)) ?? 0
        switch tail {
        case 0...59: return .completed
        case 60...71: return .noAnswer
        case 72...81: return .busy
        case 82...91: return .voicemail
        case 92...95: return .callDeclined
        case 96...97: return .failed
        default: return .invalidNumber
        }
    }

    /// Seconds of ringing and of talking, varied by attempt and number but reproducible.
    static func timing(_ outcome: Outcome, request: DialRequest) -> (ring: Double, talk: Double) {
        var hash: UInt64 = 1469598103934665603
        for byte in "\(request.to)#\(request.attemptNumber)".utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        let u = Double(hash % 10_000) / 10_000
        switch outcome {
        case .completed, .transferred: return (4 + 10 * u, min(request.maxDuration, 30 + 150 * u))
        case .voicemail: return (15 + 10 * u, 20) // the greeting, recorded as connected time
        case .noAnswer: return (request.ringTimeout, 0)
        case .busy: return (1 + u, 0)
        case .callDeclined: return (3 + 6 * u, 0)
        case .invalidNumber, .failed, .canceled: return (0.5 + u, 0)
        }
    }
}

