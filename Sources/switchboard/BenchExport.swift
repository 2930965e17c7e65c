import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SQLKit
import Store
import SwitchboardCore
import SwitchboardServer

extension Bench {
    /// `switchboard bench export --leads N`: a campaign of N leads that all failed, exported as
    /// CSV through the HTTP route (`failed-numbers?format=csv`) by a client reading the stream;
    /// reports rows, rate and the process's peak RSS, which stays flat as N grows.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exports N failed numbers as CSV through the API; reports rows/s and peak RSS (server and client in one process).")
        @Option(help: "Failed leads in the campaign.") var leads = 1_000_000
        @Option(help: "The port to serve on (loopback).") var port = 18_090

        func run() async throws {
            let bench = try await BenchDatabase.make()
            defer { bench.remove() }
            let campaign = try await bench.campaign(maxConcurrent: 1)
            // Every lead dialled and failed (busy), as a finished campaign leaves them; written by
            // SQLite itself, so the process's memory is the export's alone.
            try await bench.database.write { db in
                try await db.raw("""
                    INSERT INTO leads (campaign_id, phone_number, state, due_at, attempts, last_outcome)
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(literal: leads))
                    SELECT \(bind: campaign.key), printf('+1555%07d', i), 'done', 0, 1, 'busy' FROM n
                    """).run()
            }
            let key = try await bench.store.createAPIKey(organizationID: "bench", tenantID: "bench", userID: "bench", role: .admin, now: Date())
            await bench.close()

            try await bench.serving(port: port, role: .api) {
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/voice/campaigns/\(campaign.id)/failed-numbers?format=csv")
                request.headers.add(name: "X-API-Key", value: key)
                let response = try await client.execute(request, timeout: .seconds(600))
                guard response.status == .ok else {
                    try await client.shutdown()
                    throw ValidationError("the export answered \(response.status.code)")
                }
                resetPeakRSS()
                let started = Date()
                var lines = 0
                var bytes = 0
                for try await chunk in response.body {
                    bytes += chunk.readableBytes
                    lines += chunk.readableBytesView.lazy.filter { $0 == UInt8(ascii: "\n") }.count
                }
                let seconds = Date().timeIntervalSince(started)
                try await client.shutdown()
                print(String(format: "export failed-numbers CSV (sqlite): %d rows, %.1f MB in %.2f s = %.0f rows/s; peak RSS while exporting %.0f MB",
                             lines - 1, Double(bytes) / 1_048_576, seconds, Double(lines - 1) / seconds, Double(peakRSSKilobytes()) / 1024))
            }
        }
    }
}
