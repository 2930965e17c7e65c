import Foundation

/// Random identifiers in the shapes the compatible APIs use (`voice_campaign_4491036864fc`).
public enum Identifier {
    public static func make(_ prefix: String, bytes: Int = 6) -> String {
        // Eight random bytes a call to the system's generator (a call each byte made ids a
        // twenty-fifth of the dialer's writer thread, in `getrandom`).
        var generator = SystemRandomNumberGenerator()
        var hex: [UInt8] = []
        hex.reserveCapacity(bytes * 2)
        var word: UInt64 = 0
        for index in 0..<bytes {
            if index % 8 == 0 { word = generator.next() }
            let byte = UInt8(truncatingIfNeeded: word >> (8 * UInt64(index % 8)))
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xF)])
        }
        return prefix + String(decoding: hex, as: UTF8.self)
    }

    /// An id that sorts by when it was made: the time in milliseconds (48 bits) then 64 random
    /// bits, as hex (`call_019ad4c3e2f14b6c8e0a9d7f3b21`). Rows keyed by such ids are added at
    /// the end of their index; a random id lands on a random page of it, which for a dialer
    /// writing thousands of calls a second was most often a page not in the cache.
    public static func ordered(_ prefix: String, at time: Date) -> String {
        var generator = SystemRandomNumberGenerator()
        var hex: [UInt8] = []
        hex.reserveCapacity(28)
        appendHex(UInt64(max(0, time.timeIntervalSince1970 * 1000)), digits: 12, to: &hex)
        appendHex(generator.next(), digits: 16, to: &hex)
        return prefix + String(decoding: hex, as: UTF8.self)
    }

    /// The low `count` hex digits of `value`, most significant first.
    private static func appendHex(_ value: UInt64, digits count: Int, to hex: inout [UInt8]) {
        for shift in stride(from: 4 * (count - 1), through: 0, by: -4) { hex.append(digits[Int((value >> UInt64(shift)) & 0xF)]) }
    }

    private static let digits = Array("0123456789abcdef".utf8)
}

/// Ids a client chooses (campaign ids) are its organization's own: each organization may use
/// any id, and nothing one sees tells it which ids another uses. Rows store a key that is the
/// organization's id and the client's, joined by `/` — a character neither may contain (an
/// organization's id is checked when its first key is made; a client's id by `ClientID`), so
/// two organizations' keys never meet and the client's id is the part after the first `/`.
public enum ScopedID {
    public static func key(organizationID: String, id: String) -> String { organizationID + "/" + id }

    /// The id the client knows, from a stored key.
    /// Searched as bytes: a `Character` search walks grapheme clusters, and a page of calls
    /// reads a hundred of these.
    public static func publicID(_ key: String) -> String {
        let utf8 = key.utf8
        guard let slash = utf8.firstIndex(of: UInt8(ascii: "/")) else { return key }
        return String(key[utf8.index(after: slash)...])
    }
}

/// What a client-chosen id or name may hold: no control characters (they forge log lines and
/// break headers); an id also no `/`, `?`, `#`, `%` or spaces, so it can always be read back in
/// a URL path.
public enum ClientID {
    public static let maxLength = 128

    /// Why `id` cannot be an id, or nil when it can.
    public static func problem(_ id: String) -> String? {
        if id.isEmpty { return "must not be empty" }
        if id.count > maxLength { return "must be at most \(maxLength) characters" }
        if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.isWhitespace }) {
            return "must not contain spaces or control characters"
        }
        if id.contains(where: { "/?#%\\".contains($0) }) { return "must not contain /, ?, #, % or \\" }
        return nil
    }

    /// Why `text` cannot be a name (free text shown to people), or nil when it can.
    public static func nameProblem(_ text: String) -> String? {
        text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) ? "must not contain control characters" : nil
    }
}

extension Sequence<UInt8> {
    /// Lowercase hex, two digits a byte: the form of key hashes, digests and signatures.
    /// Written directly: `String(format: "%02x")` per byte made hashing an API key a visible
    /// part of every request's cost.
    @inlinable
    public var hexString: String {
        let bytes = Array(self)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = Self.hexDigit(byte >> 4)
                out[2 * index + 1] = Self.hexDigit(byte & 0xF)
            }
            return bytes.count * 2
        }
    }

    @inlinable
    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble }
}
