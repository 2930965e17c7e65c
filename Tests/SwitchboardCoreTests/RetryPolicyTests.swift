import Foundation
import Testing
@testable import SwitchboardCore

@Suite struct RetryPolicyTests {
    let now = Date(timeIntervalSince1970: 1_000_000)
    let policy = RetryPolicy(maxAttempts: 3, interval: 3600)

    @Test func retriesRetryableOutcomesUntilTheLimit() {
        #expect(policy.decide(outcome: .busy, attempt: 1, now: now) == .retry(at: now.addingTimeInterval(3600)))
        #expect(policy.decide(outcome: .noAnswer, attempt: 2, now: now) == .retry(at: now.addingTimeInterval(3600)))
        #expect(policy.decide(outcome: .noAnswer, attempt: 3, now: now) == .final(.noAnswer))
    }

    @Test func neverRetriesCompletedOrInvalid() {
        #expect(policy.decide(outcome: .completed, attempt: 1, now: now) == .final(.completed))
        #expect(policy.decide(outcome: .invalidNumber, attempt: 1, now: now) == .final(.invalidNumber))
        let forced = RetryPolicy(maxAttempts: 3, interval: 1, retryOn: [.invalidNumber, .busy])
        #expect(forced.retryOn == [.busy])
    }

    @Test func onlyListedOutcomes() {
        let busyOnly = RetryPolicy(maxAttempts: 3, interval: 60, retryOn: [.busy])
        #expect(busyOnly.decide(outcome: .voicemail, attempt: 1, now: now) == .final(.voicemail))
        #expect(RetryPolicy.noRetries.decide(outcome: .busy, attempt: 1, now: now) == .final(.busy))
    }

    @Test func outcomesAcceptHyphenatedSpellings() {
        #expect(Outcome(lenient: "no-answer") == .noAnswer)
        #expect(Outcome(lenient: "NO_ANSWER") == .noAnswer)
        #expect(Outcome(lenient: "cancelled") == .canceled)
        #expect(Outcome(lenient: "maybe") == nil)
    }
}
