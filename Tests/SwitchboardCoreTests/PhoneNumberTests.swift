import Testing
@testable import SwitchboardCore

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("+15551234567", "+15551234567"),
        ("15551234567", "+15551234567"),
        ("(555) 123-4567", "+15551234567"),
        ("555.123.4567", "+15551234567"),
        (" +1 555 123 4567 ", "+15551234567"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+44 20 7946 0958", "+442079460958"),
        ("13135727768", "+13135727768"),
        ("+1\u{00A0}555\u{00A0}123\u{00A0}4567", "+15551234567"),
        ("\u{3000}(555) 123-4567\t", "+15551234567"),
    ])
    func normalizesToE164(raw: String, expected: String) throws {
        #expect(try PhoneNumber(parsing: raw).e164 == expected)
    }

    @Test func aDefaultCountryReplacesTheTrunkZero() throws {
        #expect(try PhoneNumber(parsing: "020 7946 0958", defaultCountryCode: "44").e164 == "+442079460958")
        #expect(try PhoneNumber(parsing: "+1 (555) 123 - 4567", defaultCountryCode: "44").e164 == "+15551234567")
        #expect(throws: PhoneNumberError.tooShort) { try PhoneNumber(parsing: "0123", defaultCountryCode: "44") }
    }

    @Test(arguments: [
        ("", PhoneNumberError.missing),
        ("   ", .missing),
        ("call me", .invalidCharacters),
        ("+1555+1234567", .invalidCharacters),
        ("+1555123456\u{0301}7", .invalidCharacters),
        ("+1555\u{00C2}1234567", .invalidCharacters),
        ("12345", .tooShort),
        ("+1555123456789012", .tooLong),
        ("+15551234", .tooShort),
        ("+10551234567", .invalidAreaCode),
        ("+11551234567", .invalidAreaCode),
        ("+999123456789", .unknownCountryCode),
    ])
    func rejectsWithReason(raw: String, error: PhoneNumberError) {
        #expect(throws: error) { try PhoneNumber(parsing: raw) }
    }

    @Test func everyCountryCodeIsFoundAtTheFrontAndNothingElse() {
        let codes = PhoneData.countryCodes.split(separator: " ").map(String.init)
        #expect(codes.contains { $0.count == 1 } && codes.contains { $0.count == 3 })
        for code in codes { #expect(PhoneData.countryCode(prefixOf: code + "5550100") == code) }
        #expect(PhoneData.countryCode(prefixOf: "9995550100") == nil)  // 9, 99 and 999 are no codes
        #expect(PhoneData.countryCode(prefixOf: "0715550100") == nil)  // nor 0, 07 or 071
        #expect(PhoneData.countryCode(prefixOf: "4a") == nil)
        #expect(PhoneData.countryCode(prefixOf: "") == nil)
    }

    @Test func candidateZonesFromTheLongestPrefix() throws {
        #expect(try PhoneNumber(parsing: "+12125550100").candidateTimeZones == ["America/New_York"])
        #expect(try PhoneNumber(parsing: "+13105550100").candidateTimeZones == ["America/Los_Angeles"])
        // Idaho's 208 spans two zones.
        #expect(Set(try PhoneNumber(parsing: "+12085550100").candidateTimeZones) == ["America/Boise", "America/Los_Angeles"])
        // 555 is no real area code: only +1 matched, which spans 40 zones, so the zone is unknown.
        #expect(try PhoneNumber(parsing: "+15551234567").candidateTimeZones.isEmpty)
        #expect(try PhoneNumber(parsing: "+33142685300").candidateTimeZones == ["Europe/Paris"])
    }
}
