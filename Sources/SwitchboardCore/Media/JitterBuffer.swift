/// The receive side of RTP: packets arrive late, twice or out of order, and the pipeline takes
/// one 20 ms frame per tick. Holds `depth` frames before playing out, reorders by sequence
/// number, drops duplicates and what arrives after its turn, and answers nil for a lost frame.
public struct JitterBuffer<Frame: Sendable>: Sendable {
    public let depth: Int
    private var frames: [UInt16: Frame] = [:]
    /// The sequence number played out next; nil until the first packet.
    private var next: UInt16?
    private var primed = false
    public private(set) var lost = 0
    public private(set) var late = 0

    public init(depth: Int = 3) { self.depth = max(1, depth) }

    public mutating func insert(sequence: UInt16, _ frame: Frame) {
        guard let expected = next else {
            next = sequence
            frames[sequence] = frame
            return
        }
        // Within half the sequence space behind what we play is the past (RFC 3550 A.1 wrap rule).
        let behind = expected &- sequence
        if behind != 0, behind < 0x8000 { late += 1; return }
        // Far ahead means the sender jumped (a new talk spurt after a long gap): start over.
        if sequence &- expected > 500 { frames.removeAll(); next = sequence; primed = false }
        frames[sequence] = frame
        if frames.count > depth * 8 { resync() }
    }

    /// The frame due now: nil before the buffer has filled, or when that packet was lost.
    public mutating func pop() -> Frame? {
        guard let expected = next else { return nil }
        if !primed {
            guard frames.count >= depth else { return nil }
            primed = true
        }
        next = expected &+ 1
        if let frame = frames.removeValue(forKey: expected) { return frame }
        lost += 1
        if frames.isEmpty { primed = false } // the stream paused: refill before playing again
        return nil
    }

    /// Skips ahead to the oldest frame held, when the sender outran us.
    private mutating func resync() {
        guard let expected = next else { return }
        if let oldest = frames.keys.min(by: { ($0 &- expected) < ($1 &- expected) }) { next = oldest }
    }
}
