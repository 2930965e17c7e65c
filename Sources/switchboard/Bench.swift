import ArgumentParser

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure ingest and dispatch (see docs/performance.md).")
    func run() async throws {}
}
