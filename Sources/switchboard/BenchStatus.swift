import ArgumentParser
import Foundation
import Store
import SwitchboardCore

extension Bench {
    /// `switchboard bench status --leads N`: a campaign read as a status request reads it (the
    /// campaign beside its kept per-campaign counts, next due lead and last call change), against
    /// counting the campaign's leads as every read did before the counts were kept; and read again
    /// with nothing written since, which SQLite answers from the read it keeps.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reads a campaign's progress R times at N leads: kept counts against counting the leads, and unchanged; p50/p99 and reads/s.")
        @Option(help: "Leads in the campaign.") var leads = 100_000
        @Option(help: "Reads of each kind.") var reads = 200
        @Option(help: "A postgres:// URL to measure on (a fresh schema in it); default a temporary SQLite file.") var database: String?

        func run() async throws {
            let bench = try await BenchDatabase.make(database)
            defer { bench.remove() }
            let (csv, campaign) = try await bench.prepare(leads: leads, maxConcurrent: 100)
            _ = try await bench.upload(csv, to: campaign)
            try? FileManager.default.removeItem(at: csv)
            let store = bench.store

            // As the status route reads it when something was written since its last read: the
            // campaign beside its progress, one statement; and as it reads when nothing was
            // (kept on SQLite, read again on PostgreSQL).
            let kept = try await Self.time(reads) { _ = try await store.readCampaignWithProgress(id: campaign.id, organizationID: campaign.organizationID) }
            let unchanged = try await Self.time(reads) { _ = try await store.campaignWithProgress(id: campaign.id, organizationID: campaign.organizationID) }
            let counted = try await Self.time(max(1, reads / 10)) { _ = try await store.countLeads(campaignID: campaign.key) }
            let total = try await store.progress(campaignID: campaign.key).total
            await bench.close()
            print(String(format: "status read (%@, %d leads): kept counts p50 %.2f ms, p99 %.2f ms, %.0f reads/s",
                         bench.flavor, total, kept.p50, kept.p99, kept.rate))
            print(String(format: "status read with nothing written since the last: p50 %.1f µs, p99 %.1f µs, %.0f reads/s",
                         unchanged.p50 * 1000, unchanged.p99 * 1000, unchanged.rate))
            print(String(format: "counting the leads (before): p50 %.2f ms, p99 %.2f ms, %.0f reads/s; ratio %.0f×",
                         counted.p50, counted.p99, counted.rate, kept.rate / counted.rate))
        }

        /// Latencies of `count` sequential runs, in milliseconds, and runs per second.
        static func time(_ count: Int, _ body: () async throws -> Void) async throws -> (p50: Double, p99: Double, rate: Double) {
            var samples: [Double] = []
            let clock = ContinuousClock()
            let started = clock.now
            for _ in 0..<count {
                let start = clock.now
                try await body()
                let elapsed = clock.now - start
                samples.append(elapsed.milliseconds)
            }
            let seconds = (clock.now - started).milliseconds / 1_000
            samples.sort()
            return (samples.quantile(0.5), samples.quantile(0.99), Double(count) / seconds)
        }
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1_000 + Double(components.attoseconds) / 1e15 }
}

extension Array where Element == Double {
    /// The value at quantile `q` of sorted samples (NaN when there are none).
    func quantile(_ q: Double) -> Double {
        isEmpty ? .nan : self[Swift.min(count - 1, Int(Double(count) * q))]
    }
}
