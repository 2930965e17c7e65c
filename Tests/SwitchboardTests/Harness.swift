import Dialer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Messaging
import NIOCore
import NIOFoundationEssentialsCompat
import Store
import SwitchboardAPI
import SwitchboardCore
import SwitchboardServer
import Testing

/// Thursday 2026-01-15 15:00 UTC: inside default calling hours for unknown (UTC) zones.
let testStart = Date(timeIntervalSince1970: 1_768_489_200)

/// One real application per test: its own database (a SQLite file or a PostgreSQL schema), a
/// manual clock, the simulator answering instantly unless a test slows it down.
struct Harness {
    let clock: ManualClock
    var config: AppConfiguration
    let directory: URL

    init(_ backend: Backend, start: Date = testStart, timeScale: Double = 0, configure: (inout AppConfiguration) -> Void = { _ in }) {
        clock = ManualClock(start)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        config = AppConfiguration()
        config.port = 0
        config.databaseURL = TestDatabase.url(backend, directory: directory)
        config.simulatorTimeScale = timeScale
        config.clock = clock
        config.logLevel = .warning
        config.dialer.pollInterval = 0.05
        config.messaging.pollInterval = 0.05
        // The tests' fake carriers and webhook receivers listen on loopback.
        config.allowCarrierBaseURL = true
        config.allowPrivateWebhooks = true
        config.recordingsDirectory = directory.appendingPathComponent("recordings").path
        // The voice tests bring their own speech services; the rest stay silent and quick.
        config.localSpeech = false
        configure(&config)
    }

    /// What `switchboard keys create` does: a key for a (possibly new) organization and user.
    func key(organization: String = "org_a", tenant: String = "tenant_a", user: String = "user_a", admin: Bool = false) async throws -> String {
        try await TestDatabase.prepare(config.databaseURL)
        return try await withStore { store in
            try await store.migrate()
            return try await store.createAPIKey(organizationID: organization, tenantID: tenant, userID: user,
                                                role: admin ? .admin : .member, now: clock.now())
        }
    }

    /// The harness's database, opened beside the running app, for what the API does not show.
    func withStore<T>(_ body: (Store) async throws -> T) async throws -> T {
        let database = try await DatabaseURL.open(config.databaseURL, logger: Logger(label: "test"))
        let store = Store(database: database, logger: Logger(label: "test"))
        do {
            let result = try await body(store)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }

    /// Builds the app exactly as `serve` does and runs `body` against it, services included;
    /// `live` serves it on a loopback port (for WebSockets).
    func run(live: Bool = false, _ body: @Sendable (Client) async throws -> Void) async throws {
        // The test's files go whether it passes, fails or throws.
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestDatabase.prepare(config.databaseURL)
        let app = try await buildApplication(config)
        try await app.test(live ? .live : .router) { client in
            // Shutting down waits for calls in flight; on a manual clock they would never end.
            defer { clock.advance(by: 86_400) }
            try await body(Client(client: client, clock: clock))
        }
        // Whatever the test did, the per-campaign lead counts a status read uses were kept
        // right by the transactions that moved the leads.
        let drift = try await withStore { try await $0.leadCountDrift() }
        #expect(drift.isEmpty, "kept lead counts differ from the leads: \(drift)")
    }
}

extension Harness {
    /// Drives the named workers (`dialer`, `sms`, `webhooks`) one pass each: wakes them and
    /// returns once a pass that began after this call has finished. After it, "nothing
    /// happened" means the worker looked at the state as it is now and did nothing.
    func pass(_ workers: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let passes = config.passes
        for worker in workers {
            let finished = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await passes.pass(of: worker); return true }
                group.addTask { try? await Task.sleep(for: .seconds(15)); return false }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            if !finished { Issue.record("no \(worker) pass finished in 15 s", sourceLocation: sourceLocation) }
        }
    }

    /// The usual start: a member key, the app, and an agent and a simulator number to dial from.
    func runWithAgentAndNumber(admin: Bool = false,
                               _ body: @Sendable @escaping (Client, _ key: String, _ agent: String, _ number: String) async throws -> Void) async throws {
        let key = try await key(admin: admin)
        try await run { client in
            try await body(client, key, try await client.agent(key: key), try await client.number(key: key))
        }
    }
}

/// A JSON client over HummingbirdTesting.
struct Client: Sendable {
    let client: any TestClientProtocol
    let clock: ManualClock

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        var headers: HTTPFields = [:]
        let body: ByteBuffer
        var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: body))) ?? .null }
        subscript(key: String) -> JSONValue? { json[key] }
        var text: String { String(buffer: body) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(type, from: Data(buffer: body)) }
    }

    func request(_ method: HTTPRequest.Method, _ path: String, key: String?, raw: String? = nil, json: JSONValue? = nil,
                 headers extra: HTTPFields = [:], keyHeader: String = "X-API-Key",
                 sourceLocation: SourceLocation = #_sourceLocation) async throws -> Reply {
        var headers = extra
        if let key {
            if keyHeader == "Bearer" { headers[.authorization] = "Bearer \(key)" }
            else { headers[HTTPField.Name(keyHeader)!] = key }
        }
        var buffer: ByteBuffer?
        if let json {
            buffer = ByteBuffer(data: try JSONEncoder().encode(json))
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        } else if let raw {
            buffer = ByteBuffer(string: raw)
        }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: buffer)
        for problem in ResponseContract.shared.problems(method: method, path: path, status: response.status.code,
                                                        contentType: response.headers[.contentType], body: Data(buffer: response.body)) {
            Issue.record("contract: \(problem)", sourceLocation: sourceLocation)
        }
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    func get(_ path: String, key: String?, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Reply {
        try await request(.get, path, key: key, sourceLocation: sourceLocation)
    }
    func post(_ path: String, key: String?, _ json: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Reply {
        try await request(.post, path, key: key, json: json, sourceLocation: sourceLocation)
    }

    /// Polls until `condition` holds on a fresh GET, for at most `seconds` of real time.
    @discardableResult
    /// Polls `path` until `condition` holds. With `clock`, moves it by `step` before each poll: a
    /// simulated call waits on the manual clock from when it starts, so one that starts just after
    /// an advance (a busy machine) only ends with the next one.
    func eventually(_ path: String, key: String, seconds: Double = 15, advancing clock: ManualClock? = nil,
                    by step: TimeInterval = 0, sourceLocation: SourceLocation = #_sourceLocation,
                    _ condition: (Reply) -> Bool) async throws -> Reply {
        let deadline = Date().addingTimeInterval(seconds)
        var last = try await get(path, key: key)
        while !condition(last) {
            guard Date() < deadline else {
                Issue.record("condition not met in \(seconds)s; last: \(last.text)", sourceLocation: sourceLocation)
                return last
            }
            clock?.advance(by: step)
            try await Task.sleep(for: .milliseconds(clock == nil ? 10 : 50))
            last = try await get(path, key: key)
        }
        return last
    }

    // MARK: fixtures

    func agent(key: String, id: String? = nil) async throws -> String {
        var body: JSONValue = ["agent_name": "Sales", "prompt": "Be brief."]
        if let id, case .object(var object) = body { object["agent_id"] = .string(id); body = .object(object) }
        let reply = try await post("/v1/agents", key: key, body)
        #expect(reply.status == .ok, "\(reply.text)")
        return try reply.decode(Components.Schemas.AgentResponse.self).value1.agentId
    }

    func number(key: String, _ extra: [String: JSONValue] = [:]) async throws -> String {
        var body: [String: JSONValue] = ["area_code": "517"]
        body.merge(extra) { _, new in new }
        let reply = try await post("/v1/voice/phone-numbers/create", key: key, .object(body))
        #expect(reply.status == .ok, "\(reply.text)")
        return try reply.decode(Components.Schemas.PhoneNumberResponse.self).value1.phoneNumber
    }

    /// Creates a campaign dialing around the clock unless the body says otherwise.
    func campaign(key: String, agent: String, number: String, leads: [JSONValue], _ extra: [String: JSONValue] = [:]) async throws -> String {
        var body: [String: JSONValue] = [
            "leads": .array(leads), "voice_agent_id": .string(agent), "agent_outbound_number": .string(number),
            "calling_hours": ["start": "00:00", "end": "24:00"],
        ]
        body.merge(extra) { _, new in new }
        let reply = try await post("/v1/voice/campaigns", key: key, .object(body))
        #expect(reply.status == .ok, "\(reply.text)")
        return try reply.decode(Components.Schemas.VoiceCampaignCreateResponse.self).campaignId
    }

    func campaignStatus(_ id: String, key: String) async throws -> Reply { try await get("/v1/voice/campaigns/\(id)", key: key) }
}

extension JSONValue {
    var intValue: Int? { if case .number(let n) = self { Int(n) } else { nil } }
    var arrayValue: [JSONValue] { if case .array(let a) = self { a } else { [] } }
    var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
}

extension Client.Reply {
    /// A voice campaign's detail, decoded whole into the contract's type (nil if it is not one).
    var campaign: Components.Schemas.VoiceCampaignDetail? { try? decode(Components.Schemas.VoiceCampaignDetail.self) }
    /// One of the campaign's progress counts; -1 when the reply is not a campaign.
    func count(_ key: KeyPath<Components.Schemas.Progress, Int>) -> Int { campaign?.value2.progress[keyPath: key] ?? -1 }
    /// The campaign's finished leads by outcome.
    var outcomes: [String: Int] { campaign?.value2.progress.outcomes.additionalProperties ?? [:] }
    /// A call list (`CallList`), decoded whole.
    var calls: [Components.Schemas.Call] { (try? decode(Components.Schemas.CallList.self))?.calls ?? [] }
    /// A webhook's deliveries (`WebhookDeliveryList`), decoded whole.
    var deliveries: [Components.Schemas.WebhookDelivery] { (try? decode(Components.Schemas.WebhookDeliveryList.self))?.deliveries ?? [] }
    /// An SMS campaign (`SMSCampaignDetail`), decoded whole.
    var smsCampaign: Components.Schemas.SMSCampaignDetail? { try? decode(Components.Schemas.SMSCampaignDetail.self) }
    /// A batch with its recipients (`BatchCallDetail`), decoded whole.
    var batch: Components.Schemas.BatchCallDetail? { try? decode(Components.Schemas.BatchCallDetail.self) }
    /// Teli's error envelope (`Error`), decoded whole: its message, or nil if it is not one.
    var error: String? { (try? decode(Components.Schemas._Error.self))?.error }
    /// An SMS thread (`SMSMessageList`), decoded whole; empty when the reply is not one.
    var thread: [Components.Schemas.SMSMessage] { (try? decode(Components.Schemas.SMSMessageList.self))?.messages ?? [] }
    func message(_ index: Int) -> Components.Schemas.SMSMessage? { thread.indices.contains(index) ? thread[index] : nil }
    /// What the agents extracted from a number's conversations (`SMSExtractions`), decoded whole.
    var extractions: Components.Schemas.SMSExtractions? { try? decode(Components.Schemas.SMSExtractions.self) }
    /// The campaign's status; "" when the reply is not a campaign.
    var status_: String { campaign?.value1.status.rawValue ?? "" }
}
