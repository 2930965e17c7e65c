/// Parsed once from the generated text in `Generated/PhoneData.swift`.
extension PhoneData {
    private static let codes: Set<Substring> = Set(countryCodes.split(separator: " "))

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
    static func countryCode(prefixOf digits: some StringProtocol) -> String? {
        for length in 1...3 where digits.count >= length {
            let candidate = Substring(digits.prefix(length))
            if codes.contains(candidate) { return String(candidate) }
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
