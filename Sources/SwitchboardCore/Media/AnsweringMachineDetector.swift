/// Tells a person from an answering machine in the first seconds after answer, from the
/// cadence of what is heard, as carriers' detectors do: a person answers with a short word or
/// two ("Hello?") and then waits; a machine plays a long greeting without a pause for an
/// answer, often ending in a beep. Silence at first is not a machine: a person may wait to
/// hear who called.
public struct AnsweringMachineDetector: Sendable {
    public enum Verdict: Sendable, Equatable {
        case human
        case machine
    }

    /// Continuous speech (pauses shorter than `wordGap`) this long is a greeting, not a person.
    public var greetingMilliseconds = 2_200
    /// A pause this long after speech ends a person's answer; shorter pauses (between words
    /// and sentences of a greeting) count as part of the speech.
    public var answerSilenceMilliseconds = 800
    /// Undecided this long after the answer: a person (the cheaper mistake; see the README).
    public var decideWithinMilliseconds = 5_000

    private var frames = 0
    private var speechFrames = 0
    private var silenceRun = 0
    private var spoke = false
    private var beep = BeepDetector()
    public private(set) var verdict: Verdict?

    public init() {}

    static func frames(_ milliseconds: Int) -> Int { milliseconds / Telephony.frameMilliseconds }

    /// Takes the next 20 ms of the callee; the verdict once there is one.
    public mutating func process(_ frame: [Int16]) -> Verdict? {
        if let verdict { return verdict }
        frames += 1
        if beep.process(frame) { return decide(.machine) }
        let loud = Telephony.rms(frame) > 300
        if loud {
            spoke = true
            speechFrames += 1 + silenceRun // a short pause inside a greeting counts with it
            silenceRun = 0
            if speechFrames >= Self.frames(greetingMilliseconds) { return decide(.machine) }
        } else if spoke {
            silenceRun += 1
            // A pause after a short answer (a long one was decided above): a person waiting for us.
            if silenceRun >= Self.frames(answerSilenceMilliseconds) { return decide(.human) }
        }
        if frames >= Self.frames(decideWithinMilliseconds) { return decide(.human) }
        return nil
    }

    private mutating func decide(_ verdict: Verdict) -> Verdict {
        self.verdict = verdict
        return verdict
    }
}

/// A machine's beep: one steady tone (300–2,500 Hz) for at least 160 ms, found by how evenly
/// its zero crossings are spaced and how much of the frame's power one frequency holds.
public struct BeepDetector: Sendable {
    public var minimumMilliseconds = 160
    private var run = 0
    private var lastFrequency = 0.0

    public init() {}

    /// Whether the beep has now lasted long enough.
    public mutating func process(_ frame: [Int16]) -> Bool {
        guard let frequency = Self.tone(in: frame), run == 0 || abs(frequency - lastFrequency) < 40 else {
            run = 0
            return false
        }
        lastFrequency = frequency
        run += 1
        return run >= minimumMilliseconds / Telephony.frameMilliseconds
    }

    /// The frame's frequency when it is one steady tone, else nil.
    static func tone(in frame: [Int16]) -> Double? {
        guard Telephony.rms(frame) > 500 else { return nil }
        // Where the wave crosses zero, between samples (interpolated, so a tone whose period is
        // not a whole number of samples still has evenly spaced crossings).
        var crossings: [Double] = []
        for index in 1..<frame.count {
            let (before, after) = (Double(frame[index - 1]), Double(frame[index]))
            guard (before < 0) != (after < 0) else { continue }
            crossings.append(Double(index - 1) + before / (before - after))
        }
        guard crossings.count >= 6 else { return nil }
        let gaps = zip(crossings.dropFirst(), crossings).map { $0 - $1 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let spread = (gaps.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(gaps.count)).squareRoot()
        let frequency = Double(Telephony.sampleRate) / (2 * mean)
        // Speech's crossings wander; a tone's are even.
        guard (300...2_500).contains(frequency), spread < 0.1 * mean else { return nil }
        return frequency
    }
}
