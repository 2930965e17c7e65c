import Foundation
import SwitchboardCore

/// How a dial through a callback-driven carrier (Twilio, Vobiz) waits for its call to end:
/// on the carrier's callbacks, moved only forward, and on its own polls of the carrier when
/// callbacks are late or went to another process. No call stays "in progress" forever: past
/// every limit the carrier allows, the attempt ends `failed` with the reason.
public struct CallbackDial: Sendable {
    public var pollEvery: Duration
    public var clock: any WallClock

    public init(pollEvery: Duration, clock: any WallClock) {
        self.pollEvery = pollEvery
        self.clock = clock
    }

    /// `poll` asks the carrier for the call's status (nil when it could not be asked);
    /// `hangUp` ends a call we stop waiting on, so none is left running unwatched.
    public func wait(for request: DialRequest, mailbox: Mailbox<CarrierCallEvent>, providerCallID: String, carrier: String,
                     poll: @Sendable () async -> CarrierCallEvent?, hangUp: @Sendable (String) async -> Void) async -> DialResult {
        var timeline = CarrierCallTimeline()
        let started = ContinuousClock.now
        // Ringing, talking, then ten minutes for the carrier to say so.
        let giveUp = started + .seconds(request.ringTimeout + request.maxDuration + 600)
        var nextPoll = started + pollEvery
        while true {
            var events: [CarrierCallEvent] = []
            if let event = await mailbox.receive(until: min(nextPoll, giveUp)) {
                events.append(event)
            } else {
                // The dialer let the call go at its shutdown deadline: the call goes on at the
                // carrier (the callee may be talking to the agent) and the attempt is reconciled
                // later, as after a crash. What is returned here is not written.
                if Task.isCancelled {
                    return DialResult(outcome: .failed, providerCallID: timeline.providerCallID ?? providerCallID, endedAt: clock.now(),
                                      detail: "\(carrier) call left to reconciliation: the dialer shut down")
                }
                if let polled = await poll() { events.append(polled) }
                nextPoll = ContinuousClock.now + pollEvery
            }
            for event in events {
                let before = timeline.stage
                guard timeline.apply(event) else { continue }
                if before < .ringing, timeline.stage >= .ringing, let at = timeline.ringingAt { request.progress(.ringing(at: at)) }
                if before < .answered, timeline.stage == .answered, let at = timeline.answeredAt { request.progress(.answered(at: at)) }
            }
            if let result = timeline.result { return result }
            if ContinuousClock.now >= giveUp {
                await hangUp(timeline.providerCallID ?? providerCallID)
                return DialResult(outcome: .failed, providerCallID: timeline.providerCallID ?? providerCallID, endedAt: clock.now(),
                                  detail: "\(carrier) never reported the end of the call")
            }
        }
    }
}
