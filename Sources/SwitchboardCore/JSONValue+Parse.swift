/// A JSON text that is not one (RFC 8259), and where its first wrong byte is.
public struct JSONSyntaxError: Error, Equatable, Sendable {
    public let offset: Int
}

extension JSONValue {
    /// One JSON text (RFC 8259) read straight into a value: the same values Foundation's
    /// `JSONDecoder` gives for `JSONValue`, without its Codable containers, which were most of
    /// an uploaded JSON lead's cost (docs/performance.md). As `JSONDecoder` does, it allows a
    /// comma before a closing bracket and keeps the first value of a key given twice; it refuses
    /// comments, leading zeros, non-finite numbers, control characters in strings, invalid
    /// UTF-8, lone surrogates and nesting deeper than 512.
    public init(parsing bytes: [UInt8]) throws(JSONSyntaxError) {
        self = try bytes.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) -> JSONValue in
            try JSONValue(parsing: buffer)
        }
    }

    /// The same, from bytes in place.
    public init(parsing bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) {
        var parser = JSONParser(bytes: bytes)
        self = try parser.document()
    }

    /// The same, from a string's UTF-8 in place.
    public init(parsing text: String) throws(JSONSyntaxError) {
        var text = text
        let parsed = text.withUTF8 { buffer in
            Result { () throws(JSONSyntaxError) -> JSONValue in
                var parser = JSONParser(bytes: buffer)
                return try parser.document()
            }
        }
        self = try parsed.get()
    }
}

private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    static let maxDepth = 512

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func document() throws(JSONSyntaxError) -> JSONValue {
        skipSpace()
        let value = try value()
        skipSpace()
        guard index == bytes.count else { throw failure() }
        return value
    }

    private func failure() -> JSONSyntaxError { JSONSyntaxError(offset: index) }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    private mutating func expect(_ byte: UInt8) throws(JSONSyntaxError) {
        guard current == byte else { throw failure() }
        index += 1
    }

    private mutating func value() throws(JSONSyntaxError) -> JSONValue {
        switch current ?? 0 {  // 0 starts no value: the end of the text fails as any byte would
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure()
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw failure() }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            index += offset
            throw failure()
        }
        index += count
    }

    private mutating func nest() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure() }
        index += 1
        skipSpace()
    }

    private mutating func object() throws(JSONSyntaxError) -> JSONValue {
        try nest()
        defer { depth -= 1 }
        var members: [String: JSONValue] = [:]
        if current == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            guard current == UInt8(ascii: "\"") else { throw failure() }
            let key = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            let value = try value()
            members.keepingFirst(value, forKey: key)
            skipSpace()
            switch current {
            case UInt8(ascii: ","):
                index += 1
                skipSpace()
                if current == UInt8(ascii: "}") { index += 1; return .object(members) }
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw failure()
            }
        }
    }

    private mutating func array() throws(JSONSyntaxError) -> JSONValue {
        try nest()
        defer { depth -= 1 }
        var items: [JSONValue] = []
        if current == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            items.append(try value())
            skipSpace()
            switch current {
            case UInt8(ascii: ","):
                index += 1
                skipSpace()
                if current == UInt8(ascii: "]") { index += 1; return .array(items) }
            case UInt8(ascii: "]"): index += 1; return .array(items)
            default: throw failure()
            }
        }
    }

    /// A string from its opening quote: its bytes as they are when it has no escape (most do),
    /// else rebuilt byte by byte.
    private mutating func string() throws(JSONSyntaxError) -> String {
        index += 1
        let start = index
        var bits: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[start..<index])
                // ASCII needs no validating: `String(validating:)` is not specialized for a
                // caller and looked up its generic metadata each time, 6% of a JSON upload.
                let text = bits < 0x80 ? String(decoding: run, as: UTF8.self) : String(validating: run, as: UTF8.self)
                guard let text else { throw JSONSyntaxError(offset: start) }
                index += 1
                return text
            }
            bits |= byte
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw failure() }
            index += 1
        }
        throw failure()
    }

    private mutating func escapedString(from start: Int) throws(JSONSyntaxError) -> String {
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: out, as: UTF8.self) else { throw JSONSyntaxError(offset: start) }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard let escape = current else { throw failure() }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
                default: index -= 1; throw failure()
                }
            case ..<0x20: throw failure()
            default:
                out.append(byte)
                index += 1
            }
        }
        throw failure()
    }

    /// The UTF-8 of `\uXXXX` (after `\u`), with the low half of a surrogate pair when the
    /// first is a high half; a lone half is refused.
    private mutating func unicodeEscape() throws(JSONSyntaxError) -> String.UTF8View {
        let first = try hex4()
        var scalar: Unicode.Scalar?
        switch first {
        case 0xD800...0xDBFF:
            guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else { throw failure() }
            index += 2
            let second = try hex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw failure() }
            scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        case 0xDC00...0xDFFF: throw failure()
        default: scalar = Unicode.Scalar(first)
        }
        guard let scalar else { throw failure() }
        return String(Character(scalar)).utf8
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw failure() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure()
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, read as a finite Double.
    private mutating func number() throws(JSONSyntaxError) -> Double {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        switch current ?? 0 {
        case UInt8(ascii: "0"): index += 1
        case UInt8(ascii: "1")...UInt8(ascii: "9"): skipDigits()
        default: throw failure()
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard isDigit(current) else { throw failure() }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard isDigit(current) else { throw failure() }
            skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let number = Double(text), number.isFinite else { throw JSONSyntaxError(offset: start) }
        return number
    }

    private func isDigit(_ byte: UInt8?) -> Bool { byte.map { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? false }

    private mutating func skipDigits() {
        while isDigit(current) { index += 1 }
    }
}

extension Dictionary {
    /// Adds the value unless the key has one: a repeated key's first value stands. One lookup,
    /// where testing for the key and then adding it hashed it twice.
    mutating func keepingFirst(_ value: Value, forKey key: Key) {
        func leave(_: inout Value) {}
        leave(&self[key, default: value])
    }
}
