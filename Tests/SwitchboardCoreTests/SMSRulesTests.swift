import Foundation
import SwitchboardCore
import Testing

@Suite struct SMSRulesTests {
    @Test(arguments: ["STOP", "stop", " Stop! ", "STOPALL", "unsubscribe", "Cancel", "END", "quit", "REVOKE", "opt out", "OPT-OUT", "optout"])
    func optOutKeywords(_ text: String) {
        #expect(SMSKeyword(message: text) == .optOut)
    }

    @Test func onlyTheWholeMessageIsAKeyword() {
        #expect(SMSKeyword(message: "please stop texting me") == nil)
        #expect(SMSKeyword(message: "don't stop") == nil)
        #expect(SMSKeyword(message: "the end of the day works") == nil)
        #expect(SMSKeyword(message: "START") == .optIn)
        #expect(SMSKeyword(message: "unstop") == .optIn)
        #expect(SMSKeyword(message: "yes") == nil)
        #expect(SMSKeyword(message: "Help") == .help)
        #expect(SMSKeyword(message: "INFO") == .help)
    }

    @Test func dripSchedulesByHoursOrDays() throws {
        let steps = try DripStep.schedule([
            ["delay_hours": 24, "type": "ai"],
            ["day": 3, "type": "custom", "message": "still there?"],
            ["delay_hours": 1.5, "message": "hi"],
        ])
        #expect(steps == [DripStep(delay: 86_400, kind: .ai, message: nil), DripStep(delay: 3 * 86_400, kind: .custom, message: "still there?"),
                          DripStep(delay: 5_400, kind: .custom, message: "hi")])
        #expect(try DripStep.schedule(nil) == [])
    }

    @Test func badDripStepsAreNamed() {
        #expect(throws: DripStep.Invalid(description: "drip_schedule[1] needs delay_hours (0 to 8760) or day (0 to 365)")) {
            try DripStep.schedule([["delay_hours": 1], ["type": "ai"]])
        }
        #expect(throws: DripStep.Invalid(description: "drip_schedule[0] of type custom needs a message")) {
            try DripStep.schedule([["day": 1, "type": "custom"]])
        }
        #expect(throws: DripStep.Invalid(description: "drip_schedule[0].type must be ai or custom")) {
            try DripStep.schedule([["day": 1, "type": "email"]])
        }
    }

    @Test func aLaterStatusNeverGoesBack() {
        #expect(SMSStatus.delivered.rank > SMSStatus.sent.rank)
        #expect(SMSStatus.sent.rank > SMSStatus.sending.rank)
        #expect(SMSStatus.sending.rank > SMSStatus.queued.rank)
    }
}

/// What an inbound text does, from what is known of its sender.
@Suite struct InboundPlanTests {
    let answers = KeywordAnswers(optOut: "bye", optIn: "welcome back", help: { "help for \($0 ?? "-")" })

    func plan(_ body: String, suppressed: Bool = false, byText: Bool = false) -> InboundPlan {
        InboundPlan(keyword: SMSKeyword(message: body), body: body, suppressed: suppressed, optedOutByText: byText, campaignName: "Acme", answers: answers)
    }

    @Test func stopIsConfirmedOnce() {
        #expect(plan("STOP") == InboundPlan(keyword: .optOut, body: "STOP", suppressed: false, optedOutByText: false, campaignName: nil, answers: answers))
        #expect(plan("STOP").steps == [.optOut(reason: "SMS opt-out: STOP"), .answer("bye")])
        #expect(plan("stop", suppressed: true, byText: true).steps == [.optOut(reason: "SMS opt-out: stop")])
        #expect(plan("STOP").effect == .optedOut)
    }

    @Test func startLiftsOnlyAnOptOutMadeByText() {
        #expect(plan("START", suppressed: true, byText: true).steps == [.optIn, .answer("welcome back")])
        #expect(plan("START", suppressed: true, byText: true).effect == .optedIn)
        // Suppressed by the operator (an import, the API), or never: an ordinary reply.
        #expect(plan("START", suppressed: true, byText: false).effect == .message)
        #expect(plan("START").steps == [.dueForReply])
    }

    @Test func helpIsAnsweredAndAnythingElseIsTheAgents() {
        #expect(plan("HELP").steps == [.answer("help for Acme")])
        #expect(plan("please stop texting me").steps == [.dueForReply])
    }
}
