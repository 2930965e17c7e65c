import ArgumentParser
import AsyncHTTPClient
import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Store
import SwitchboardCore
import SwitchboardServer

extension Bench {
    /// `switchboard bench api --leads N`: the API under load while a campaign of N leads dials
    /// (SQLite, simulator at time scale 0, caps lifted), in one process as `serve` runs it:
    /// `GET /v1/voice/campaigns/{id}` and `GET /v1/voice/calls?limit=100` at a steady rate
    /// (p50/p99), then each route's most requests/s under `wrk` (Debian's) beside a bare route's
    /// (`/health/live`) and `/health`'s.
    struct API: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Status and calls-list latency at a fixed rate, and peak throughput against /health, while a campaign dials.")
        @Option(help: "Leads in the dialing campaign.") var leads = 1_000_000
        @Option(help: "Requests per second for the latency run.") var rate = 1_000
        @Option(help: "Seconds of each latency run.") var seconds = 20
        @Option(help: "Seconds of each wrk run.") var wrkSeconds = 10
        @Option(help: "The port to serve on (loopback).") var port = 18_091

        func run() async throws {
            let bench = try await BenchDatabase.make()
            defer { bench.remove() }
            let (csv, campaign) = try await bench.prepare(leads: leads, maxConcurrent: 2_000)
            _ = try await bench.upload(csv, to: campaign)
            try? FileManager.default.removeItem(at: csv)
            let key = try await bench.store.createAPIKey(organizationID: "bench", tenantID: "bench", userID: "bench", role: .admin, now: Date())
            await bench.close()

            try await bench.serving(port: port, role: .all, simulatorTimeScale: 0) {
                let base = "http://127.0.0.1:\(port)"
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                let status = "\(base)/v1/voice/campaigns/\(campaign.id)"
                let calls = "\(base)/v1/voice/calls?limit=100"
                // Give the dialer a moment to be dialing flat out.
                try await Task.sleep(for: .seconds(2))

                for (name, url) in [("status", status), ("calls list", calls)] {
                    let result = try await Self.steady(client, url: url, key: key, rate: rate, seconds: seconds)
                    let left = Self.leadsToDial(try await Self.campaign(client, status, key: key))
                    print(String(format: "%@ at %d req/s for %d s while dialing: p50 %.2f ms, p99 %.2f ms, %d errors; %@",
                                 name, rate, seconds, result.p50, result.p99, result.errors, Self.dialingNote(left)))
                }
                // The baseline is a bare route (`/health/live` answers without the database);
                // `/health` adds one database round trip.
                let bare = try await Self.wrk("\(base)/health/live", key: nil, seconds: wrkSeconds)
                let health = try await Self.wrk("\(base)/health", key: nil, seconds: wrkSeconds)
                let statusMax = try await Self.wrk(status, key: key, seconds: wrkSeconds)
                let callsMax = try await Self.wrk(calls, key: key, seconds: wrkSeconds)
                let campaign = try await Self.campaign(client, status, key: key)
                let left = Self.leadsToDial(campaign)
                print(String(format: "wrk (2 threads, 32 connections, %d s each, while dialing): bare route /health/live %.0f req/s; /health (one query) %.0f req/s; "
                             + "status %.0f req/s (%.2f of the bare route, %.2f of /health); calls list %.0f req/s (%.2f of the bare route); %@",
                             wrkSeconds, bare, health, statusMax, statusMax / bare, statusMax / health, callsMax, callsMax / bare, Self.dialingNote(left)))
                print("campaign while measured: status \(campaign["status"]?.stringValue ?? "?"), progress \(campaign["progress"]?.jsonText ?? "?")")
                try await client.shutdown()
            }
        }

        static func get(_ client: HTTPClient, _ url: String, key: String) async throws -> UInt {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "X-API-Key", value: key)
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 16 << 20)
            return response.status.code
        }

        /// Leads not yet dialled or still on a call at the end of a run: a figure is only
        /// "while dialing" if some are. A fast dialer finishes a million leads within a minute,
        /// so a long run needs a larger campaign (`--leads`), and the line says which it was.
        static func leadsToDial(_ campaign: JSONValue) -> Int {
            let progress = campaign["progress"]
            return ["pending", "in_progress", "retry_scheduled"].reduce(0) { sum, state in
                if case .number(let count)? = progress?[state] { sum + Int(count) } else { sum }
            }
        }

        static func dialingNote(_ left: Int) -> String {
            left > 0 ? "still dialing at its end (\(left) leads to go)" : "THE CAMPAIGN FINISHED DURING IT: not all of it was while dialing (more --leads)"
        }

        static func campaign(_ client: HTTPClient, _ url: String, key: String) async throws -> JSONValue {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "X-API-Key", value: key)
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            return try JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
        }

        /// Requests started at a fixed rate whatever the answers' pace (an open loop, so a slow
        /// answer does not slow the load); latency from each start to its whole answer.
        static func steady(_ client: HTTPClient, url: String, key: String, rate: Int, seconds: Int) async throws
            -> (p50: Double, p99: Double, errors: Int) {
            let clock = ContinuousClock()
            let start = clock.now
            let interval = Duration.seconds(1) / rate
            let results = try await withThrowingTaskGroup(of: Double?.self) { group in
                for index in 0..<(rate * seconds) {
                    try await clock.sleep(until: start + interval * index)
                    group.addTask {
                        let began = clock.now
                        guard (try? await get(client, url, key: key)) == 200 else { return nil }
                        return (clock.now - began).milliseconds
                    }
                }
                var all: [Double?] = []
                for try await result in group { all.append(result) }
                return all
            }
            let latencies = results.compactMap { $0 }.sorted()
            return (latencies.quantile(0.5), latencies.quantile(0.99), results.count - latencies.count)
        }

        /// Debian's wrk against `url`: its requests per second. Waited for on a thread of its
        /// own, so the server in this process keeps every thread of the concurrency pool.
        static func wrk(_ url: String, key: String?, seconds: Int) async throws -> Double {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try runWRK(url, key: key, seconds: seconds) })
                }
            }
        }

        private static func runWRK(_ url: String, key: String?, seconds: Int) throws -> Double {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
            process.arguments = ["-t2", "-c32", "-d\(seconds)s"] + (key.map { ["-H", "X-API-Key: \($0)"] } ?? []) + [url]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
                  let rate = Double(line.split(separator: " ").last ?? "") else {
                throw ValidationError("wrk gave no rate (apt-get install wrk): \(output)")
            }
            return rate
        }
    }
}
