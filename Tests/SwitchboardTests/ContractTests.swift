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
        let json = try JSONDecoder().decode(JSONValue.self, from: JSONBody<Schemas.Call>.encoder.encode(Schemas.Call(call)))
        #expect(json["end_timestamp"] == .null)
        #expect(json["agent_id"] == .null)
        #expect(json["attempts"] == nil, "a plain optional is left out")
    }
}
