import Foundation
import Logging
import SwitchboardCore

/// A voice call's agent, whatever carries the audio (ConversationRelay, our pipeline over SIP,
/// Twilio Media Streams or Vobiz streams): who it is, who it talks to, what it says first,
/// and its next words given what was said. Without a language model it speaks its greeting
/// and ends the call at the callee's first words rather than improvise.
public struct CallDialogue: Sendable {
    public let agent: ConversationAgent?
    public let profile: AgentProfile
    public let lead: [String: JSONValue]
    public let greeting: String?
    /// Said to an answering machine after its greeting; with it, the call listens for one.
    public var voicemailMessage: String?
    /// Per-agent speech settings (`stt_model`, `tts_model`, `voice`), nil for the defaults.
    public var speech: SpeechOptions

    public init(agent: ConversationAgent?, profile: AgentProfile, lead: [String: JSONValue], greeting: String?,
                voicemailMessage: String? = nil, speech: SpeechOptions = SpeechOptions()) {
        self.voicemailMessage = voicemailMessage
        self.agent = agent
        self.profile = profile
        self.lead = lead
        self.greeting = greeting
        self.speech = speech
    }

    /// The agent's words after the callee's, and the reason to hang up when it ends the call.
    public struct Reply: Sendable, Equatable {
        public var text: String?
        public var end: String?
        /// The agent asked to transfer the call, to the agent's number.
        public var transfer: TransferRequest?
        public init(text: String?, end: String?, transfer: TransferRequest? = nil) {
            self.text = text
            self.end = end
            self.transfer = transfer
        }
    }

    public func reply(to transcript: [TranscriptTurn], now: Date, logger: Logger) async -> Reply {
        guard let agent else { return Reply(text: nil, end: "no language model configured") }
        do {
            let turn = try await agent.respond(profile, lead: lead, history: Self.history(transcript), now: now)
            let ends = turn.actions.contains { if case .endConversation = $0 { true } else { false } }
            let transfer = turn.actions.lazy.compactMap { action -> TransferRequest? in
                guard case .transferCall(_, let summary) = action, let number = profile.transferNumber else { return nil }
                // A warm transfer without a summary from the model still says who is on the line.
                let told = summary.flatMap { $0.isEmpty ? nil : $0 } ?? "A call from \(lead["phone_number"]?.text ?? "a lead"), handed over by \(profile.name)."
                return TransferRequest(destination: number, summary: profile.warmTransfer ? told : nil)
            }.first
            return Reply(text: turn.reply, end: ends ? "conversation ended by the agent" : nil, transfer: transfer)
        } catch {
            logger.warning("voice agent failed", metadata: ["error": "\(error)"])
            return Reply(text: nil, end: "agent unavailable")
        }
    }

    /// After the call: its analysis and extracted fields, in one request; nil without a model.
    /// Throws when the model fails, for the analyst to try again later.
    public func analysis(_ transcript: [TranscriptTurn]) async throws -> (CallAnalysis, [String: JSONValue]?)? {
        guard let agent else { return nil }
        let (analysis, extraction) = try await agent.analyze(profile, lead: lead, history: Self.history(transcript))
        return (analysis, profile.extractionFields.isEmpty ? nil : extraction.values)
    }

    static func history(_ transcript: [TranscriptTurn]) -> [ChatMessage] {
        transcript.map { ChatMessage($0.role == .agent ? .assistant : .user, $0.content) }
    }
}
