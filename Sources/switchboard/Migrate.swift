import ArgumentParser
import Logging
import Store
import SwitchboardServer

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the database migrations that are missing.")
    @OptionGroup var database: DatabaseOption

    func run() async throws {
        let url = database.url(try AppConfiguration.fromEnvironment().databaseURL)
        let logger = Logger(label: "switchboard.migrate")
        let provider = try await DatabaseURL.open(url, logger: logger)
        let applied = try await Store(database: provider, logger: logger).migrate()
        await provider.close()
        print(applied.isEmpty ? "database is up to date" : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
    }
}
