import ArgumentParser

@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Self-hostable outbound calling and texting.",
        version: SwitchboardVersion.current,
        subcommands: [Serve.self, Migrate.self, Keys.self, Campaigns.self, Bench.self])
}

/// `--database`, with `SWITCHBOARD_DATABASE_URL` as its default.
struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: "sqlite://PATH (default sqlite://switchboard.sqlite), sqlite://:memory: or postgres://USER:PASSWORD@HOST:PORT/DB. Env: SWITCHBOARD_DATABASE_URL.")
    var database: String?

    func url(_ fallback: String) -> String { database ?? fallback }
}

/// What `switchboard --version` prints; set by the release.
enum SwitchboardVersion {
    static let current = "0.9.0"
}
