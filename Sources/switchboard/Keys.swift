import ArgumentParser
import Foundation
import Logging
import NIOHTTP1
import Store
import SwitchboardCore
import SwitchboardServer

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API keys.", subcommands: [Create.self, List.self, Revoke.self])

    /// `--server`, with the key in `SWITCHBOARD_API_KEY` (an admin key).
    struct ServerOption: ParsableArguments {
        @Option(help: "The running server, e.g. http://localhost:8080. Env: SWITCHBOARD_SERVER.")
        var server: String = ProcessInfo.processInfo.environment["SWITCHBOARD_SERVER"] ?? "http://localhost:8080"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the organization's API keys (never the keys themselves), with an admin key.")
        @OptionGroup var server: ServerOption

        func run() async throws {
            let reply = try await ServerClient(server: server.server).send(.GET, "/v1/api-keys")
            let rows = (reply["api_keys"]?.arrayItems ?? []).map { key in
                ["key_id", "tenant_id", "user_id", "role", "created_at"].map { key[$0]?.stringValue ?? "" }
            }
            printTable(["KEY", "TENANT", "USER", "ROLE", "CREATED"], rows)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key by its id (key_…): it stops working at once.")
        @Argument(help: "The key's id, as keys list shows it.") var keyID: String
        @OptionGroup var server: ServerOption

        func run() async throws {
            _ = try await ServerClient(server: server.server).send(.DELETE, "/v1/api-keys/\(keyID)")
            if isatty(STDOUT_FILENO) == 1 { print("revoked \(keyID)") }
        }
    }

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
