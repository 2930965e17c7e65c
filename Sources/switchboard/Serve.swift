import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwitchboardServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the API and the dialer (or one of them, with --role).")

    @Option(help: "Address to listen on. Env: SWITCHBOARD_HOST.") var host: String?
    @Option(help: "Port to listen on. Env: SWITCHBOARD_PORT.") var port: Int?
    @OptionGroup var database: DatabaseOption
    @Option(help: "all (API and dialer), api, or dialer. Env: SWITCHBOARD_ROLE.") var role: String?

    func validate() throws {
        if let port, !(0...65_535).contains(port) { throw ValidationError("--port must be from 0 to 65535") }
        if let role, AppConfiguration.Role(rawValue: role) == nil { throw ValidationError("--role must be all, api or dialer") }
    }

    func run() async throws {
        try Self.bootstrapLogging()
        // Environment first, then flags; derived values (the public URL) follow what is in force.
        var config = try AppConfiguration.fromEnvironment()
        if let host { config.host = host }
        if let port { config.port = port }
        config.databaseURL = database.url(config.databaseURL)
        if let role, let value = AppConfiguration.Role(rawValue: role) { config.role = value }
        let app = try await buildApplication(config)
        try await app.runService()
    }

    /// The log format `SWITCHBOARD_LOG_FORMAT` names, for this process (every bench logs as
    /// `serve` does). Safe to call again: the logging system is set up once.
    static func bootstrapLogging() throws {
        guard SwitchboardLogHandler.Format(rawValue: logFormat) != nil else {
            throw ValidationError("SWITCHBOARD_LOG_FORMAT must be text or json (got \(logFormat))")
        }
        _ = loggingBootstrapped
    }

    private static var logFormat: String { ProcessInfo.processInfo.environment["SWITCHBOARD_LOG_FORMAT"] ?? "text" }
    private static let loggingBootstrapped: Void = {
        let format = SwitchboardLogHandler.Format(rawValue: logFormat) ?? .text
        LoggingSystem.bootstrap { SwitchboardLogHandler(label: $0, format: format) }
    }()
}
