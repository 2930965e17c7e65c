import SwitchboardCore
import Testing

struct RepeatSieveTests {
    private func lead(_ n: Int) throws -> ValidLead { ValidLead(phone: try PhoneNumber(parsing: "+1415" + String(10_000_000 + n).dropFirst())) }
    private func leads(_ raw: [String]) throws -> [ValidLead] { try raw.map { ValidLead(phone: try PhoneNumber(parsing: $0)) } }

    /// A hundred thousand different numbers are never taken for a repeat (the filter's chance of
    /// that is about 1 in 10⁷ here); the first number sent again is.
    @Test func aNumberSentTwiceMayRepeatAndDistinctOnesDoNot() throws {
        var sieve = RepeatSieve()
        // In chunks, as an upload hands them over; the repeat comes in a later one.
        for start in stride(from: 0, to: 100_000, by: 5_000) { sieve.insert(try (start..<start + 5_000).map(lead)) }
        #expect(!sieve.mayRepeat)
        sieve.insert([try lead(31_337)])
        #expect(sieve.mayRepeat)
    }

    /// Numbers that differ only in the country code, or in length, are different numbers.
    @Test func numbersAreTheirDigits() throws {
        var sieve = RepeatSieve()
        sieve.insert(try leads(["+14155550100", "+442079460958", "+4420794609580", "+33142685300"]))
        #expect(!sieve.mayRepeat)
        var again = sieve
        again.insert(try leads(["+1 (415) 555-0100"]))
        #expect(again.mayRepeat)
        // Within one chunk too.
        var once = RepeatSieve()
        once.insert(try leads(["+33142685300", "+14155550199", "+33 1 42 68 53 00"]))
        #expect(once.mayRepeat)
    }
}
