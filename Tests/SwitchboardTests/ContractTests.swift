import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Testing
@testable import Store
import SwitchboardCore
import ServiceLifecycle
import SwitchboardAPI
@testable import SwitchboardServer

/// The OpenAPI document describes exactly the routes the server has.
@Suite struct ContractTests {
    @Test func everyRouteIsInTheSpecAndEverySpecPathIsRouted() async throws {
        let harness = Harness(.sqlite)
        let database = try await DatabaseURL.open(harness.config.databaseURL, logger: Logger(label: "test"))
        let store = Store(database: database, logger: Logger(label: "test"))
        var services: [any Service] = []
        let voice = buildVoice(store: store, config: harness.config, agent: nil, logger: Logger(label: "test"), services: &services)
        let carriers = Carriers(harness.config, voice: voice, logger: Logger(label: "test"))
        // The API's routes: the console's pages are HTML for browsers, not part of the contract.
        let router = try buildRouter(store: store, config: harness.config, carriers: carriers, console: false)
        let webSockets = buildWebSocketRouter(store: store, config: harness.config, voice: voice, carriers: carriers)
        let routed = Set((router.routes.map { ($0.path, $0.method) } + webSockets.routes.map { ($0.path, $0.method) }).map { path, method in
            let path = path.components.map { "\($0)".hasPrefix(":") ? "{\("\($0)".dropFirst())}" : "\($0)" }.joined(separator: "/")
            return "\(method.rawValue.lowercased()) /\(path)"
        })
        let documented = ResponseContract.shared.operations
        #expect(routed == documented, "only routed: \(routed.subtracting(documented)); only documented: \(documented.subtracting(routed))")
        #expect(routed.count >= 17)
        await database.close()
    }
}

/// The checker itself: a response that drifts is caught, one that conforms is not.
@Suite struct ResponseContractTests {
    let contract = ResponseContract.shared

    func problems(_ body: String, status: Int = 200, path: String = "/v1/call-logs/c1/retries") -> [String] {
        contract.problems(method: .get, path: path, status: status, contentType: "application/json", body: Data(body.utf8))
    }

    @Test func driftIsCaught() {
        #expect(problems(#"{"call_id":"c1","data":[]}"#).isEmpty)
        #expect(problems(#"{"data":[]}"#) == ["GET /v1/call-logs/{call_id}/retries 200: $: required call_id is missing"])
        #expect(problems(#"{"call_id":7,"data":[]}"#).count == 1)
        // A nullable field written as null conforms; a missing required one does not.
        #expect(problems(#"{"call_id":"c1","data":[{"attempt":1,"status":"busy","duration_sec":0,"called_at":"x","timestamp":"x","detail":null}]}"#).isEmpty)
        #expect(problems(#"{"call_id":"c1","data":[{"attempt":1.5,"status":"busy","duration_sec":0,"called_at":"x"}]}"#).count == 2)
        // A status the operation does not document, and a content type it does not name.
        #expect(contract.problems(method: .get, path: "/health", status: 418, contentType: "application/json", body: Data("{}".utf8)).count == 1)
        #expect(contract.problems(method: .get, path: "/v1/call-logs/c1/retries", status: 200, contentType: "text/plain", body: Data()).count == 1)
        // A literal segment wins over a parameter.
        #expect(contract.template(for: "/v1/voice/campaigns/c1") == "/v1/voice/campaigns/{campaign_id}")
        #expect(contract.template(for: "/v1/convai/batch-calling/workspace") == "/v1/convai/batch-calling/workspace")
    }

    /// A nullable field without a value is written as `null`, not left out: Teli's clients
    /// read the key.
    @Test func nullableFieldsAreWrittenAsNull() throws {
        let call = CallRecord(id: "c1", organizationID: "o", tenantID: "t", userID: "u", campaignID: "k", agentID: nil,
                              fromNumber: "+15175550100", toNumber: "+15175550101", status: .ongoing, outcome: nil, attempts: 1,
                              duration: 0, detail: nil, createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0))
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(ByteJSONEncoder.encode(Schemas.Call(call))))
        #expect(json["end_timestamp"] == .null)
        #expect(json["agent_id"] == .null)
        #expect(json["attempts"] == nil, "a plain optional is left out")
    }

    /// A one-character key is a literal Swift may keep as a single scalar, without a pointer
    /// to its bytes: written as any other.
    @Test func oneCharacterKeysAreWritten() throws {
        struct Point: JSONFields {
            func encode(to encoder: any Encoder) throws { try encodeFields(to: encoder) }
            func writeFields(to out: inout some JSONFieldWriter) throws {
                try out.int("x", 1)
                try out.string("é", "2")
            }
        }
        #expect(String(decoding: try ByteJSONEncoder.encode(Point()), as: UTF8.self) == #"{"x":1,"é":"2"}"#)
    }

    /// The timestamp writer does its own calendar arithmetic: it agrees with Foundation's ISO 8601
    /// formatter on leap days, century years and dates before 1970, and rounds the fraction down
    /// rather than into the next second.
    @Test func timestampsAgreeWithFoundation() {
        let formatter = ISO8601DateFormatter()
        var random = SystemRandomNumberGenerator()
        let edges: [TimeInterval] = [0, -1, -86_400, 951_782_400, 4_107_542_399, -2_208_988_800, 1_768_489_200]
        for seconds in edges + (0..<2_000).map({ _ in TimeInterval(Int64.random(in: -4_000_000_000...9_000_000_000, using: &random)) }) {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(Timestamps.teliOffset(date) == formatter.string(from: date).replacingOccurrences(of: "Z", with: "+00:00"), "\(seconds)")
        }
        #expect(Timestamps.teli(Date(timeIntervalSince1970: 1_763_761_213.089462)) == "2025-11-21T21:40:13.089462")
        #expect(Timestamps.dialNexa(Date(timeIntervalSince1970: 1_709_287_199.9999)) == "2024-03-01T09:59:59.999Z")
        #expect(Timestamps.teliOffset(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59+00:00")
    }

    /// Responses are written by our own encoder: the same documents Foundation's `JSONEncoder`
    /// (`.withoutEscapingSlashes`) writes for the shapes responses have, with the keys in the
    /// order they are encoded (Foundation's order is its dictionary's, which varies per process).
    @Test func responsesEncodeAsFoundationWould() throws {
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.withoutEscapingSlashes]
        func same(_ value: some Encodable, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let expected = try foundation.encode(value)
            let ours = Data(try ByteJSONEncoder.encode(value))
            #expect(try JSONDecoder().decode(JSONValue.self, from: ours) == JSONDecoder().decode(JSONValue.self, from: expected),
                    "ours:\n\(String(decoding: ours, as: UTF8.self))\nfoundation:\n\(String(decoding: expected, as: UTF8.self))",
                    sourceLocation: sourceLocation)
        }
        var call = CallRecord(id: "c1", organizationID: "o", tenantID: "t", userID: "u", campaignID: "k", agentID: "a\"1",
                              fromNumber: "+15175550100", toNumber: "+15175550101", status: .ended, outcome: .voicemail, attempts: 2,
                              duration: 12.5, detail: "line\nbreak\t\u{1}/é😀", createdAt: Date(timeIntervalSince1970: 1_768_489_200.25),
                              updatedAt: Date(timeIntervalSince1970: 1_768_489_260))
        try same(Schemas.Call(call))
        call.agentID = nil
        call.detail = nil
        try same(Teli(payload: Merged(Schemas.Call(call), ["extra": JSONValue.array([1, 0.1, 1e21, -0.0, true, .null, ["k": "v"]])]),
                      poweredBy: "Switchboard"))
        try same([Schemas.Call(call), Schemas.Call(call)])
        // A single call: its attempts, conversation, recording, latency and analysis, which a
        // page leaves out (`Schemas.Call` writes its fields by hand: `JSONFields`).
        call.transcript = [TranscriptTurn(role: .agent, content: "Hi \"there\"", at: 0.5), TranscriptTurn(role: .user, content: "yes", interrupted: true)]
        call.extracted = ["budget": 1_200, "name": "Ada"]
        call.recording = CallMedia.Recording(path: "c1.wav", seconds: 12.25)
        call.turnLatency = CallMedia.Latency(p50: 410.4, p95: 880.6)
        call.analysis = CallAnalysis(summary: "agreed", sentiment: .positive, successful: nil, reason: "asked for a call-back")
        let attempt = AttemptRecord(id: 1, attempt: 1, fromNumber: "+15175550100", toNumber: "+15175550101", provider: .simulator, status: .ended,
                                    outcome: .completed, dialAt: Date(timeIntervalSince1970: 1_768_489_200.5), endedAt: Date(timeIntervalSince1970: 1_768_489_260),
                                    duration: 59.5, inDoubt: false)
        try same(Teli(payload: Schemas.CallEnvelope(call: Schemas.Call(call, attempts: [attempt, attempt])), poweredBy: "Switchboard"))
        try same(Schemas.CallList(count: 2, calls: [Schemas.Call(call), Schemas.Call(call)]))
        // A campaign's status (`JSONFields` too), with settings as JSON values.
        let settings = CampaignSettings(agentID: "agent_1", outboundNumber: "+15175550001", numbers: ["+15175550001", "+15175550002"],
                                        redialEnabled: true, retry: RetryPolicy(maxAttempts: 3, interval: 60),
                                        callingHours: CallingHours(start: 540, end: 1200), maxConcurrentCalls: 5)
        let campaign = CampaignRecord(id: "c1", organizationID: "o", tenantID: "t", userID: "u", settings: settings,
                                      beginAt: Date(timeIntervalSince1970: 1_768_489_200), endAt: Date(timeIntervalSince1970: 1_768_575_600),
                                      createdAt: Date(timeIntervalSince1970: 1_768_489_200), updatedAt: Date(timeIntervalSince1970: 1_768_489_200))
        var progress = CampaignProgress()
        (progress.total, progress.completed, progress.outcomes, progress.notCalledReasons) = (3, 1, ["completed": 1], ["dnc": 1])
        try same(Teli(payload: Schemas.VoiceCampaign.detail(campaign, progress: progress, now: Date(timeIntervalSince1970: 1_768_489_300)),
                      poweredBy: "Switchboard"))
        try same(["a": [Int?.none, 2], "b": []])
        try same(Date(timeIntervalSince1970: 0.5))
        try same(["data": Data([0, 1, 254]), "empty": Data()])
        try same(URL(string: "https://example.com/a/b?c=d")!)
        try same("top/level \u{7f}")
        try same(NestedByHand())
        #expect(try ByteJSONEncoder.encode(NestedByHand()) == Array(#"{"a":1,"b":{"a":"x","b":[true,null,{"c":2.5}]},"c":[1,2],"super":"below"}"#.utf8))
        #expect(try ByteJSONEncoder.encode(["k": "q\"\\/\u{8}\u{c}\n\r\t\u{1f}é"]) == Array(#"{"k":"q\"\\/\b\f\n\r\t\u001fé"}"#.utf8))
        #expect(try ByteJSONEncoder.encode([1.0, 0.25, 1e21, -0.0]) == Array("[1,0.25,1e+21,-0]".utf8))
        // Integers are written digit by digit: the ends of their ranges, and zero.
        #expect(try ByteJSONEncoder.encode([Int64.min, Int64.max, 0, -7]) == Array("[\(Int64.min),\(Int64.max),0,-7]".utf8))
        #expect(try ByteJSONEncoder.encode([UInt64.max, 10]) == Array("[\(UInt64.max),10]".utf8))
        // A document bigger than the encoder's first allocation, across which it grows.
        let long = (0..<3_000).map { "row \($0) \u{1}" }
        #expect(try ByteJSONEncoder.encode(long) == Array(try foundation.encode(long)))
        #expect(try Array(buffer: ByteJSONEncoder.encodeBuffer(long)) == Array(try foundation.encode(long)))
        #expect(throws: EncodingError.self) { try ByteJSONEncoder.encode(Double.nan) }
        #expect(throws: EncodingError.self) { try ByteJSONEncoder.encode(WritesToAClosedContainer()) }
    }

    /// Nested containers and a super encoder, asked for explicitly.
    private struct NestedByHand: Encodable {
        enum Key: String, CodingKey { case a, b, c, d, `super` }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(1, forKey: .a)
            var nested = container.nestedContainer(keyedBy: Key.self, forKey: .b)
            try nested.encode("x", forKey: .a)
            var list = nested.nestedUnkeyedContainer(forKey: .b)
            try list.encode(true)
            try list.encodeNil()
            var inner = list.nestedContainer(keyedBy: Key.self)
            try inner.encode(2.5, forKey: .c)
            try container.encode([1, 2], forKey: .c)
            try "below".encode(to: container.superEncoder())
        }
    }

    /// A nested container written to after its parent moved on — and after another one took
    /// its place at the same depth.
    private struct WritesToAClosedContainer: Encodable {
        enum Key: String, CodingKey { case a, b, c }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            var nested = container.nestedContainer(keyedBy: Key.self, forKey: .a)
            try container.encode(1, forKey: .b)
            _ = container.nestedContainer(keyedBy: Key.self, forKey: .c)
            try nested.encode(2, forKey: .a)
        }
    }
}
