import Foundation

/// An `application/x-www-form-urlencoded` body (or query), as the console's forms post it.
/// A name may repeat (checkboxes); `value` is its first.
struct FormFields: Sendable {
    private(set) var pairs: [(name: String, value: String)] = []

    init() {}

    init(encoded: String) {
        for pair in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            pairs.append((name, value))
        }
    }

    subscript(_ name: String) -> String? {
        value(name)
    }

    func value(_ name: String) -> String? {
        pairs.first { $0.name == name }.map(\.value)
    }

    /// The value, trimmed; nil when absent or blank.
    func text(_ name: String) -> String? {
        guard let value = value(name)?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    func values(_ name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value)
    }

    /// Names that start with `prefix`, without it (`field:city` → `city`), for checked boxes.
    func suffixes(after prefix: String) -> [String] {
        pairs.filter { $0.name.hasPrefix(prefix) }.map { String($0.name.dropFirst(prefix.count)) }
    }

    private static func decode(_ text: Substring) -> String {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
    }
}
