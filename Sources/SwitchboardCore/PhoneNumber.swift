/// A phone number in E.164 form (`+15551234567`), the only form Switchboard stores or dials.
public struct PhoneNumber: Hashable, Sendable, CustomStringConvertible {
    /// `+` and 8 to 15 digits.
    public let e164: String
    /// The ITU country calling code, e.g. `1` or `44`.
    public let countryCode: String

    public var description: String { e164 }
    /// The digits without the `+`.
    public var digits: Substring { e164.dropFirst() }

    /// Normalizes what people type: `+1 (555) 123-4567`, `15551234567`, `(555) 123-4567` with a
    /// default country of `1`, `0044 20 7946 0958`. Letters, a `+` not in front, or a number
    /// that fits no country's plan are rejected with the reason.
    public init(parsing raw: String, defaultCountryCode: String = "1") throws(PhoneNumberError) {
        let trimmed = raw.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .missing }
        // Digits are ASCII: their UTF-8 count is their count, without walking characters.
        var (digits, international) = try Self.digits(of: trimmed)
        if !international, digits.hasPrefix("00") {
            digits.removeFirst(2)
            international = true
        }
        if !international {
            if defaultCountryCode == "1", digits.utf8.count == 10 {
                digits = "1" + digits
            } else if digits.utf8.count > 10, PhoneData.countryCode(prefixOf: digits) != nil {
                // Already carries a country code without the `+` (`15551234567`, `447911123456`).
            } else if digits.utf8.count >= 6, digits.utf8.count + defaultCountryCode.utf8.count <= 15, defaultCountryCode != "1" {
                digits = defaultCountryCode + digits.drop(while: { $0 == "0" })
            } else {
                throw digits.utf8.count < 10 ? .tooShort : .unknownCountryCode
            }
        }
        guard digits.utf8.count >= 8 else { throw .tooShort }
        guard digits.utf8.count <= 15 else { throw .tooLong }
        guard let cc = PhoneData.countryCode(prefixOf: digits) else { throw .unknownCountryCode }
        if cc == "1" {
            // North American Numbering Plan: 10 national digits, area code not starting 0 or 1.
            guard digits.utf8.count == 11 else { throw digits.utf8.count < 11 ? .tooShort : .tooLong }
            let area = digits.utf8.dropFirst().first
            guard area != UInt8(ascii: "0"), area != UInt8(ascii: "1") else { throw .invalidAreaCode }
        }
        self.e164 = "+" + digits
        self.countryCode = cc
    }

    /// The digits of `text`, and whether a `+` led them. Read as bytes: every character allowed
    /// is ASCII but the no-break space (C2 A0). The digits are written into the string's own
    /// storage in one pass (inline, not allocated, when the text is at most 15 bytes): appending
    /// them a scalar at a time was half of what an upload spent on a number.
    private static func digits(of text: Substring) throws(PhoneNumberError) -> (digits: String, international: Bool) {
        var international = false
        var invalid = false
        let utf8 = text.utf8
        let digits = String(unsafeUninitializedCapacity: utf8.count) { buffer in
            var count = 0
            var bytes = utf8.makeIterator()
            var first = true
            while let byte = bytes.next() {
                defer { first = false }
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    buffer[count] = byte
                    count += 1
                case UInt8(ascii: "+") where first: international = true
                case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "."): continue
                case 0xC2 where bytes.next() == 0xA0: continue
                default:
                    invalid = true
                    return 0
                }
            }
            return count
        }
        if invalid { throw .invalidCharacters }
        return (digits, international)
    }

    /// The candidate IANA zones of this number, from the longest known prefix. Empty when only
    /// the country code matched and that country spans several zones: the zone is then unknown.
    public var candidateTimeZones: [String] { PhoneData.timeZones(forDigits: digits) }
}

public enum PhoneNumberError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing, invalidCharacters, tooShort, tooLong, unknownCountryCode, invalidAreaCode

    public var description: String {
        switch self {
        case .missing: "missing phone number"
        case .invalidCharacters: "phone number contains characters other than digits and separators"
        case .tooShort: "phone number has too few digits"
        case .tooLong: "phone number has more than 15 digits"
        case .unknownCountryCode: "phone number has no known country code"
        case .invalidAreaCode: "North American area codes cannot start with 0 or 1"
        }
    }
}

extension StringProtocol {
    public func trimmingWhitespace() -> Substring {
        // Most values begin and end with a visible ASCII character: nothing to trim.
        let scalars = Substring(self)
        if let first = scalars.utf8.first, let last = scalars.utf8.last, (0x21..<0x7F).contains(first), (0x21..<0x7F).contains(last) {
            return scalars
        }
        let start = scalars.firstIndex(where: { !$0.isWhitespace }) ?? scalars.endIndex
        let end = scalars.lastIndex(where: { !$0.isWhitespace }).map { scalars.index(after: $0) } ?? start
        return Substring(scalars[start..<Swift.max(start, end)])
    }
}
