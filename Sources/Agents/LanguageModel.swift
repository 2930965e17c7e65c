import Foundation
import SwitchboardCore

/// One turn of a chat, in the OpenAI chat-completions vocabulary.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable { case system, user, assistant, tool }
    public var role: Role
    public var content: String?
    public var toolCalls: [ToolCall]
    public var toolCallID: String?

    public init(_ role: Role, _ content: String?, toolCalls: [ToolCall] = [], toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }
}

/// A function the model asked us to run; `arguments` as the model wrote them (JSON text).
public struct ToolCall: Sendable, Equatable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    public var parsedArguments: [String: JSONValue] {
        if case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(arguments.utf8)) { return object }
        return [:]
    }
}

public struct ToolSpec: Sendable, Equatable {
    public var name: String
    public var description: String
    /// A JSON Schema object.
    public var parameters: JSONValue

    public init(name: String, description: String, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

public struct ChatReply: Sendable, Equatable {
    public var content: String?
    public var toolCalls: [ToolCall]

    public init(content: String?, toolCalls: [ToolCall] = []) {
        self.content = content
        self.toolCalls = toolCalls
    }
}

public struct LanguageModelError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A chat model: OpenAI, vLLM, Ollama, llama.cpp — anything that speaks chat completions.
public protocol LanguageModel: Sendable {
    /// `jsonObject` asks for a reply that is one JSON object (extraction).
    func complete(_ messages: [ChatMessage], tools: [ToolSpec], jsonObject: Bool) async throws -> ChatReply
}
