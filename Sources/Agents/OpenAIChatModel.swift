import Foundation
import Logging
import NIOHTTP1
import ServiceLifecycle
import SwitchboardCore
import TelephonyHTTP

/// The chat-completions client: `POST {baseURL}/chat/completions` with a bearer key, as
/// OpenAI, vLLM, Ollama (`http://localhost:11434/v1`) and llama.cpp's server all accept.
/// A 429 is waited out; any other failure is thrown, and the caller decides what a
/// conversation does without its reply (it sends nothing rather than a made-up one).
public struct OpenAIChatModel: LanguageModel, Service {
    public let baseURL: String
    public let model: String
    private let apiKey: String?
    private let http: CarrierHTTPClient
    private let logger: Logger

    public init(baseURL: String, apiKey: String?, model: String, clock: any WallClock, logger: Logger) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.model = model
        self.logger = logger
        http = CarrierHTTPClient(backoff: Backoff(base: 1, cap: 20), tries: 4, timeoutSeconds: 60, clock: clock)
    }

    /// Holds the HTTP client open for the life of the process; closes it at shutdown.
    public func run() async throws {
        try? await gracefulShutdown()
        await http.shutdown()
    }

    public func complete(_ messages: [ChatMessage], tools: [ToolSpec], jsonObject: Bool) async throws -> ChatReply {
        var body: [String: JSONValue] = ["model": .string(model), "messages": .array(messages.map(Self.json)), "temperature": 0.3]
        if !tools.isEmpty {
            body["tools"] = .array(tools.map { ["type": "function", "function": ["name": .string($0.name), "description": .string($0.description),
                                                                                "parameters": $0.parameters]] })
            body["tool_choice"] = "auto"
        }
        if jsonObject { body["response_format"] = ["type": "json_object"] }
        var headers = [("Content-Type", "application/json")]
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        let reply = try await http.send(.POST, baseURL + "/chat/completions", headers: headers, body: JSONValue.object(body).jsonText, logger: logger)
        guard (200..<300).contains(reply.status), let message = reply.json?["choices"]?[0]?["message"] else {
            let reason = reply.json?["error"]?["message"]?.stringValue ?? String(reply.body.prefix(200))
            throw LanguageModelError("the language model answered \(reply.status): \(reason)")
        }
        let calls: [ToolCall] = (message["tool_calls"]?.arrayItems ?? []).compactMap { call in
            guard let name = call["function"]?["name"]?.stringValue else { return nil }
            return ToolCall(id: call["id"]?.stringValue ?? name, name: name, arguments: call["function"]?["arguments"]?.stringValue ?? "{}")
        }
        return ChatReply(content: message["content"]?.stringValue, toolCalls: calls)
    }

    static func json(_ message: ChatMessage) -> JSONValue {
        var object: [String: JSONValue] = ["role": .string(message.role.rawValue), "content": JSONValue(message.content)]
        if !message.toolCalls.isEmpty {
            object["tool_calls"] = .array(message.toolCalls.map {
                ["id": .string($0.id), "type": "function", "function": ["name": .string($0.name), "arguments": .string($0.arguments)]]
            })
        }
        if let id = message.toolCallID { object["tool_call_id"] = .string(id) }
        return .object(object)
    }
}
