import Agents
import Foundation
import Logging
import SwitchboardCore

/// One call's conversation over Twilio ConversationRelay: Twilio does speech-to-text and
/// text-to-speech and sends JSON messages (`setup`, `prompt`, `interrupt`, `dtmf`, `error`);
/// the agent answers with `text` and hangs up with `end`. The transcript is what was said —
/// an interrupted answer is cut where the callee cut it.
struct RelaySession {
    let dialogue: CallDialogue
    let logger: Logger
    private(set) var transcript: [TranscriptTurn] = []
    private(set) var ended = false
    /// The agent handed the call to this number: the session ends, and Twilio dials it.
    private(set) var transfer: TransferRequest?
    private var partial = ""

    init(dialogue: CallDialogue, logger: Logger) {
        self.dialogue = dialogue
        self.logger = logger
    }

    /// Handles one message from Twilio; returns what to send back, in order.
    mutating func handle(_ message: JSONValue, now: Date) async -> [JSONValue] {
        switch message["type"]?.stringValue {
        case "setup":
            guard let greeting = dialogue.greeting, !greeting.isEmpty else { return [] }
            transcript.append(TranscriptTurn(role: .agent, content: greeting))
            return [Self.text(greeting)]
        case "prompt":
            partial += message["voicePrompt"]?.stringValue ?? ""
            guard message["last"] != .bool(false) else { return [] }
            let said = partial.trimmingCharacters(in: .whitespacesAndNewlines)
            partial = ""
            guard !said.isEmpty else { return [] }
            return await answer(said, now: now)
        case "dtmf":
            guard let digit = message["digit"]?.text else { return [] }
            return await answer("(pressed \(digit) on the keypad)", now: now)
        case "interrupt":
            if let heard = message["utteranceUntilInterrupt"]?.stringValue, let last = transcript.indices.last, transcript[last].role == .agent {
                transcript[last].content = heard
                transcript[last].interrupted = true
            }
            return []
        case "error":
            logger.warning("conversation relay error", metadata: ["description": "\(message["description"]?.stringValue ?? "")"])
            return []
        default:
            return []
        }
    }

    private mutating func answer(_ said: String, now: Date) async -> [JSONValue] {
        transcript.append(TranscriptTurn(role: .user, content: said))
        let reply = await dialogue.reply(to: transcript, now: now, logger: logger)
        var out: [JSONValue] = []
        if let text = reply.text {
            transcript.append(TranscriptTurn(role: .agent, content: text))
            out.append(Self.text(text))
        }
        if let request = reply.transfer {
            // Ending the session hands the call to the `<Connect action>`, which dials the person.
            transfer = request
            ended = true
            out.append(["type": "end", "handoffData": .string((["reason": "transfer", "transfer_to": .string(request.destination)] as JSONValue).jsonText)])
        } else if let reason = reply.end {
            ended = true
            out.append(["type": "end", "handoffData": .string((["reason": .string(reason)] as JSONValue).jsonText)])
        }
        return out
    }

    static func text(_ text: String) -> JSONValue { ["type": "text", "token": .string(text), "last": true] }
}
