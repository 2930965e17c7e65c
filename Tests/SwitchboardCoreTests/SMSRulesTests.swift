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
