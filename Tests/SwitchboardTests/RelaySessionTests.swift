import Agents
import Foundation
import Logging
import Store
import SwitchboardCore
import Testing
@testable import SwitchboardServer

/// ConversationRelay's messages against the session alone, without a network.
@Suite struct RelaySessionTests {
    static let profile = AgentProfile(name: "Caller", channel: .voice, prompt: "Sell solar.")

    /// Without a model the agent says its scripted greeting and hangs up at the first words.
    @Test func withoutAModelTheGreetingIsAllThatIsSaid() async throws {
        var session = RelaySession(dialogue: CallDialogue(agent: nil, profile: Self.profile, lead: [:], greeting: "Hello from Acme."), logger: Logger(label: "test"))
        #expect(await session.handle(["type": "setup", "callSid": "CA1"], now: testStart) == [["type": "text", "token": "Hello from Acme.", "last": true]])
        let reply = await session.handle(["type": "prompt", "voicePrompt": "Who is this?", "last": true], now: testStart)
        #expect(reply.first?["type"] == "end")
        #expect(session.ended)
        #expect(session.transcript == [TranscriptTurn(role: .agent, content: "Hello from Acme."), TranscriptTurn(role: .user, content: "Who is this?")])
        #expect(try await session.dialogue.analysis(session.transcript) == nil) // nothing to analyse with
    }

    struct Scripted: LanguageModel {
        func complete(_ messages: [ChatMessage], tools: [ToolSpec], jsonObject: Bool) async throws -> ChatReply {
            ChatReply(content: "You pressed \(messages.last?.content ?? "")")
        }
    }

    @Test func digitsAreWordsAndPartialPromptsWait() async {
        var session = RelaySession(dialogue: CallDialogue(agent: ConversationAgent(model: Scripted()), profile: Self.profile, lead: [:], greeting: nil),
                                   logger: Logger(label: "test"))
        #expect(await session.handle(["type": "setup"], now: testStart) == [])
        #expect(await session.handle(["type": "prompt", "voicePrompt": "half", "last": false], now: testStart) == [])
        #expect(await session.handle(["type": "dtmf", "digit": "5"], now: testStart).first?["token"] == "You pressed (pressed 5 on the keypad)")
        #expect(await session.handle(["type": "error", "description": "bad"], now: testStart) == [])
        #expect(!session.ended)
    }
}
