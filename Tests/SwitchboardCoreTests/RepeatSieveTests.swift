import SwitchboardCore
import Testing

struct RepeatSieveTests {
    private func number(_ n: Int) throws -> PhoneNumber { try PhoneNumber(parsing: "+1415" + String(10_000_000 + n).dropFirst()) }

    /// A hundred thousand different numbers are never taken for a repeat (the filter's chance of
    /// that is about 1 in 10⁷ here); the first number sent again is.
    @Test func aNumberSentTwiceMayRepeatAndDistinctOnesDoNot() throws {
        var sieve = RepeatSieve()
        for n in 0..<100_000 { sieve.insert(try number(n)) }
        #expect(!sieve.mayRepeat)
        sieve.insert(try number(31_337))
        #expect(sieve.mayRepeat)
    }

    /// Numbers that differ only in the country code, or in length, are different numbers.
    @Test func numbersAreTheirDigits() throws {
        var sieve = RepeatSieve()
        for raw in ["+14155550100", "+442079460958", "+4420794609580", "+33142685300"] { sieve.insert(try PhoneNumber(parsing: raw)) }
        #expect(!sieve.mayRepeat)
        sieve.insert(try PhoneNumber(parsing: "+1 (415) 555-0100"))
        #expect(sieve.mayRepeat)
    }
}
