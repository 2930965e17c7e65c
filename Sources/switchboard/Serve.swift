import ArgumentParser
import Hummingbird
import SwitchboardServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the API and the dialer (or one of them, with --role).")

    @Option(help: "Address to listen on. Env: SWITCHBOARD_HOST.") var host: String?
    @Option(help: "Port to listen on. Env: SWITCHBOARD_PORT.") var port: Int?
    @OptionGroup var database: DatabaseOption
    @Option(help: "all (API and dialer), api, or dialer. Env: SWITCHBOARD_ROLE.") var role: String?

    func run() async throws {
        var config = AppConfiguration.fromEnvironment()
        if let host { config.host = host }
        if let port { config.port = port }
        config.databaseURL = database.url(config.databaseURL)
        if let role {
            guard let value = AppConfiguration.Role(rawValue: role) else { throw ValidationError("--role must be all, api or dialer") }
            config.role = value
        }
        let app = try await buildApplication(config)
        try await app.runService()
    }
}
