import Foundation
import HTTPTypes
import Hummingbird
import NIOFoundationEssentialsCompat
import SwitchboardCore

/// An OpenAI-compatible chat-completions endpoint (`POST /v1/chat/completions`), as OpenAI,
/// vLLM and Ollama speak it: records every request and answers from the test's script.
actor FakeLLM {
    static let apiKey = "test-llm-key"

    /// One request, as the model saw it.
    struct Call: Sendable {
        let body: JSONValue
        var messages: [JSONValue] { body["messages"]?.arrayItems ?? [] }
        var system: String { messages.first?["content"]?.stringValue ?? "" }
        var tools: [String] { (body["tools"]?.arrayItems ?? []).compactMap { $0["function"]?["name"]?.stringValue } }
        var wantsJSON: Bool { body["response_format"]?["type"] == "json_object" }
        var lastRole: String { messages.last?["role"]?.stringValue ?? "" }
        /// The newest thing the lead said.
        var lastLead: String { messages.last { $0["role"] == "user" }?["content"]?.stringValue ?? "" }
    }

    private(set) var calls: [Call] = []
    private let script: @Sendable (Call) -> JSONValue

    /// `script` returns the assistant `message` object for a request.
    init(_ script: @escaping @Sendable (Call) -> JSONValue) { self.script = script }

    func answer(_ call: Call) -> JSONValue {
        calls.append(call)
        return script(call)
    }

    static func text(_ content: String) -> JSONValue { ["role": "assistant", "content": .string(content)] }

    static func tool(_ name: String, _ arguments: JSONValue, content: String? = nil) -> JSONValue {
        ["role": "assistant", "content": JSONValue(content),
         "tool_calls": [["id": .string("call_\(name)"), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments.jsonText)]]]]
    }

    static func router(_ fake: FakeLLM) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("v1/chat/completions") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(apiKey)" else {
                return FakeCarrier.reply(.unauthorized, json: #"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}"#)
            }
            var request = request
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: try await request.collectBody(upTo: 1 << 20)))
            let message = await fake.answer(Call(body: body))
            let reply: JSONValue = [
                "id": "chatcmpl-test", "object": "chat.completion", "created": 1_768_489_200, "model": body["model"] ?? "test",
                "choices": [["index": 0, "message": message, "finish_reason": message["tool_calls"] == nil ? "stop" : "tool_calls"]],
                "usage": ["prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15],
            ]
            return FakeCarrier.reply(.ok, json: reply.jsonText)
        }
        return router
    }
}
