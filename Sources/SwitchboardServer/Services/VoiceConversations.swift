import Agents
import Foundation
import Logging
import Store
import SwitchboardCore
import Voice

/// Holds a call's conversation through our voice pipeline, whatever carries its audio (RTP on
/// a SIP trunk in the dialer that placed it; Twilio's or Vobiz's media socket on the API
/// process it reached), and stores what it left: the transcript, the extracted fields, the
/// recording and the turn latency.
struct VoiceConversations: Sendable {
    let store: Store
    let dialogues: CallDialogues
    let speech: SpeechServices
    let settings: VoicePipelineSettings
    let recordings: RecordingsDirectory
    let clock: any WallClock
    let logger: Logger
    /// Tells this process's analyst a call is waiting (a no-op where none runs).
    var wakeAnalyst: @Sendable () -> Void = {}

    /// Talks on `transport` until the call ends; how it ended.
    func converse(attemptID: Int64, maxDuration: TimeInterval, transport: any VoiceTransport) async -> ConversationEnd {
        var logger = logger
        logger[metadataKey: "attempt_id"] = "\(attemptID)"
        do {
            guard let conversation = try await store.callConversation(attemptID: attemptID) else {
                logger.warning("media for an attempt we do not know; hanging up")
                return ConversationEnd(reason: "unknown attempt")
            }
            let call = conversation.call
            logger[metadataKey: "call_id"] = "\(call.id)"
            let dialogue = try await dialogues.dialogue(conversation)
            let recording = recordings.path(organizationID: call.organizationID, callID: call.id, attemptID: attemptID)
            let voice = VoiceCall(dialogue: dialogue, speech: speech, settings: settings, maxDuration: maxDuration,
                                  recordingPath: recordings.absolute(recording), clock: clock, logger: logger)
            let result = await voice.run(transport)
            try await dialogues.save(result.transcript, call: call, attemptID: attemptID, end: result.end, now: clock.now(), wake: wakeAnalyst)
            let latency = CallMedia.Latency(result.turnLatencies)
            try await store.saveCallMedia(callID: call.id, CallMedia(
                recording: result.recordingPath.map { _ in CallMedia.Recording(path: recording, seconds: result.recordingSeconds) },
                latency: latency))
            logger.info("call conversation stored", metadata: [
                "turns": "\(result.transcript.count)", "ended": "\(result.ended)", "late_frames": "\(result.lateFrames)",
                "turn_latency_p50_ms": "\(latency.map { Int($0.p50) } ?? 0)", "recording_sec": "\(result.recordingSeconds)",
            ])
            return result.end
        } catch {
            logger.error("voice conversation failed", metadata: ["error": "\(error)"])
            // A call-back ends here or nowhere (an outbound attempt's end comes from its dial).
            _ = try? await store.closeInboundCall(attemptID: attemptID, outcome: .failed, detail: "the conversation failed", transferredTo: nil,
                                                  callerSpoke: false, now: clock.now())
            return ConversationEnd(reason: "the conversation failed: \(error)")
        }
    }
}

extension VoiceConversations {
    /// Says `text` on `transport` at the pace it plays (a warm transfer's summary, to the person
    /// taking the call); nothing without text-to-speech.
    func say(_ text: String, on transport: any VoiceTransport) async {
        guard let tts = speech.tts else {
            logger.notice("no text-to-speech for a warm transfer's summary: the person is put through without it")
            return
        }
        var next = ContinuousClock.now
        do {
            for try await chunk in tts.synthesize(text, options: SpeechOptions()) {
                for frame in Telephony.frames(chunk) {
                    if transport.receive().closed { return }
                    transport.send(frame)
                    next += .milliseconds(20)
                    try await Task.sleep(until: next)
                }
            }
        } catch {
            logger.warning("a warm transfer's summary was not said", metadata: ["error": "\(error)"])
        }
    }
}

/// Where recordings are written (`SWITCHBOARD_RECORDINGS_DIR`): one WAV per answered attempt,
/// under its organization. Paths stored on calls are relative, so the directory can move.
struct RecordingsDirectory: Sendable {
    let root: String

    func path(organizationID: String, callID: String, attemptID: Int64) -> String {
        "\(Self.safe(organizationID))/\(Self.safe(callID))-\(attemptID).wav"
    }

    func absolute(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    func write(_ bytes: [UInt8], to relative: String) throws {
        let url = URL(fileURLWithPath: absolute(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url, options: .atomic)
    }

    /// Ids are ours, but a path is built from them: nothing but letters, digits, `-` and `_`.
    static func safe(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}
