/// Parsed once from the generated text in `Generated/PhoneData.swift`.
extension PhoneData {
    /// Whether each string of one to three digits is a country code, at its `codeSlot`.
    private static let isCode: [Bool] = {
        var table = [Bool](repeating: false, count: 1110)
        for code in countryCodes.split(separator: " ") {
            var value = 0
            for byte in code.utf8 { value = value * 10 + Int(byte &- UInt8(ascii: "0")) }
            table[codeSlot(value: value, length: code.utf8.count)] = true
        }
        return table
    }()

    /// One digit at 0–9, two at 10–109, three at 110–1109, so `7` and `07` stay apart.
    private static func codeSlot(value: Int, length: Int) -> Int {
        value + (length == 1 ? 0 : length == 2 ? 10 : 110)
    }

    private static let prefixTable: [Substring: [String]] = {
        let names = zones.split(separator: " ").map(String.init)
        var table: [Substring: [String]] = [:]
        for line in prefixZones.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let ids = line[line.index(after: colon)...].split(separator: ",").compactMap { Int($0) }
            table[line[..<colon]] = ids.map { names[$0] }
        }
        return table
    }()

    private static let longestPrefix = prefixTable.keys.map(\.count).max() ?? 0

    /// The country calling code that begins `digits` (codes are prefix-free).
    ///
    /// Read as bytes from a table: as a set of strings, hashing each prefix (and counting the
    /// characters) was 5% of what an upload spent on a lead.
    static func countryCode(prefixOf digits: some StringProtocol) -> String? {
        var value = 0
        var length = 0
        for byte in digits.utf8.prefix(3) {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            length += 1
            if isCode[codeSlot(value: value, length: length)] {
                return String(decoding: digits.utf8.prefix(length), as: UTF8.self)
            }
        }
        return nil
    }

    static func timeZones(forDigits digits: some StringProtocol) -> [String] {
        let cc = countryCode(prefixOf: digits)?.count ?? 0
        var length = min(longestPrefix, digits.count)
        while length > 0 {
            if let zones = prefixTable[Substring(digits.prefix(length))] {
                // A match on the bare country code of a multi-zone country tells us nothing.
                if length <= cc, zones.count > 1 { return [] }
                return zones
            }
            length -= 1
        }
        return []
    }
}
