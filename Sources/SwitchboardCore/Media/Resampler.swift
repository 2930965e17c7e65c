/// Changes audio's sample rate: what speech services return (24 kHz, 22.05 kHz, 16 kHz) to the
/// telephone's 8 kHz, as it streams in. Going down, each output sample averages the input
/// samples it stands for (a box filter, enough against aliasing for speech); going up, linear
/// interpolation. Input that an output sample still needs is kept for the next chunk, so
/// chunk boundaries leave no trace.
public struct Resampler: Sendable {
    public let source: Int
    public let target: Int
    private let ratio: Double
    private var pending: [Int16] = []
    /// The absolute index of `pending[0]` in the input.
    private var base = 0
    private var produced = 0

    public init(from source: Int, to target: Int) {
        self.source = max(1, source)
        self.target = max(1, target)
        ratio = Double(self.source) / Double(self.target)
    }

    public mutating func feed(_ input: [Int16]) -> [Int16] {
        if source == target { return input }
        pending += input
        var out = [Int16]()
        out.reserveCapacity(Int(Double(pending.count) / ratio) + 1)
        while true {
            let start = Int(Double(produced) * ratio)
            if ratio > 1 {
                let end = max(start + 1, Int(Double(produced + 1) * ratio))
                guard end - base <= pending.count else { break }
                var sum = 0
                for position in (start - base)..<(end - base) { sum += Int(pending[position]) }
                out.append(Int16(sum / (end - start)))
            } else {
                guard start + 1 - base < pending.count else { break }
                let fraction = Double(produced) * ratio - Double(start)
                let low = Double(pending[start - base]), high = Double(pending[start + 1 - base])
                out.append(Int16(low * (1 - fraction) + high * fraction))
            }
            produced += 1
        }
        let keepFrom = Int(Double(produced) * ratio)
        if keepFrom > base {
            pending.removeFirst(min(pending.count, keepFrom - base))
            base = keepFrom
        }
        return out
    }

    /// All of `samples` at once.
    public static func resample(_ samples: [Int16], from source: Int, to target: Int) -> [Int16] {
        var resampler = Resampler(from: source, to: target)
        return resampler.feed(samples)
    }
}
