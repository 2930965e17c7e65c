/// What arrived from the callee in one 20 ms tick.
public struct TransportInput: Sendable, Equatable {
    /// The callee's audio for this tick; nil when none arrived in time (lost, or not sent).
    public var frame: [Int16]?
    /// Keys pressed since the last tick.
    public var digits: [Character]
    /// The callee hung up, or the carrier closed the media.
    public var closed: Bool

    public init(frame: [Int16]? = nil, digits: [Character] = [], closed: Bool = false) {
        self.frame = frame
        self.digits = digits
        self.closed = closed
    }
}

/// How a call's audio reaches the voice pipeline: RTP on a SIP trunk, or a carrier's media
/// WebSocket (Twilio Media Streams, Vobiz streams). The pipeline keeps time: every 20 ms it
/// takes one tick's input and hands one frame out, so no transport runs a clock of its own
/// (and a test can drive a call tick by tick).
public protocol VoiceTransport: Sendable {
    func receive() -> TransportInput
    /// One 20 ms frame of the agent's voice, or nil while the agent is silent (RTP sends
    /// silence to keep its timing; the carriers' sockets send nothing).
    func send(_ frame: [Int16]?)
    /// The callee spoke over the agent: drop whatever the far end still holds to play.
    func clear()
    /// The agent ends the call (for a socket: close it, so the carrier hangs up).
    func hangUp() async
    /// Hands the call to a person: nil once the carrier has taken it, else why not.
    func transfer(_ request: TransferRequest) async -> String?
}

extension VoiceTransport {
    public func transfer(_ request: TransferRequest) async -> String? { "this line cannot transfer calls" }
}

/// The agent hands its call to a person (`transfer_call`).
public struct TransferRequest: Sendable, Equatable {
    /// E.164.
    public var destination: String
    /// What the person hears before the caller is put through (a warm transfer); nil for a
    /// cold one.
    public var summary: String?

    public init(destination: String, summary: String? = nil) {
        self.destination = destination
        self.summary = summary
    }
}

/// Speech to text: one utterance, 8 kHz mono, to its words.
public protocol SpeechToText: Sendable {
    func transcribe(_ samples: [Int16], sampleRate: Int, options: SpeechOptions) async throws -> String
}

/// Text to speech, at 8 kHz, handed out as it is produced (the first words play while the
/// rest is still being made).
public protocol TextToSpeech: Sendable {
    func synthesize(_ text: String, options: SpeechOptions) -> AsyncThrowingStream<[Int16], any Error>
}

/// Speech services answered with something we cannot use, said in their words.
public struct SpeechServiceError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Splits a reply into sentences, each spoken as soon as it is synthesized: the first is heard
/// while the next is made.
public enum Sentences {
    public static func split(_ text: String) -> [String] {
        var sentences: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if ".!?;\n".contains(character), current.trimmingWhitespace().count > 1 {
                sentences.append(String(current.trimmingWhitespace()))
                current = ""
            }
        }
        let rest = String(current.trimmingWhitespace())
        if !rest.isEmpty { sentences.append(rest) }
        return sentences.filter { !$0.isEmpty }
    }

    /// The words of `text` heard when `fraction` of its audio was played.
    public static func prefix(_ text: String, fraction: Double) -> String {
        let words = text.split(separator: " ")
        let count = Int((Double(words.count) * min(1, max(0, fraction))).rounded())
        return words.prefix(count).joined(separator: " ")
    }
}
