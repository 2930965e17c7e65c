import Foundation
import NIOCore
import SwitchboardCore

/// Encodes a response straight into bytes, with the output of Foundation's `JSONEncoder` set
/// to `.withoutEscapingSlashes` (keys in the order they are encoded, integers and floats written
/// alike, `null` for an explicit nil) but without its intermediate tree: a page of 100 calls
/// spent most of its time there (`bench api`, docs/performance.md).
///
/// Containers are closed when the value that opened them returns from `encode(to:)`, so a
/// value must finish a nested container before writing to its parent again — what synthesized
/// conformances and ours do. Writing to a container after it was closed throws rather than
/// writing a wrong document. `codingPath` is not tracked (always empty).
struct ByteJSONEncoder {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let sink = try JSONSink.encoding(value)
        return [UInt8](UnsafeBufferPointer(start: sink.base, count: sink.count))
    }

    /// The document in a buffer for a response body: one copy of the bytes, not two.
    static func encodeBuffer(_ value: some Encodable) throws -> ByteBuffer {
        let sink = try JSONSink.encoding(value)
        var buffer = ByteBufferAllocator().buffer(capacity: sink.count)
        buffer.writeBytes(UnsafeRawBufferPointer(start: sink.base, count: sink.count))
        return buffer
    }

    /// The byte writer for a `JSONFields` value being encoded by this encoder (nil for any
    /// other): its fields go into the object the encoder would have given it.
    static func fieldWriter(_ encoder: any Encoder) -> (some JSONFieldWriter)? {
        guard let encoder = encoder as? ValueEncoder else { return nil as SinkFieldWriter? }
        return SinkFieldWriter(sink: encoder.sink, encoder.objectSlot())
    }
}

private final class JSONSink {
    // The document so far, in memory of its own: appending to a class-held `[UInt8]` checked
    // the array's uniqueness and capacity, and retained it, on every append (most of a page's
    // encoding time was appends). One encode owns its sink, on one thread, and never holds an
    // access across a call, so exclusivity goes unchecked: the runtime's check of each access
    // was a tenth of a page's time.
    @exclusivity(unchecked) private(set) var base: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private(set) var count = 0
    @exclusivity(unchecked) private var capacity: Int
    /// Open containers, innermost last: each with how many members it has so far, and an id no
    /// other container had (a stale container must not write into a new one at its depth).
    @exclusivity(unchecked) var open: [(isObject: Bool, count: Int, id: Int)] = []
    private var lastID = 0
    /// A key (or a superEncoder) was written and its value has not started.
    var awaitingValue = false
    /// A nested container or superEncoder was asked of a closed container (they cannot throw).
    var misused = false
    static let misuse = EncodingError.invalidValue((), .init(codingPath: [], debugDescription: "a container was written to after it was closed"))

    init() {
        capacity = 16_384
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    static func encoding(_ value: some Encodable) throws -> JSONSink {
        let sink = JSONSink()
        try sink.encodeValue(value, depth: 0)
        if sink.misused { throw misuse }
        return sink
    }

    @inline(__always) private func reserve(_ more: Int) {
        if count + more > capacity { grow(to: count + more) }
    }

    private func grow(to needed: Int) {
        let bigger = Swift.max(capacity * 2, needed)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: bigger)
        moved.initialize(from: base, count: count)
        base.deallocate()
        (base, capacity) = (moved, bigger)
    }

    @inline(__always) func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always) func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let start = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).initialize(from: start, count: bytes.count)
        count += bytes.count
    }

    @inline(__always) func append(_ text: StaticString) { text.withUTF8Buffer { append($0) } }

    func append(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    /// Closes the containers above `depth`, as their values are done.
    func unwind(to depth: Int) {
        if awaitingValue { append("{}"); awaitingValue = false }
        while open.count > depth {
            append(open.removeLast().isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    /// Makes the container `id` at `depth` (1-based) the innermost and starts a member in it.
    func member(of depth: Int, id: Int) throws {
        guard depth <= open.count, open[depth - 1].id == id else { misused = true; throw Self.misuse }
        unwind(to: depth)
        if open[depth - 1].count > 0 { append(UInt8(ascii: ",")) }
        open[depth - 1].count += 1
    }

    func key(_ key: some CodingKey, in depth: Int, id: Int) throws {
        try member(of: depth, id: id)
        string(key.stringValue)
        append(UInt8(ascii: ":"))
    }

    /// A literal key, which needs no escape (ours are field names), written with its quotes
    /// and colon after one check of the room: a page of calls writes three thousand.
    func key(_ key: StaticString, in depth: Int, id: Int) throws {
        try member(of: depth, id: id)
        // Through `withUTF8Buffer`: a one-character literal may be stored as a scalar, which
        // has no `utf8Start`.
        key.withUTF8Buffer { name in
            reserve(name.count + 3)
            base[count] = UInt8(ascii: "\"")
            if let start = name.baseAddress { (base + count + 1).initialize(from: start, count: name.count) }
            base[count + 1 + name.count] = UInt8(ascii: "\"")
            base[count + 2 + name.count] = UInt8(ascii: ":")
            count += name.count + 3
        }
    }

    /// Opens an object or an array for the value being written; returns its depth and id.
    func openContainer(object: Bool) -> (depth: Int, id: Int) {
        awaitingValue = false
        append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        lastID += 1
        open.append((object, 0, lastID))
        return (open.count, lastID)
    }

    /// Writes `value`, whose slot (a key, an array comma, the top) is already written; `depth`
    /// is the number of containers open around it.
    func encodeValue(_ value: some Encodable, depth: Int) throws {
        awaitingValue = false
        // Compared by type first: a cast per value is what made the runtime's casts show up.
        let type = type(of: value)
        if type == String.self, let text = value as? String { return string(text) }
        if type == URL.self, let url = value as? URL { return string(url.absoluteString) }
        if type == Data.self, let data = value as? Data { return string(data.base64EncodedString()) }
        if type == JSONValue.self, let json = value as? JSONValue { return try write(json) }
        let start = count
        try value.encode(to: ValueEncoder(sink: self, depth: depth))
        unwind(to: depth)
        if count == start { append("{}") }
    }

    /// A `JSONValue` as its `encode(to:)` writes it (whole numbers as integers), without a
    /// container per node: settings and lead fields are trees of these.
    func write(_ json: JSONValue) throws {
        awaitingValue = false
        switch json {
        case .string(let text): string(text)
        case .number(let number):
            if let whole = JSONValue.integer(number) { integer(whole) } else { try float(number) }
        case .bool(let value): bool(value)
        case .null: null()
        case .array(let items):
            append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { append(UInt8(ascii: ",")) }
                try write(item)
            }
            append(UInt8(ascii: "]"))
        case .object(let members):
            append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { append(UInt8(ascii: ",")) }
                string(key)
                append(UInt8(ascii: ":"))
                try write(value)
            }
            append(UInt8(ascii: "}"))
        }
    }

    /// A timestamp as a string, its digits written in place (no `String` made).
    func timestamp(_ date: Date, _ style: Timestamps.Style) {
        awaitingValue = false
        reserve(Timestamps.maxLength + 2)
        base[count] = UInt8(ascii: "\"")
        let written = Timestamps.write(date, style, into: UnsafeMutableBufferPointer(start: base + count + 1, count: Timestamps.maxLength))
        base[count + 1 + written] = UInt8(ascii: "\"")
        count += written + 2
    }

    func null() { awaitingValue = false; append("null") }
    func bool(_ value: Bool) { awaitingValue = false; append(value ? "true" : "false") }
    func integer(_ value: some BinaryInteger) {
        awaitingValue = false
        guard var magnitude = UInt64(exactly: value.magnitude) else { return append(String(value)) }
        if value < 0 { append(UInt8(ascii: "-")) }
        // Digits written least significant first, then turned round: no String made.
        reserve(20)
        let start = count
        repeat {
            base[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            count += 1
            magnitude /= 10
        } while magnitude > 0
        var digits = UnsafeMutableBufferPointer(start: base + start, count: count - start)
        digits.reverse()
    }

    func float(_ value: some BinaryFloatingPoint & LosslessStringConvertible) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(Double(value), .init(codingPath: [], debugDescription: "\(value) is not valid in JSON"))
        }
        awaitingValue = false
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }  // as JSONEncoder writes 1.0: `1`
        append(text)
    }

    func string(_ value: String) {
        awaitingValue = false
        append(UInt8(ascii: "\""))
        // Most strings need no escape: one append of their UTF-8, scanned in place.
        var value = value
        let plain = value.withUTF8 { utf8 in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            append(utf8)
            return true
        }
        if plain { return append(UInt8(ascii: "\"")) }
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 8)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x08: out.append(contentsOf: #"\b"#.utf8)
            case 0x0C: out.append(contentsOf: #"\f"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.withUnsafeBufferPointer { append($0) }
        append(UInt8(ascii: "\""))
    }
}

/// The encoder one value is given: its containers open at `depth + 1`. Asking twice for a
/// keyed container gives the same object (how `Merged` and `Teli` put two types' fields in one).
private struct ValueEncoder: Encoder {
    let sink: JSONSink
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Keyed<Key>(sink: sink, objectSlot()))
    }

    /// The object this value writes into: the one it opened already, or a new one.
    func objectSlot() -> (depth: Int, id: Int) {
        let own = sink.open.count > depth && sink.open[depth].isObject
        return own ? (depth + 1, sink.open[depth].id) : sink.openContainer(object: true)
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let own = sink.open.count > depth && !sink.open[depth].isObject
        return Unkeyed(sink: sink, own ? (depth + 1, sink.open[depth].id) : sink.openContainer(object: false))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(sink: sink, depth: depth) }
}

private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let sink: JSONSink
    let depth: Int
    let id: Int

    init(sink: JSONSink, _ slot: (depth: Int, id: Int)) { (self.sink, depth, id) = (sink, slot.depth, slot.id) }
    var codingPath: [any CodingKey] { [] }

    func encodeNil(forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.null() }
    func encode(_ value: Bool, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.bool(value) }
    func encode(_ value: String, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.string(value) }
    func encode(_ value: Double, forKey key: Key) throws { try sink.key(key, in: depth, id: id); try sink.float(value) }
    func encode(_ value: Float, forKey key: Key) throws { try sink.key(key, in: depth, id: id); try sink.float(value) }
    func encode(_ value: Int, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func encode(_ value: Int8, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func encode(_ value: Int16, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func encode(_ value: Int32, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func encode(_ value: Int64, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func encode(_ value: UInt, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func encode(_ value: UInt8, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func encode(_ value: UInt16, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func encode(_ value: UInt32, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func encode(_ value: UInt64, forKey key: Key) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try sink.key(key, in: depth, id: id)
        try sink.encodeValue(value, depth: depth)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        try? sink.key(key, in: depth, id: id)  // misuse is kept in the sink and thrown at the end
        return KeyedEncodingContainer(Keyed<NestedKey>(sink: sink, sink.openContainer(object: true)))
    }

    func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        try? sink.key(key, in: depth, id: id)  // misuse is kept in the sink and thrown at the end
        return Unkeyed(sink: sink, sink.openContainer(object: false))
    }

    func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

    func superEncoder(forKey key: Key) -> any Encoder {
        try? sink.key(key, in: depth, id: id)  // misuse is kept in the sink and thrown at the end
        sink.awaitingValue = true
        return ValueEncoder(sink: sink, depth: depth)
    }
}

/// A `JSONFields` value's fields, written into its object without Codable's containers.
private struct SinkFieldWriter: JSONFieldWriter {
    let sink: JSONSink
    let depth: Int
    let id: Int

    init(sink: JSONSink, _ slot: (depth: Int, id: Int)) { (self.sink, depth, id) = (sink, slot.depth, slot.id) }

    func string(_ key: StaticString, _ value: String) throws { try sink.key(key, in: depth, id: id); sink.string(value) }
    func int(_ key: StaticString, _ value: Int) throws { try sink.key(key, in: depth, id: id); sink.integer(value) }
    func bool(_ key: StaticString, _ value: Bool) throws { try sink.key(key, in: depth, id: id); sink.bool(value) }
    func double(_ key: StaticString, _ value: Double) throws { try sink.key(key, in: depth, id: id); try sink.float(value) }
    func timestamp(_ key: StaticString, _ date: Date, _ style: Timestamps.Style) throws {
        try sink.key(key, in: depth, id: id)
        sink.timestamp(date, style)
    }
    func null(_ key: StaticString) throws { try sink.key(key, in: depth, id: id); sink.null() }
    /// Written in the order of the names, so a document does not change with a dictionary's.
    func counts(_ key: StaticString, _ value: [String: Int]) throws {
        try sink.key(key, in: depth, id: id)
        sink.append(UInt8(ascii: "{"))
        for (index, (name, count)) in value.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { sink.append(UInt8(ascii: ",")) }
            sink.string(name)
            sink.append(UInt8(ascii: ":"))
            sink.integer(count)
        }
        sink.append(UInt8(ascii: "}"))
    }
    func value(_ key: StaticString, _ value: some Encodable) throws {
        try sink.key(key, in: depth, id: id)
        try sink.encodeValue(value, depth: depth)
    }
}

private struct Unkeyed: UnkeyedEncodingContainer {
    let sink: JSONSink
    let depth: Int
    let id: Int

    init(sink: JSONSink, _ slot: (depth: Int, id: Int)) { (self.sink, depth, id) = (sink, slot.depth, slot.id) }
    var codingPath: [any CodingKey] { [] }
    var count: Int { sink.open.count >= depth && sink.open[depth - 1].id == id ? sink.open[depth - 1].count : 0 }

    func encodeNil() throws { try sink.member(of: depth, id: id); sink.null() }
    func encode(_ value: Bool) throws { try sink.member(of: depth, id: id); sink.bool(value) }
    func encode(_ value: String) throws { try sink.member(of: depth, id: id); sink.string(value) }
    func encode(_ value: Double) throws { try sink.member(of: depth, id: id); try sink.float(value) }
    func encode(_ value: Float) throws { try sink.member(of: depth, id: id); try sink.float(value) }
    func encode(_ value: Int) throws { try sink.member(of: depth, id: id); sink.integer(value) }
    func encode(_ value: Int64) throws { try sink.member(of: depth, id: id); sink.integer(value) }
    func encode<T: Encodable>(_ value: T) throws {
        try sink.member(of: depth, id: id)
        try sink.encodeValue(value, depth: depth)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        try? sink.member(of: depth, id: id)  // misuse is kept in the sink and thrown at the end
        return KeyedEncodingContainer(Keyed<NestedKey>(sink: sink, sink.openContainer(object: true)))
    }

    func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        try? sink.member(of: depth, id: id)  // misuse is kept in the sink and thrown at the end
        return Unkeyed(sink: sink, sink.openContainer(object: false))
    }

    func superEncoder() -> any Encoder {
        try? sink.member(of: depth, id: id)  // misuse is kept in the sink and thrown at the end
        sink.awaitingValue = true
        return ValueEncoder(sink: sink, depth: depth)
    }
}

private struct Single: SingleValueEncodingContainer {
    let sink: JSONSink
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    func encodeNil() throws { sink.null() }
    func encode(_ value: Bool) throws { sink.bool(value) }
    func encode(_ value: String) throws { sink.string(value) }
    func encode(_ value: Double) throws { try sink.float(value) }
    func encode(_ value: Float) throws { try sink.float(value) }
    func encode(_ value: Int) throws { sink.integer(value) }
    func encode(_ value: Int8) throws { sink.integer(value) }
    func encode(_ value: Int16) throws { sink.integer(value) }
    func encode(_ value: Int32) throws { sink.integer(value) }
    func encode(_ value: Int64) throws { sink.integer(value) }
    func encode(_ value: UInt) throws { sink.integer(value) }
    func encode(_ value: UInt8) throws { sink.integer(value) }
    func encode(_ value: UInt16) throws { sink.integer(value) }
    func encode(_ value: UInt32) throws { sink.integer(value) }
    func encode(_ value: UInt64) throws { sink.integer(value) }
    func encode<T: Encodable>(_ value: T) throws { try sink.encodeValue(value, depth: depth) }
}
