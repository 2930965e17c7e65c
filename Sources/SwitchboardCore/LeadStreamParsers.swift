public enum LeadStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAJSONArray
    case malformedJSON(element: Int)
    case unterminatedJSON
    case missingPhoneColumn
    case malformedCSV(String)

    public var description: String {
        switch self {
        case .notAJSONArray: "body must be a JSON array of leads"
        case .malformedJSON(let element): "lead \(element) is not valid JSON"
        case .unterminatedJSON: "JSON array is not terminated"
        case .missingPhoneColumn: "CSV needs a phone_number column"
        case .malformedCSV(let reason): "CSV could not be read: \(reason)"
        }
    }
}

/// Cuts a JSON array arriving in chunks into its top-level elements, so a million leads are
/// decoded a chunk at a time and never held whole. It only frames (depth, strings, escapes);
/// each element is then decoded by a real JSON decoder, maybe on another core
/// (`JSONElementBlock`).
public struct JSONArrayFramer: Sendable {
    private enum Phase { case beforeArray, betweenElements, inElement, afterArray }
    private var phase = Phase.beforeArray
    /// The complete elements' bytes since the last cut, one after another, then the current
    /// element's so far; and where each complete one ends.
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var count = 0

    public init() {}

    /// The elements `bytes` completes, each as its own array.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(LeadStreamError) -> [[UInt8]] {
        try cut(bytes, elements: 1)?.elements ?? []
    }

    /// Adds `bytes`; once at least `elements` elements are complete, cuts them off as one
    /// block, else returns nil and keeps them.
    public mutating func cut(_ bytes: some Sequence<UInt8>, elements: Int) throws(LeadStreamError) -> JSONElementBlock? {
        // Copied once into an array: iterated as the generic sequence, each byte of the loop
        // went through the sequence's witness table (a caller in another module gets no
        // specialized copy), a fifth of a JSON upload's time.
        try frame(bytes as? [UInt8] ?? Array(bytes))
        guard ends.count >= elements, let end = ends.last else { return nil }
        let block = JSONElementBlock(bytes: Array(self.bytes[..<end]), ends: ends)
        self.bytes.removeFirst(end)
        ends.removeAll(keepingCapacity: true)
        return block
    }

    /// Throws unless the array ended; then returns the elements not yet cut.
    public mutating func finish() throws(LeadStreamError) -> JSONElementBlock? {
        guard phase == .afterArray else { throw phase == .beforeArray ? .notAJSONArray : .unterminatedJSON }
        defer { (bytes, ends) = ([], []) }
        return ends.isEmpty ? nil : JSONElementBlock(bytes: bytes, ends: ends)
    }

    private mutating func frame(_ input: [UInt8]) throws(LeadStreamError) {
        for byte in input {
            switch phase {
            case .beforeArray:
                if Self.isSpace(byte) { continue }
                guard byte == UInt8(ascii: "[") else { throw .notAJSONArray }
                phase = .betweenElements
            case .betweenElements:
                if Self.isSpace(byte) || byte == UInt8(ascii: ",") { continue }
                if byte == UInt8(ascii: "]") { phase = .afterArray; continue }
                phase = .inElement
                depth = 0
                inString = false
                escaped = false
                try consume(byte)
            case .inElement:
                try consume(byte)
            case .afterArray:
                guard Self.isSpace(byte) else { throw .notAJSONArray }
            }
        }
    }

    /// Adds a byte of the current element, and ends it at its last.
    private mutating func consume(_ byte: UInt8) throws(LeadStreamError) {
        if inString {
            bytes.append(byte)
            if escaped { escaped = false }
            else if byte == UInt8(ascii: "\\") { escaped = true }
            else if byte == UInt8(ascii: "\"") { inString = false; if depth == 0 { finishElement() } }
            return
        }
        switch byte {
        case UInt8(ascii: "\""):
            inString = true
            bytes.append(byte)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            bytes.append(byte)
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            if depth == 0 {
                // `]` closing the array right after a scalar element.
                guard byte == UInt8(ascii: "]") else { throw .malformedJSON(element: count) }
                finishElement()
                phase = .afterArray
                return
            }
            depth -= 1
            bytes.append(byte)
            if depth == 0 { finishElement() }
        case UInt8(ascii: ",") where depth == 0:
            finishElement()
        default:
            if depth == 0, Self.isSpace(byte) { return }
            bytes.append(byte)
        }
    }

    private mutating func finishElement() {
        if phase == .inElement { phase = .betweenElements }
        count += 1
        ends.append(bytes.count)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

/// Elements of a JSON array cut from a stream, their bytes in one array: `Sendable`, to be
/// decoded on another core while the stream goes on, and two allocations a block where an
/// array each was ten thousand.
public struct JSONElementBlock: Sendable {
    let bytes: [UInt8]
    /// Where each element ends in `bytes`; each begins where the one before ends.
    let ends: [Int]

    public var count: Int { ends.count }

    /// Each element's bytes as an array of its own.
    public var elements: [[UInt8]] {
        ends.indices.map { Array(bytes[start(of: $0)..<ends[$0]]) }
    }

    private func start(of element: Int) -> Int { element == 0 ? 0 : ends[element - 1] }

    /// Each element decoded, or the first that cannot be as `LeadStreamError.malformedJSON`
    /// (its index the block's plus `first`).
    public func values(first: Int) throws(LeadStreamError) -> [JSONValue] {
        try bytes.withUnsafeBufferPointer { (all) throws(LeadStreamError) -> [JSONValue] in
            var values: [JSONValue] = []
            values.reserveCapacity(ends.count)
            for i in ends.indices {
                guard let value = try? JSONValue(parsing: UnsafeBufferPointer(rebasing: all[start(of: i)..<ends[i]])) else {
                    throw .malformedJSON(element: first + i)
                }
                values.append(value)
            }
            return values
        }
    }
}

/// Which columns of a CSV make a lead: the phone number's, and the fields kept (every other
/// column when `fields` is nil). Names are the header's, as `CSVLeadParser.fieldName` reads them.
public struct CSVColumnMapping: Sendable, Equatable {
    public var phone: String
    public var fields: Set<String>?

    public init(phone: String, fields: Set<String>?) {
        self.phone = CSVLeadParser.fieldName(phone)
        self.fields = fields.map { Set($0.map(CSVLeadParser.fieldName)) }
    }
}

/// Reads CSV leads arriving in chunks: complete records are cut off as soon as a line break
/// outside quotes ends them; the header names the fields. Cutting is a scan for quotes and
/// line breaks; reading the records (`CSVRecordBlock.leads`) is most of the work, and may run
/// elsewhere, on another core.
public struct CSVLeadParser: Sendable {
    private var pending: [UInt8] = []
    private var scanned = 0
    private var inQuotes = false
    /// How many bytes of `pending` are complete records, and the line breaks that end them.
    private var complete = 0
    private var breaks = 0
    private var header: CSVHeader?
    private let mapping: CSVColumnMapping?

    /// Without a mapping the phone column is the first of `LeadInput.phoneKeys` the header has.
    public init(mapping: CSVColumnMapping? = nil) {
        self.mapping = mapping
    }

    /// A header as a lead's field name, which templates name: `First Name` → `first_name`
    /// (trimmed, lowercased, each run of spaces or hyphens an underscore).
    public static func fieldName(_ header: String) -> String {
        var name = ""
        var gap = false
        for character in header.trimmingWhitespace().lowercased() {
            if character == " " || character == "-" || character == "\t" {
                gap = true
                continue
            }
            if gap, !name.isEmpty { name.append("_") }
            gap = false
            name.append(character)
        }
        return name
    }

    /// The header and the first `rows` records of a CSV's beginning (a preview: a record cut
    /// off by the end of `bytes` is left out).
    public static func sample(_ bytes: [UInt8], rows: Int) -> (header: [String], rows: [[String]]) {
        let end = bytes.lastIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
        var header: [String]?
        var records: [[String]] = []
        for row in CSVRecords.read(Array(bytes[..<end])) where !row.allSatisfy(\.isEmpty) {
            if header == nil { header = row } else if records.count < rows { records.append(row) } else { break }
        }
        return (header ?? [], records)
    }

    /// The leads of every record `bytes` completes.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(LeadStreamError) -> [LeadInput] {
        try cut(bytes, records: 1)?.leads() ?? []
    }

    /// The leads of the records left, the last one ended by the end of the stream.
    public mutating func finish() throws(LeadStreamError) -> [LeadInput] {
        try cutRest()?.leads() ?? []
    }

    /// Adds `bytes`; once at least `records` line breaks end complete records, cuts them off
    /// (with the header's names, once it has come), else returns nil and keeps them.
    public mutating func cut(_ bytes: some Sequence<UInt8>, records: Int) throws(LeadStreamError) -> CSVRecordBlock? {
        pending.append(contentsOf: bytes)
        pending.withUnsafeBufferPointer { pending in
            while scanned < pending.count {
                let byte = pending[scanned]
                scanned += 1
                if byte == UInt8(ascii: "\"") { inQuotes.toggle() }
                else if byte == 0x0A, !inQuotes { complete = scanned; breaks += 1 }
            }
        }
        guard complete > 0, breaks >= records else { return nil }
        let block = Array(pending[..<complete])
        pending.removeFirst(complete)
        scanned = pending.count
        (complete, breaks) = (0, 0)
        return try self.block(block)
    }

    /// The records left at the end of the stream. Throws when a quote is never closed, or when
    /// no header came.
    public mutating func cutRest() throws(LeadStreamError) -> CSVRecordBlock? {
        defer { pending = [] }
        // A quote still open at the end would otherwise swallow every row after it into one field.
        if inQuotes { throw .malformedCSV("a quoted field is never closed") }
        let rest = try block(pending)
        if header == nil { throw .missingPhoneColumn }
        return rest
    }

    /// Complete records as a block to read; the first block whose records are not all blank
    /// holds the header, read here once more (a few thousand records, once an upload).
    private mutating func block(_ records: [UInt8]) throws(LeadStreamError) -> CSVRecordBlock? {
        if let header { return CSVRecordBlock(records: records, header: header, holdsHeader: false) }
        guard let names = CSVRecords.read(records).first(where: { !$0.allSatisfy(\.isEmpty) }) else { return nil }
        let header = try CSVHeader(names.map(Self.fieldName), mapping: mapping)
        self.header = header
        return CSVRecordBlock(records: records, header: header, holdsHeader: true)
    }
}

/// A CSV's field names, and which column is the phone number's.
struct CSVHeader: Sendable {
    let names: [String]
    let phoneColumn: Int
    /// The columns kept as fields (nil: every column but the phone number's).
    let kept: Set<String>?

    init(_ names: [String], mapping: CSVColumnMapping?) throws(LeadStreamError) {
        let phoneNames = mapping.map { [$0.phone] } ?? LeadInput.phoneKeys
        guard let column = phoneNames.lazy.compactMap({ names.firstIndex(of: $0) }).first else { throw .missingPhoneColumn }
        self.names = names
        phoneColumn = column
        kept = mapping?.fields
    }
}

/// Complete CSV records cut from a stream, with the header they are read by: `Sendable`, so
/// they can be read on another core while the stream goes on.
public struct CSVRecordBlock: Sendable {
    let records: [UInt8]
    let header: CSVHeader
    /// The block the header came in: its first record that is not blank is the header.
    let holdsHeader: Bool

    /// The block's size in bytes: more than the records it holds, as each takes at least one.
    public var byteCount: Int { records.count }

    /// Its records as leads, blank records left out.
    public func leads() -> [LeadInput] {
        var leads: [LeadInput] = []
        var skipping = holdsHeader
        let (names, phoneColumn) = (header.names, header.phoneColumn)
        for row in CSVRecords.read(records) where !row.allSatisfy(\.isEmpty) {
            if skipping { skipping = false; continue }
            var fields = [String: JSONValue](minimumCapacity: names.count)  // no regrowing as it fills
            for (i, value) in row.enumerated() where i != phoneColumn && i < names.count && !value.isEmpty
                && header.kept?.contains(names[i]) != false {
                fields[names[i]] = .string(value)
            }
            leads.append(LeadInput(phone: phoneColumn < row.count ? row[phoneColumn] : nil, fields: fields))
        }
        return leads
    }
}
