/// Remembers which phone numbers a stream has sent, in a fixed 8 MB, so that an upload can tell
/// its store whether any number may have come twice. On PostgreSQL that spares a million-lead
/// upload its exact check for repeats (a GROUP BY over every staged row, ~0.6 s).
///
/// A Bloom filter: it may take a number it never saw for one it did (`mayRepeat` turns true and
/// the caller checks exactly, as it would without the sieve), never the other way round. It is
/// split into blocks of one cache line, each number setting one bit in each of a block's eight
/// words, so a number costs one cache miss. Over a million numbers the chance that any is wrongly taken
/// for a repeat is about 3%; from about two million on, the exact check is the rule again.
public struct RepeatSieve: Sendable {
    private static let blockBits = 17
    private var words: [UInt64] = []
    /// Whether a number may have been inserted twice: certainly not while this is false.
    public private(set) var mayRepeat = false

    public init() {}

    /// Remembers the leads' numbers, in one call a chunk. The words are reached through one
    /// pointer, not checked for sharing at every write; and every number's place is worked
    /// out first, so that the loop that reads the words (each read a likely cache miss) has
    /// nothing else to wait for and the processor overlaps the misses.
    public mutating func insert(_ leads: [ValidLead]) {
        guard !mayRepeat, !leads.isEmpty else { return }
        if words.isEmpty { words = Array(repeating: 0, count: 8 << Self.blockBits) }
        let places = leads.map { Self.place(of: $0.phone) }
        mayRepeat = words.withUnsafeMutableBufferPointer { words in
            var seen = false
            for (block, bits) in places {
                var all = true
                for word in 0..<8 {
                    let mask: UInt64 = 1 << ((bits >> (6 * UInt64(word))) & 63)
                    let old = words[block &+ word]
                    all = all && old & mask != 0
                    words[block &+ word] = old | mask
                }
                seen = seen || all
            }
            return seen
        }
    }

    /// The number's block (its first word) and the bits it sets there, one in each word.
    private static func place(of number: PhoneNumber) -> (block: Int, bits: UInt64) {
        // E.164 has at most 15 digits: the digits as an integer are the number, with no loss.
        var value: UInt64 = 0
        for digit in number.e164.utf8.dropFirst() { value = value &* 10 &+ UInt64(digit &- 48) }
        let hash = mix(value)
        return (Int(hash >> (64 - blockBits)) &* 8, mix(hash))
    }

    /// splitmix64's finalizer: every input bit moves about half the output's.
    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
