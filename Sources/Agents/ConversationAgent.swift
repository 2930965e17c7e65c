import Foundation
import SwitchboardCore

/// The agent runtime, one for SMS and voice: turns a conversation so far into the agent's
/// next words and actions, and a finished exchange into extracted fields. Stateless: the
/// caller keeps the thread (the database for SMS, the WebSocket session for voice).
public struct ConversationAgent: Sendable {
    public let model: any LanguageModel

    public init(model: any LanguageModel) { self.model = model }

    /// The agent's next turn. `history` holds the contact's words as `user` and ours as
    /// `assistant`, oldest first. When the model only calls tools, it is told what they did
    /// and asked once more for the words that go with them.
    public func respond(_ profile: AgentProfile, lead: [String: JSONValue], history: [ChatMessage], now: Date) async throws -> AgentTurn {
        var messages = [ChatMessage(.system, Self.instructions(profile, lead: lead, now: now))] + history
        let tools = Self.tools(profile)
        var actions: [AgentAction] = []
        for round in 0..<2 {
            let reply = try await model.complete(messages, tools: tools, jsonObject: false)
            let taken = reply.toolCalls.compactMap { Self.action($0, allowed: tools) }
            actions += taken
            let text = reply.content?.trimmingCharacters(in: .whitespacesAndNewlines)
            let ended = taken.contains { if case .endConversation = $0 { true } else { false } }
            if let text, !text.isEmpty { return AgentTurn(reply: text, actions: actions) }
            if reply.toolCalls.isEmpty || ended || round == 1 { break }
            messages.append(ChatMessage(.assistant, nil, toolCalls: reply.toolCalls))
            for call in reply.toolCalls {
                messages.append(ChatMessage(.tool, Self.acknowledgement(call, allowed: tools), toolCallID: call.id))
            }
        }
        return AgentTurn(reply: nil, actions: actions)
    }

    /// Fields of `profile.extractionFields` found in the conversation, and the lead's outcome.
    public func extract(_ profile: AgentProfile, lead: [String: JSONValue], history: [ChatMessage]) async throws -> Extraction {
        let names = profile.extractionFields.map(\.name)
        let wanted = Self.fieldList(profile)
        let transcript = Self.transcript(history)
        let system = """
            You extract facts from a sales conversation. Answer with one JSON object and nothing else. \
            Keys: the fields below (null when the conversation does not say), and "lead_outcome": one of \
            "qualified", "not_interested", "dnc", "transferred", "pending".
            Fields:
            \(wanted.isEmpty ? "(none)" : wanted)
            """
        let reply = try await model.complete([ChatMessage(.system, system), ChatMessage(.user, transcript)], tools: [], jsonObject: true)
        guard let content = reply.content, case .object(let object)? = Self.firstJSONObject(in: content) else {
            throw LanguageModelError("the extraction was not a JSON object")
        }
        return Self.extraction(object, names: names)
    }

    /// After a call, in one request: a summary, the callee's sentiment, a verdict against the
    /// agent's success criteria, and the extraction's fields and outcome.
    public func analyze(_ profile: AgentProfile, lead: [String: JSONValue], history: [ChatMessage]) async throws -> (CallAnalysis, Extraction) {
        let names = profile.extractionFields.map(\.name)
        let wanted = Self.fieldList(profile)
        let transcript = Self.transcript(history)
        let criteria = profile.successCriteria.map { "The call is a success when: \($0)" } ?? "There are no success criteria: successful is null."
        let system = """
            You analyse a sales phone call. Answer with one JSON object and nothing else, with the keys:
            "summary" (two sentences at most), "sentiment" ("positive", "neutral" or "negative", the lead's),
            "successful" (true, false or null), "reason" (why, one sentence), "lead_outcome" (one of
            "qualified", "not_interested", "dnc", "transferred", "pending"), and the fields below (null when
            the call does not say).
            \(criteria)
            Fields:
            \(wanted.isEmpty ? "(none)" : wanted)
            """
        let reply = try await model.complete([ChatMessage(.system, system), ChatMessage(.user, transcript)], tools: [], jsonObject: true)
        guard let content = reply.content, case .object(let object)? = Self.firstJSONObject(in: content) else {
            throw LanguageModelError("the analysis was not a JSON object")
        }
        let successful: Bool? = profile.successCriteria == nil ? nil : { if case .bool(let value)? = object["successful"] { value } else { nil } }()
        let analysis = CallAnalysis(summary: object["summary"]?.stringValue ?? "",
                                    sentiment: object["sentiment"]?.stringValue.flatMap(CallAnalysis.Sentiment.init(rawValue:)) ?? .neutral,
                                    successful: successful, reason: object["reason"]?.stringValue)
        return (analysis, Self.extraction(object, names: names))
    }

    /// The wanted fields of the model's answer (null when it left one out), and the outcome.
    static func extraction(_ object: [String: JSONValue], names: [String]) -> Extraction {
        var values: [String: JSONValue] = [:]
        for name in names { values[name] = object[name] ?? .null }
        return Extraction(values: values, outcome: object["lead_outcome"]?.stringValue.flatMap(LeadOutcome.init(rawValue:)))
    }

    /// The fields to extract, a line each, for the model.
    static func fieldList(_ profile: AgentProfile) -> String {
        profile.extractionFields.map { field in "- \(field.name)" + (field.description.map { ": \($0)" } ?? "") }.joined(separator: "\n")
    }

    /// The conversation as lines (`Lead: …`, `Agent: …`), tool messages left out.
    static func transcript(_ history: [ChatMessage]) -> String {
        history.compactMap { message -> String? in
            guard let content = message.content, message.role == .user || message.role == .assistant else { return nil }
            return (message.role == .user ? "Lead: " : "Agent: ") + content
        }.joined(separator: "\n")
    }

    // MARK: prompt and tools

    static func instructions(_ profile: AgentProfile, lead: [String: JSONValue], now: Date) -> String {
        let known = lead.keys.sorted().compactMap { key in lead[key]?.text.map { "- \(key): \($0)" } }.joined(separator: "\n")
        let medium = profile.channel == .sms
            ? "You are texting with a lead by SMS. Write short plain-text messages (at most 320 characters), no markdown."
            : "You are on a phone call with a lead. Speak naturally in short sentences; your words are read aloud."
        var text = "\(medium)\nYour name: \(profile.name).\n\n\(Template.render(profile.prompt, fields: lead))"
        if let objective = profile.objective, !objective.isEmpty { text += "\n\nObjective:\n\(Template.render(objective, fields: lead))" }
        text += "\n\nWhat we know about the lead:\n\(known.isEmpty ? "(nothing)" : known)"
        text += "\n\nNow is \(ISO8601DateFormatter().string(from: now)) (UTC)."
        text += "\nCall end_conversation when the lead is done, not interested, or asks not to be contacted (outcome dnc)."
        if profile.canCall {
            text += "\nCall start_voice_call when the lead wants to talk on the phone now; schedule_callback when they name a later time."
        }
        return text
    }

    static func tools(_ profile: AgentProfile) -> [ToolSpec] {
        var tools = [ToolSpec(
            name: "end_conversation",
            description: "End the conversation; no more messages will be sent.",
            parameters: ["type": "object", "properties": [
                "outcome": ["type": "string", "enum": .array(LeadOutcome.allCases.map { .string($0.rawValue) })],
                "reason": ["type": "string"],
            ]])]
        if profile.channel == .voice, profile.transferNumber != nil {
            var properties: [String: JSONValue] = ["reason": ["type": "string"]]
            var required: [JSONValue] = []
            if profile.warmTransfer {
                properties["summary"] = ["type": "string", "description": "Two sentences for the colleague, said to them before the lead is put through: who the lead is and what they want."]
                required = ["summary"]
            }
            tools.append(ToolSpec(
                name: "transfer_call",
                description: "Transfer the call to a person on our team now. Say a short sentence first; if it fails you are told.",
                parameters: ["type": "object", "properties": .object(properties), "required": .array(required)]))
        }
        if profile.canCall {
            tools.append(ToolSpec(
                name: "start_voice_call",
                description: "Call the lead now with the voice agent.",
                parameters: ["type": "object", "properties": ["reason": ["type": "string"]]]))
            tools.append(ToolSpec(
                name: "schedule_callback",
                description: "Call the lead back at a later time.",
                parameters: ["type": "object", "properties": [
                    "time": ["type": "string", "description": "ISO 8601 with offset, e.g. 2026-01-15T17:00:00-05:00"],
                    "note": ["type": "string"],
                ], "required": ["time"]]))
        }
        return tools
    }

    static func action(_ call: ToolCall, allowed: [ToolSpec]) -> AgentAction? {
        guard allowed.contains(where: { $0.name == call.name }) else { return nil }
        let arguments = call.parsedArguments
        switch call.name {
        case "start_voice_call": return .startVoiceCall(reason: arguments["reason"]?.stringValue)
        case "transfer_call": return .transferCall(reason: arguments["reason"]?.stringValue, summary: arguments["summary"]?.stringValue)
        case "schedule_callback":
            guard let time = arguments["time"]?.stringValue.flatMap(Self.date) else { return nil }
            return .scheduleCallback(at: time, note: arguments["note"]?.stringValue)
        case "end_conversation":
            return .endConversation(outcome: arguments["outcome"]?.stringValue.flatMap(LeadOutcome.init(rawValue:)),
                                    reason: arguments["reason"]?.stringValue)
        default: return nil
        }
    }

    static func acknowledgement(_ call: ToolCall, allowed: [ToolSpec]) -> String {
        switch action(call, allowed: allowed) {
        case .startVoiceCall?: "The call is being placed now. Tell the lead to expect it."
        case .scheduleCallback(let time, _)?: "The callback is scheduled for \(ISO8601DateFormatter().string(from: time)) UTC. Confirm it to the lead."
        case .endConversation?: "The conversation is ended."
        case .transferCall?: "The transfer starts after your next words. Tell the lead you are connecting them to a colleague."
        case nil: "Unknown tool \(call.name); nothing was done."
        }
    }

    /// ISO 8601 with an offset, with or without fractional seconds.
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// Models asked for JSON sometimes wrap it in prose or a code fence.
    static func firstJSONObject(in text: String) -> JSONValue? {
        guard let start = text.firstIndex(of: "{"), let end = text.lastIndex(of: "}"), start < end else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: Data(text[start...end].utf8))
    }
}
