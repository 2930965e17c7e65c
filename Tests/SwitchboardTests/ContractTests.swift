import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Testing
import Store
import SwitchboardAPI
@testable import SwitchboardServer

/// The OpenAPI document describes exactly the routes the server has.
@Suite struct ContractTests {
    @Test func everyRouteIsInTheSpecAndEverySpecPathIsRouted() async throws {
        let harness = Harness(.sqlite)
        let database = try await DatabaseURL.open(harness.config.databaseURL, logger: Logger(label: "test"))
        let router = buildRouter(store: Store(database: database, logger: Logger(label: "test")), config: harness.config,
                                 carriers: Carriers(harness.config, logger: Logger(label: "test")))
        let webSockets = buildWebSocketRouter(store: Store(database: database, logger: Logger(label: "test")), config: harness.config, agent: nil)
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
