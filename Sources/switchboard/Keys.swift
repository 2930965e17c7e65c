import ArgumentParser
import Foundation
import Logging
import Store
import SwitchboardCore
import SwitchboardServer

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key (and its organization, tenant and user if new); prints the key alone on one line.")

        @Option var organization: String
        @Option var tenant: String
        @Option var user: String
        @Flag(help: "An admin key may act for every user of its organization.") var admin = false
        @OptionGroup var database: DatabaseOption

        func validate() throws {
            for (name, value) in [("organization", organization), ("tenant", tenant), ("user", user)] {
                if let problem = ClientID.problem(value) { throw ValidationError("--\(name) \(problem)") }
            }
        }

        func run() async throws {
            let url = database.url(try AppConfiguration.fromEnvironment().databaseURL)
            let logger = Logger(label: "switchboard.keys")
            let provider = try await DatabaseURL.open(url, logger: logger)
            let store = Store(database: provider, logger: logger)
            try await store.migrate()
            let key = try await store.createAPIKey(organizationID: organization, tenantID: tenant, userID: user,
                                                   role: admin ? .admin : .member, now: Date())
            await provider.close()
            print(key)
        }
    }
}
