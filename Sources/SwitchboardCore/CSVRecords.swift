/// Splits CSV bytes into records of fields, as RFC 4180 writes them: `,` between fields; LF,
/// CRLF or CR between records; a field in double quotes may hold commas, line breaks and `""`
/// for a quote. Whitespace around a field is dropped (spaces, tabs and the other Unicode space
/// separators); inside quotes it is kept. A closing quote followed by more text is read
/// leniently: the quote is kept as text and the field goes on to the next closing quote.
///
/// Our own reader, where the architecture names a CSV package: it reads bytes, and a field
/// becomes a `String` once, when it ends. The package reads `Unicode.Scalar`s one by one
/// through a type-erased iterator and trims each field through Foundation's `NSString`; that
/// was half of a million-lead upload's CPU time in `perf` (commit 02d629f).
public enum CSVRecords {
    public static func read(_ bytes: [UInt8]) -> [[String]] {
        bytes.withUnsafeBufferPointer { read($0) }
    }

    static func read(_ p: UnsafeBufferPointer<UInt8>) -> [[String]] {
        let n = p.count
        guard n > 0 else { return [] }
        var records: [[String]] = []
        var record: [String] = []
        var unquoted: [UInt8] = []
        var i = 0
        while true {
            i = skipSpaces(p, from: i)
            if i < n, p[i] == quote {
                // Quoted: copied out in runs between the quotes that escape a quote.
                unquoted.removeAll(keepingCapacity: true)
                i += 1
                var run = i
                var closed = false
                while i < n {
                    guard p[i] == quote else { i += 1; continue }
                    unquoted.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<i]))
                    if i + 1 < n, p[i + 1] == quote {
                        unquoted.append(quote)
                        i += 2
                        run = i
                        continue
                    }
                    i += 1
                    let next = skipSpaces(p, from: i)
                    if next == n || p[next] == comma || p[next] == cr || p[next] == lf {
                        i = next
                        closed = true
                        break
                    }
                    unquoted.append(quote)
                    run = i
                }
                if !closed { unquoted.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<n])) }
                record.append(String(decoding: unquoted, as: UTF8.self))
            } else {
                let start = i
                var end = i
                while i < n {
                    let byte = p[i]
                    if byte == comma || byte == cr || byte == lf { break }
                    let space = spaceWidth(p, at: i)
                    if space > 0 { i += space } else { i += 1; end = i }
                }
                record.append(String(decoding: UnsafeBufferPointer(rebasing: p[start..<end]), as: UTF8.self))
            }
            guard i < n else { break }
            if p[i] == comma {
                i += 1
                continue
            }
            i += p[i] == cr && i + 1 < n && p[i + 1] == lf ? 2 : 1
            records.append(record)
            record.removeAll(keepingCapacity: true)
            if i == n { return records }
        }
        records.append(record)
        return records
    }

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

    private static func skipSpaces(_ p: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < p.count {
            let width = spaceWidth(p, at: i)
            guard width > 0 else { break }
            i += width
        }
        return i
    }

    /// The bytes of the space at `i` (tab or Unicode's space separators, in UTF-8), or 0.
    private static func spaceWidth(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let byte = p[i]
        if byte == 0x20 || byte == 0x09 { return 1 }
        guard byte >= 0xC2 else { return 0 }
        let rest = p.count - i
        // U+00A0
        if byte == 0xC2 { return rest >= 2 && p[i + 1] == 0xA0 ? 2 : 0 }
        guard rest >= 3 else { return 0 }
        let (b1, b2) = (p[i + 1], p[i + 2])
        switch byte {
        case 0xE1: return b1 == 0x9A && b2 == 0x80 ? 3 : 0  // U+1680
        case 0xE2:  // U+2000…U+200A, U+202F, U+205F
            return (b1 == 0x80 && (0x80...0x8A).contains(b2)) || (b1 == 0x80 && b2 == 0xAF) || (b1 == 0x81 && b2 == 0x9F) ? 3 : 0
        case 0xE3: return b1 == 0x80 && b2 == 0x80 ? 3 : 0  // U+3000
        default: return 0
        }
    }
}
