import Foundation

/// A response object that lists its fields once, by hand, for two writers: `ByteJSONEncoder`,
/// which writes them straight into the response's bytes, and any other `Encoder` (Foundation's,
/// in the tests that hold ours to it) through a keyed container. For the objects a response
/// repeats by the hundred — a page of calls spent most of its time in Codable's dispatch of
/// each field through generic containers (docs/performance.md).
///
/// Conforming types implement `encode(to:)` as `try encodeFields(to: encoder)`, so the field
/// list is the only one.
protocol JSONFields: Encodable {
    func writeFields(to fields: inout some JSONFieldWriter) throws
}

extension JSONFields {
    func encodeFields(to encoder: any Encoder) throws {
        if var direct = ByteJSONEncoder.fieldWriter(encoder) { return try writeFields(to: &direct) }
        var keyed = KeyedFieldWriter(container: encoder.container(keyedBy: FieldKey.self))
        try writeFields(to: &keyed)
    }
}

/// Where a `JSONFields` object writes, field by field in order. Keys are literals; they are
/// written as they are, never escaped.
protocol JSONFieldWriter {
    mutating func string(_ key: StaticString, _ value: String) throws
    mutating func int(_ key: StaticString, _ value: Int) throws
    mutating func bool(_ key: StaticString, _ value: Bool) throws
    mutating func double(_ key: StaticString, _ value: Double) throws
    /// A date as a string in one of the APIs' shapes.
    mutating func timestamp(_ key: StaticString, _ date: Date, _ style: Timestamps.Style) throws
    mutating func null(_ key: StaticString) throws
    /// Counts by name (a progress's outcomes), as an object.
    mutating func counts(_ key: StaticString, _ value: [String: Int]) throws
    mutating func value(_ key: StaticString, _ value: some Encodable) throws
}

extension JSONFieldWriter {
    /// A string enum, as its raw value (what Codable writes for it).
    mutating func raw(_ key: StaticString, _ value: some RawRepresentable<String>) throws { try string(key, value.rawValue) }

    // A field the contract declares nullable: `null` when there is no value.
    mutating func string(_ key: StaticString, nullable value: String?) throws {
        if let value { try string(key, value) } else { try null(key) }
    }
    mutating func int(_ key: StaticString, nullable value: Int?) throws {
        if let value { try int(key, value) } else { try null(key) }
    }
    mutating func double(_ key: StaticString, nullable value: Double?) throws {
        if let value { try double(key, value) } else { try null(key) }
    }
    mutating func timestamp(_ key: StaticString, nullable date: Date?, _ style: Timestamps.Style) throws {
        if let date { try timestamp(key, date, style) } else { try null(key) }
    }
    mutating func raw(_ key: StaticString, nullable value: (some RawRepresentable<String>)?) throws {
        if let value { try string(key, value.rawValue) } else { try null(key) }
    }
    mutating func value(_ key: StaticString, nullable value: (some Encodable)?) throws {
        if let value { try self.value(key, value) } else { try null(key) }
    }

    /// A field left out when there is no value.
    mutating func value(_ key: StaticString, ifPresent value: (some Encodable)?) throws {
        if let value { try self.value(key, value) }
    }
    mutating func string(_ key: StaticString, ifPresent value: String?) throws {
        if let value { try string(key, value) }
    }
}

/// Fields through any `Encoder`'s keyed container.
private struct KeyedFieldWriter: JSONFieldWriter {
    var container: KeyedEncodingContainer<FieldKey>

    mutating func string(_ key: StaticString, _ value: String) throws { try container.encode(value, forKey: FieldKey(key)) }
    mutating func int(_ key: StaticString, _ value: Int) throws { try container.encode(value, forKey: FieldKey(key)) }
    mutating func bool(_ key: StaticString, _ value: Bool) throws { try container.encode(value, forKey: FieldKey(key)) }
    mutating func double(_ key: StaticString, _ value: Double) throws { try container.encode(value, forKey: FieldKey(key)) }
    mutating func timestamp(_ key: StaticString, _ date: Date, _ style: Timestamps.Style) throws {
        try container.encode(Timestamps.format(date, style), forKey: FieldKey(key))
    }
    mutating func null(_ key: StaticString) throws { try container.encodeNil(forKey: FieldKey(key)) }
    mutating func counts(_ key: StaticString, _ value: [String: Int]) throws { try container.encode(value, forKey: FieldKey(key)) }
    mutating func value(_ key: StaticString, _ value: some Encodable) throws { try container.encode(value, forKey: FieldKey(key)) }
}

private struct FieldKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ key: StaticString) { stringValue = key.description }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
