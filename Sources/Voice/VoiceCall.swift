import Agents
import Foundation
import Logging
import SwitchboardCore

/// How the pipeline listens: the endpointing silence that ends a caller's turn, and barge-in.
public struct VoicePipelineSettings: Sendable, Equatable {
    /// Silence after speech that ends the caller's turn.
    public var endSilenceMilliseconds = 600
    /// Caller speech over the agent stops its playback.
    public var bargeIn = true
    /// How long the caller must speak before it counts as speech (and as barge-in).
    public var speechStartMilliseconds = 100
    public init() {}
}

/// The speech services a call uses. Without speech-to-text the agent says its greeting and
/// the call ends; without text-to-speech nothing can be said.
public struct SpeechServices: Sendable {
    public var stt: (any SpeechToText)?
    public var tts: (any TextToSpeech)?
    public init(stt: (any SpeechToText)?, tts: (any TextToSpeech)?) {
        self.stt = stt
        self.tts = tts
    }
}

/// What a call's conversation left behind.
public struct VoiceCallResult: Sendable {
    public var transcript: [TranscriptTurn] = []
    /// Why the conversation ended, in words for the call's history.
    public var ended = ""
    /// The agent ended it (it hung up), rather than the callee or the carrier.
    public var endedByAgent = false
    /// Per answered turn: end of the caller's speech to the first agent frame sent, in ms.
    public var turnLatencies: [Double] = []
    /// The same, less the time the speech services and the agent took: the pipeline's own.
    public var pipelineLatencies: [Double] = []
    public var frames = 0
    /// Ticks that ran more than a frame behind their schedule.
    public var lateFrames = 0
    public var recordingPath: String?
    public var recordingSeconds: Double = 0
    /// Answering-machine detection heard a machine.
    public var answeredByMachine = false
    public var voicemailLeft = false
    /// The agent transferred the call here, and the carrier took it.
    public var transferredTo: String?

    public var end: ConversationEnd {
        ConversationEnd(reason: ended, answeredByMachine: answeredByMachine, voicemailLeft: voicemailLeft, transferredTo: transferredTo)
    }
}

/// One call's voice pipeline, on any transport: every 20 ms it takes the callee's frame, finds
/// speech in it (endpointing), and plays the next frame of the agent's voice. A caller's turn
/// goes to speech-to-text, then the agent, then text-to-speech sentence by sentence, played as
/// it arrives. Caller speech over the agent stops playback at once (barge-in) and the
/// transcript keeps only what was played. Keys pressed are turns too.
public struct VoiceCall: Sendable {
    let dialogue: CallDialogue
    let speech: SpeechServices
    let settings: VoicePipelineSettings
    let maxDuration: TimeInterval
    let recordingPath: String?
    let clock: any WallClock
    let logger: Logger

    public init(dialogue: CallDialogue, speech: SpeechServices, settings: VoicePipelineSettings = VoicePipelineSettings(),
                maxDuration: TimeInterval, recordingPath: String?, clock: any WallClock, logger: Logger) {
        self.dialogue = dialogue
        self.speech = speech
        self.settings = settings
        self.maxDuration = maxDuration
        self.recordingPath = recordingPath
        self.clock = clock
        self.logger = logger
    }

    public func run(_ transport: any VoiceTransport) async -> VoiceCallResult {
        var loop = TurnLoop(call: self, transport: transport)
        return await loop.run()
    }
}

/// What a turn's task tells the loop, which alone owns the call's state.
enum TurnEvent: Sendable {
    /// The caller's words, transcribed.
    case heard(turn: Int, text: String)
    /// A sentence the agent will say, and the frames of it made so far.
    case audio(turn: Int, sentence: Int, text: String, frames: [[Int16]], serviceMilliseconds: Double)
    case done(turn: Int, end: String?, transfer: TransferRequest? = nil)
    /// A transfer the agent asked for is over: taken by the carrier (no failure), or not.
    case transferred(TransferRequest, failure: String?)
}

/// The loop's state and its tick; runs on the call's task.
struct TurnLoop {
    let call: VoiceCall
    let transport: any VoiceTransport
    private let events = Locked<[TurnEvent]>([])
    private var vad: VoiceActivityDetector
    private var result = VoiceCallResult()
    private var recording: CallRecording?
    private var started = ContinuousClock.now

    /// The turn whose audio plays; events of older turns are stale.
    private var turn = 0
    private var task: Task<Void, Never>?
    private var turnDone = true
    /// When the caller's speech ended for the current turn, and what the services took.
    private var turnEndOfSpeech: ContinuousClock.Instant?
    private var serviceMilliseconds: Double = 0
    private var playout: [(sentence: Int, frame: [Int16])] = []
    private var playoutHead = 0
    /// The agent's turn being played: its transcript index and each sentence's text and frames.
    private var agentTurn: Int?
    private var sentences: [Int: (text: String, queued: Int, played: Int)] = [:]
    private var ending: String?
    private var endedByAgent = false
    /// What the agent was told that nobody said (a failed transfer): kept in what it is given
    /// at every later turn, never in the transcript.
    private var notes: [TranscriptTurn] = []
    /// A transfer waits for the agent's words before it to be played; then runs.
    private var pendingTransfer: TransferRequest?
    private var transferring = false
    /// Before the conversation, with a voicemail message to leave: who answered, then (for a
    /// machine) the end of its greeting.
    private enum Phase {
        case detecting(AnsweringMachineDetector)
        case awaitingBeep(BeepDetector, quiet: Int, waited: Int, beeped: Bool)
        case talking
    }
    private var phase = Phase.talking

    init(call: VoiceCall, transport: any VoiceTransport) {
        self.call = call
        self.transport = transport
        vad = VoiceActivityDetector(endSilenceMilliseconds: call.settings.endSilenceMilliseconds,
                                    startMilliseconds: call.settings.speechStartMilliseconds)
    }

    private var elapsed: Double { (ContinuousClock.now - started).timeInterval }

    private var playing: Bool { playoutHead < playout.count }

    /// Whether the callee's words start a turn: not once the call is ending or being handed over.
    private var listening: Bool { ending == nil && pendingTransfer == nil && !transferring }

    mutating func run() async -> VoiceCallResult {
        if let path = call.recordingPath {
            do { recording = try CallRecording(path: path) }
            catch { call.logger.error("call not recorded", metadata: ["error": "\(error)"]) }
        }
        started = ContinuousClock.now
        if call.speech.tts != nil, call.dialogue.voicemailMessage?.isEmpty == false {
            phase = .detecting(AnsweringMachineDetector())
        } else if call.speech.tts != nil, let greeting = call.dialogue.greeting, !greeting.isEmpty {
            startTurn(greeting: greeting)
        } else if call.speech.stt == nil {
            ending = "no speech-to-text configured"
        } else if call.speech.tts == nil {
            ending = "no text-to-speech available"
        }
        let limit = started + .seconds(call.maxDuration)
        var next = started
        var why: String?
        while why == nil {
            next += Telephony.frameDuration
            let now = ContinuousClock.now
            if now < next {
                try? await Task.sleep(until: next, tolerance: .milliseconds(2))
            } else if now - next > Telephony.frameDuration {
                result.lateFrames += 1
                // Behind, the ticks run back to back until they catch up, so no frame the callee
                // sent is lost; a stall of over a second starts the schedule again instead.
                if now - next > .seconds(1) { next = now }
            }
            if Task.isCancelled { why = "the call ended"; break }
            why = tick(now: ContinuousClock.now, limit: limit)
        }
        task?.cancel()
        if endedByAgent { await transport.hangUp() }
        result.ended = why ?? ""
        result.endedByAgent = endedByAgent
        if var recording {
            recording.close()
            result.recordingPath = recording.path
            result.recordingSeconds = recording.seconds
        }
        return result
    }

    /// One 20 ms step; the reason the call ends, when it does.
    private mutating func tick(now: ContinuousClock.Instant, limit: ContinuousClock.Instant) -> String? {
        result.frames += 1
        let input = transport.receive()
        if input.closed { return "the callee hung up" }
        if now >= limit {
            endedByAgent = true
            return "hung up at the \(Int(call.maxDuration)) s call limit"
        }
        let callerFrame = input.frame ?? Telephony.silence
        if listenForMachine(callerFrame) { return finish(callerFrame: callerFrame, now: now) }
        switch vad.process(callerFrame) {
        case .speechStarted?:
            if playing, call.settings.bargeIn { interrupt() }
            else if !turnDone, !playing { cancelTurn() } // the caller goes on: answer all of it
        case .utterance(let samples)?:
            if listening { startTurn(utterance: samples, at: now) }
        case nil: break
        }
        for digit in input.digits where listening {
            if playing { interrupt() }
            startTurn(said: "(pressed \(digit) on the keypad)", at: now)
        }
        return finish(callerFrame: callerFrame, now: now)
    }

    /// The tick's second half: the agent's next frame out, both into the recording, and the
    /// end once the agent's last words have played.
    private mutating func finish(callerFrame: [Int16], now: ContinuousClock.Instant) -> String? {
        var agentFrame: [Int16]?
        for event in events.withLock({ events in defer { events = [] }; return events }) { apply(event) }
        if playing {
            let (sentence, frame) = playout[playoutHead]
            playoutHead += 1
            agentFrame = frame
            played(sentence: sentence, now: now)
            if playoutHead == playout.count { playout = []; playoutHead = 0 }
        }
        transport.send(agentFrame)
        recording?.append(caller: callerFrame, agent: agentFrame ?? Telephony.silence)

        // The agent's words before the transfer are out: hand the call over.
        if let request = pendingTransfer, turnDone, !playing {
            pendingTransfer = nil
            transferring = true
            let (transport, events) = (transport, events)
            Task {
                let failure = await transport.transfer(request)
                events.withLock { $0.append(.transferred(request, failure: failure)) }
            }
        }

        if let ending, turnDone, !playing, !transferring {
            endedByAgent = true
            if ending == Self.voicemailLeft { result.voicemailLeft = true }
            return ending
        }
        return nil
    }

    static let voicemailLeft = "voicemail message left"

    /// While a voicemail message waits to be left, the first seconds decide who answered: a
    /// person hears the greeting once they have said their first words; a machine hears the
    /// message once its greeting is over (its beep, or a second and a half of quiet). True
    /// while the tick belongs to that (the callee's frame is no turn).
    private mutating func listenForMachine(_ frame: [Int16]) -> Bool {
        switch phase {
        case .talking:
            return false
        case .detecting(var detector):
            switch detector.process(frame) {
            case .human?:
                phase = .talking
                if let greeting = call.dialogue.greeting, !greeting.isEmpty { startTurn(greeting: greeting) }
                else if call.speech.stt == nil { ending = "no speech-to-text configured" }
            case .machine?:
                result.answeredByMachine = true
                phase = .awaitingBeep(BeepDetector(), quiet: 0, waited: 0, beeped: false)
                call.logger.info("answering machine detected; waiting for the end of its greeting")
            case nil:
                phase = .detecting(detector)
            }
            return true
        case .awaitingBeep(var beep, let quiet, let waited, let beeped):
            let heardBeep = beeped || beep.process(frame)
            let quiet = Telephony.rms(frame) > 300 ? 0 : quiet + 1
            // After the beep, as soon as it stops; without one, after 1.5 s of quiet; a greeting
            // that never stops gets the message after 30 s.
            if (heardBeep && quiet >= 3) || quiet >= 75 || waited >= 1_500 {
                phase = .talking
                startTurn(greeting: call.dialogue.voicemailMessage ?? "", then: Self.voicemailLeft)
            } else {
                phase = .awaitingBeep(beep, quiet: quiet, waited: waited + 1, beeped: heardBeep)
            }
            return true
        }
    }

    private mutating func apply(_ event: TurnEvent) {
        switch event {
        case .heard(let id, let text):
            guard id == turn else { return }
            result.transcript.append(TranscriptTurn(role: .user, content: text, at: elapsed))
        case .audio(let id, let sentence, let text, let frames, let service):
            guard id == turn else { return }
            if sentences[sentence] == nil {
                sentences[sentence] = (text, 0, 0)
                if sentence == 0 { serviceMilliseconds = service }
            }
            sentences[sentence]!.queued += frames.count
            playout += frames.map { (sentence, $0) }
        case .done(let id, let end, let transfer):
            guard id == turn else { return }
            turnDone = true
            task = nil
            if let end, ending == nil { ending = end }
            if let transfer { pendingTransfer = transfer }
        case .transferred(let request, let failure):
            let destination = request.destination
            transferring = false
            if let failure {
                call.logger.notice("transfer failed", metadata: ["to": "\(destination)", "why": "\(failure)"])
                startTurn(note: "(The transfer to a colleague did not go through: \(failure). Tell the lead, and carry on.)")
            } else {
                // Whatever the callee said meanwhile is for the person who takes the call.
                cancelTurn()
                result.transferredTo = destination
                ending = "transferred to \(destination)"
            }
        }
    }

    /// A frame of `sentence` went out: the agent's turn enters the transcript with its first
    /// frame, and each sentence with its own first frame.
    private mutating func played(sentence: Int, now: ContinuousClock.Instant) {
        guard var entry = sentences[sentence] else { return }
        if agentTurn == nil {
            agentTurn = result.transcript.count
            result.transcript.append(TranscriptTurn(role: .agent, content: "", at: elapsed))
            if let endOfSpeech = turnEndOfSpeech {
                let total = (now - endOfSpeech).timeInterval * 1000
                result.turnLatencies.append(total)
                result.pipelineLatencies.append(max(0, total - serviceMilliseconds))
                turnEndOfSpeech = nil
            }
        }
        if entry.played == 0, let index = agentTurn {
            let content = result.transcript[index].content
            result.transcript[index].content = content.isEmpty ? entry.text : content + " " + entry.text
        }
        entry.played += 1
        sentences[sentence] = entry
    }

    /// Barge-in: playback stops now, the far end drops what it holds, and the agent's turn
    /// keeps the words that were played.
    private mutating func interrupt() {
        if let index = agentTurn {
            let heard = sentences.keys.sorted().compactMap { key -> String? in
                let entry = sentences[key]!
                guard entry.played > 0 else { return nil }
                return entry.played >= entry.queued && turnDone ? entry.text
                    : Sentences.prefix(entry.text, fraction: Double(entry.played) / Double(max(1, entry.queued)))
            }.filter { !$0.isEmpty }.joined(separator: " ")
            result.transcript[index].content = heard
            result.transcript[index].interrupted = true
        }
        transport.clear()
        cancelTurn()
    }

    private mutating func cancelTurn() {
        task?.cancel()
        task = nil
        turnDone = true
        playout = []
        playoutHead = 0
        agentTurn = nil
        sentences = [:]
        turn += 1
    }

    private mutating func beginTurn() -> Int {
        cancelTurn()
        turnDone = false
        return turn
    }

    /// The agent speaks first: its greeting (the call ends after it without speech-to-text), or
    /// a voicemail message (`then` ends the call).
    private mutating func startTurn(greeting: String, then end: String? = nil) {
        let id = beginTurn()
        let (tts, events, options) = (call.speech.tts, events, call.dialogue.speech)
        let logger = call.logger
        let end = end ?? (call.speech.stt == nil ? "no speech-to-text configured" : nil)
        task = Task {
            let began = ContinuousClock.now
            await Self.speak(greeting, turn: id, tts: tts, options: options, began: began, events: events, logger: logger)
            events.withLock { $0.append(.done(turn: id, end: end)) }
        }
    }

    private mutating func startTurn(utterance: [Int16], at now: ContinuousClock.Instant) {
        guard let stt = call.speech.stt else { return }
        let id = beginTurn()
        turnEndOfSpeech = now
        let context = turnContext()
        task = Task {
            let began = ContinuousClock.now
            let text: String
            do { text = try await stt.transcribe(utterance, sampleRate: Telephony.sampleRate, options: context.dialogue.speech) }
            catch {
                context.logger.warning("speech-to-text failed", metadata: ["error": "\(error)"])
                context.events.withLock { $0.append(.done(turn: id, end: nil)) }
                return
            }
            await Self.answer(text, turn: id, context: context, began: began)
        }
    }

    private mutating func startTurn(said text: String, at now: ContinuousClock.Instant) {
        let id = beginTurn()
        turnEndOfSpeech = now
        let context = turnContext()
        task = Task { await Self.answer(text, turn: id, context: context, began: ContinuousClock.now) }
    }

    /// Something the agent must know that nobody said (a failed transfer): it answers it, and
    /// the note is not in the transcript.
    private mutating func startTurn(note: String) {
        notes.append(TranscriptTurn(role: .user, content: note))
        let id = beginTurn()
        let context = turnContext()
        task = Task { await Self.answer(note, turn: id, context: context, began: ContinuousClock.now, heard: false) }
    }

    struct TurnContext: Sendable {
        let dialogue: CallDialogue
        let tts: (any TextToSpeech)?
        let events: Locked<[TurnEvent]>
        let transcript: [TranscriptTurn]
        let clock: any WallClock
        let logger: Logger
    }

    private func turnContext() -> TurnContext {
        TurnContext(dialogue: call.dialogue, tts: call.speech.tts, events: events, transcript: result.transcript + notes, clock: call.clock,
                    logger: call.logger)
    }

    /// The caller said `text`: the agent answers and its answer is spoken.
    private static func answer(_ text: String, turn id: Int, context: TurnContext, began: ContinuousClock.Instant, heard: Bool = true) async {
        let said = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !said.isEmpty, !Task.isCancelled else {
            context.events.withLock { $0.append(.done(turn: id, end: nil)) }
            return
        }
        if heard { context.events.withLock { $0.append(.heard(turn: id, text: said)) } }
        let history = heard ? context.transcript + [TranscriptTurn(role: .user, content: said)] : context.transcript
        let reply = await context.dialogue.reply(to: history,
                                                 now: context.clock.now(), logger: context.logger)
        if let words = reply.text, !Task.isCancelled {
            await speak(words, turn: id, tts: context.tts, options: context.dialogue.speech, began: began, events: context.events,
                        logger: context.logger)
        }
        context.events.withLock { $0.append(.done(turn: id, end: reply.end, transfer: reply.transfer)) }
    }

    /// Synthesizes `text` sentence by sentence and hands each frame group to the loop as it comes.
    private static func speak(_ text: String, turn id: Int, tts: (any TextToSpeech)?, options: SpeechOptions,
                              began: ContinuousClock.Instant, events: Locked<[TurnEvent]>, logger: Logger) async {
        guard let tts else { return }
        for (index, sentence) in Sentences.split(text).enumerated() {
            var carry: [Int16] = []
            var sentAny = false
            func post(_ frames: [[Int16]]) {
                let service = (ContinuousClock.now - began).timeInterval * 1000
                events.withLock { $0.append(.audio(turn: id, sentence: index, text: sentence, frames: frames, serviceMilliseconds: service)) }
                sentAny = true
            }
            do {
                for try await chunk in tts.synthesize(sentence, options: options) {
                    if Task.isCancelled { return }
                    carry += chunk
                    let whole = carry.count / Telephony.samplesPerFrame * Telephony.samplesPerFrame
                    guard whole > 0 else { continue }
                    post(Telephony.frames(Array(carry[..<whole])))
                    carry.removeFirst(whole)
                }
                if !carry.isEmpty || !sentAny { post(Telephony.frames(carry)) }
            } catch {
                logger.warning("text-to-speech failed", metadata: ["error": "\(error)"])
                return
            }
        }
    }
}
