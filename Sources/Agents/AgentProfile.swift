import Foundation
import SwitchboardCore

/// What a conversation's agent is told: its agent's prompt, the campaign's objective, what to
/// extract, and which tools it may use.
public struct AgentProfile: Sendable, Equatable {
    public enum Channel: String, Sendable { case sms, voice }

    public struct Field: Sendable, Equatable {
        public var name: String
        public var description: String?
        public init(name: String, description: String? = nil) {
            self.name = name
            self.description = description
        }
    }

    public var name: String
    public var channel: Channel
    public var prompt: String
    public var objective: String?
    public var extractionFields: [Field]
    /// The campaign escalates to voice: `start_voice_call` and `schedule_callback` are offered.
    public var canCall: Bool
    /// What makes a call a success (`success_criteria`), judged after it.
    public var successCriteria: String?
    /// Where `transfer_call` hands a call (`transfer_number`); without it the tool is not offered.
    public var transferNumber: String?
    /// `transfer_mode: "warm"`: the person taking the call first hears the agent's summary.
    public var warmTransfer: Bool

    public init(name: String, channel: Channel, prompt: String, objective: String? = nil, extractionFields: [Field] = [], canCall: Bool = false,
                successCriteria: String? = nil, transferNumber: String? = nil, warmTransfer: Bool = false) {
        self.transferNumber = transferNumber
        self.warmTransfer = warmTransfer
        self.name = name
        self.channel = channel
        self.prompt = prompt
        self.objective = objective
        self.extractionFields = extractionFields
        self.canCall = canCall
        self.successCriteria = successCriteria
    }

    /// `extraction_fields` as Teli takes them: names, or objects with a `name` (and a
    /// `description`).
    public static func fields(_ value: JSONValue?) -> [Field] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { item in
            if let name = item.stringValue { return Field(name: name) }
            guard let name = item["name"]?.stringValue else { return nil }
            return Field(name: name, description: item["description"]?.stringValue)
        }
    }
}

/// What the agent decided besides its words.
public enum AgentAction: Sendable, Equatable {
    case startVoiceCall(reason: String?)
    case scheduleCallback(at: Date, note: String?)
    case endConversation(outcome: LeadOutcome?, reason: String?)
    /// `summary`: for the person taking the call, on a warm transfer.
    case transferCall(reason: String?, summary: String?)
}

public struct AgentTurn: Sendable, Equatable {
    /// The text to send (or say); nil when the agent had nothing to add.
    public var reply: String?
    public var actions: [AgentAction]
    public init(reply: String?, actions: [AgentAction]) {
        self.reply = reply
        self.actions = actions
    }
}

public struct Extraction: Sendable, Equatable {
    public var values: [String: JSONValue]
    public var outcome: LeadOutcome?
    public init(values: [String: JSONValue], outcome: LeadOutcome?) {
        self.values = values
        self.outcome = outcome
    }
}
