import Agents
import Foundation
import Logging
import Store
import SwitchboardCore

/// One call's conversation over Twilio ConversationRelay: Twilio does speech-to-text and
/// text-to-speech and sends JSON messages (`setup`, `prompt`, `interrupt`, `dtmf`, `error`);
/// the agent answers with `text` and hangs up with `end`. The transcript is what was said —
/// an interrupted answer is cut where the callee cut it. Without a language model the agent
/// speaks its scripted greeting and ends the call at the callee's first words rather than
/// improvise.
struct RelaySession {
    let agent: ConversationAgent?
    let profile: AgentProfile
    let lead: [String: JSONValue]
    let greeting: String?
    let logger: Logger
    private(set) var transcript: [TranscriptTurn] = []
    private(set) var ended = false
    private var partial = ""

    init(agent: ConversationAgent?, profile: AgentProfile, lead: [String: JSONValue], greeting: String?, logger: Logger) {
        self.agent = agent
        self.profile = profile
        self.lead = lead
        self.greeting = greeting
        self.logger = logger
    }

    /// Handles one message from Twilio; returns what to send back, in order.
    mutating func handle(_ message: JSONValue, now: Date) async -> [JSONValue] {
        switch message["type"]?.stringValue {
        case "setup":
            guard let greeting, !greeting.isEmpty else { return [] }
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
        guard let agent else { return end(reason: "no language model configured") }
        do {
            let turn = try await agent.respond(profile, lead: lead, history: history, now: now)
            var out: [JSONValue] = []
            if let reply = turn.reply {
                transcript.append(TranscriptTurn(role: .agent, content: reply))
                out.append(Self.text(reply))
            }
            if turn.actions.contains(where: { if case .endConversation = $0 { true } else { false } }) {
                out += end(reason: "conversation ended by the agent")
            }
            return out
        } catch {
            logger.warning("voice agent failed", metadata: ["error": "\(error)"])
            return end(reason: "agent unavailable")
        }
    }

    private mutating func end(reason: String) -> [JSONValue] {
        ended = true
        return [["type": "end", "handoffData": .string((["reason": .string(reason)] as JSONValue).jsonText)]]
    }

    var history: [ChatMessage] {
        transcript.map { ChatMessage($0.role == .agent ? .assistant : .user, $0.content) }
    }

    /// After the call: the agent's extraction of its fields (nil without a model or fields).
    func extraction() async -> [String: JSONValue]? {
        guard let agent, !profile.extractionFields.isEmpty, transcript.contains(where: { $0.role == .user }) else { return nil }
        do { return try await agent.extract(profile, lead: lead, history: history).values }
        catch {
            logger.notice("call extraction failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    static func text(_ text: String) -> JSONValue { ["type": "text", "token": .string(text), "last": true] }
}
