import Foundation
import SwitchboardCore
import Testing

@Suite struct BatchStatusTests {
    @Test func followsTheCampaignAndItsRecipients() {
        #expect(BatchStatus(campaign: .active, recipients: 3, dispatched: 0, finalOutcomes: [:]) == .pending)
        #expect(BatchStatus(campaign: .active, recipients: 3, dispatched: 1, finalOutcomes: [:]) == .inProgress)
        #expect(BatchStatus(campaign: .paused, recipients: 3, dispatched: 2, finalOutcomes: [:]) == .inProgress)
        #expect(BatchStatus(campaign: .completed, recipients: 2, dispatched: 2, finalOutcomes: ["busy": 1, "completed": 1]) == .completed)
        #expect(BatchStatus(campaign: .completed, recipients: 2, dispatched: 2, finalOutcomes: ["no_answer": 2]) == .completed)
        #expect(BatchStatus(campaign: .canceled, recipients: 2, dispatched: 1, finalOutcomes: ["completed": 1]) == .cancelled)
    }

    @Test func failedWhenNobodyCouldBeDialed() {
        #expect(BatchStatus(campaign: .completed, recipients: 0, dispatched: 0, finalOutcomes: [:]) == .failed)
        #expect(BatchStatus(campaign: .completed, recipients: 2, dispatched: 2, finalOutcomes: ["invalid_number": 1, "failed": 1]) == .failed)
        #expect(BatchStatus(campaign: .ended, recipients: 2, dispatched: 0, finalOutcomes: [:]) == .failed)
    }

    @Test func recipientStatuses() {
        let now = Date(timeIntervalSince1970: 1_000)
        #expect(RecipientStatus(state: .queued, lastOutcome: .busy, dialAt: nil, now: now) == .pending)
        #expect(RecipientStatus(state: .dialing, lastOutcome: nil, dialAt: now.addingTimeInterval(1), now: now) == .dispatched)
        #expect(RecipientStatus(state: .dialing, lastOutcome: nil, dialAt: now, now: now) == .initiated)
        #expect(RecipientStatus(state: .done, lastOutcome: .completed, dialAt: nil, now: now) == .completed)
        #expect(RecipientStatus(state: .done, lastOutcome: .voicemail, dialAt: nil, now: now) == .voicemail)
        #expect(RecipientStatus(state: .done, lastOutcome: .noAnswer, dialAt: nil, now: now) == .failed)
        #expect(RecipientStatus(state: .notCalled, lastOutcome: nil, dialAt: nil, now: now) == .cancelled)
        #expect(!RecipientStatus.retriedOutcomes.contains(.completed))
        #expect(!RecipientStatus.retriedOutcomes.contains(.invalidNumber))
    }
}
