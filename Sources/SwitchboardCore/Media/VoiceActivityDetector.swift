/// Finds where the caller speaks, frame by frame: energy above an adaptive noise floor.
/// Speech starts after `startFrames` loud frames in a row (short clicks are not speech) and
/// a turn ends after `endSilenceFrames` quiet ones (the endpointing silence).
public struct VoiceActivityDetector: Sendable {
    public enum Event: Sendable, Equatable {
        /// The caller started speaking; the frames of the start are in the utterance.
        case speechStarted
        /// The caller stopped speaking for the endpointing silence: one utterance.
        case utterance([Int16])
    }

    public var startFrames: Int
    public var endSilenceFrames: Int
    /// An utterance is cut here even without a pause.
    public var maxUtteranceFrames: Int
    /// Below this RMS nothing is speech, whatever the noise floor.
    public var minimumLevel: Double
    private var noiseFloor = 100.0
    private var loudRun = 0
    private var quietRun = 0
    private var speaking = false
    private var pending: [[Int16]] = []
    private var utterance: [Int16] = []

    public init(endSilenceMilliseconds: Int = 600, startMilliseconds: Int = 100, maxUtteranceSeconds: Int = 30, minimumLevel: Double = 300) {
        startFrames = max(1, startMilliseconds / Telephony.frameMilliseconds)
        endSilenceFrames = max(1, endSilenceMilliseconds / Telephony.frameMilliseconds)
        maxUtteranceFrames = maxUtteranceSeconds * 1000 / Telephony.frameMilliseconds
        self.minimumLevel = minimumLevel
    }

    public mutating func process(_ frame: [Int16]) -> Event? {
        let level = Telephony.rms(frame)
        let loud = level > max(minimumLevel, noiseFloor * 3)
        if !loud {
            // The floor follows quiet frames slowly, so a noisy line raises the bar.
            noiseFloor = noiseFloor * 0.95 + level * 0.05
        }
        if !speaking {
            if loud {
                loudRun += 1
                pending.append(frame)
                if loudRun >= startFrames {
                    speaking = true
                    quietRun = 0
                    utterance = pending.flatMap { $0 }
                    pending = []
                    return .speechStarted
                }
            } else {
                loudRun = 0
                pending = []
            }
            return nil
        }
        utterance += frame
        quietRun = loud ? 0 : quietRun + 1
        if quietRun >= endSilenceFrames || utterance.count >= maxUtteranceFrames * Telephony.samplesPerFrame {
            speaking = false
            loudRun = 0
            quietRun = 0
            defer { utterance = [] }
            return .utterance(utterance)
        }
        return nil
    }
}
