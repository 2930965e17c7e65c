import ArgumentParser
import Dialer
import Foundation
import AsyncHTTPClient
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import Logging
import Messaging
import SQLKit
import ServiceLifecycle
import Store
import SwitchboardCore
import SwitchboardServer
import TelephonySimulator

/// `switchboard bench ingest|dispatch|texts|calls|export|status|api`: the figures in docs/performance.md. Each run works in a
/// fresh temporary SQLite file, or a fresh schema of `--database postgres://…`, and removes it
/// after.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure lead ingest and dispatch on the embedded database (see docs/performance.md).",
        subcommands: [Ingest.self, Dispatch.self, Texts.self, Calls.self, Export.self, Status.self, API.self])

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Streams a CSV of N leads through the upload path; then sqlite3 .import (psql \\copy on PostgreSQL) of the same rows into the same table.")
        @Option(help: "Leads to ingest.") var leads = 100_000
        @Flag(help: "Skip the sqlite3 .import (or psql \\copy) comparison.") var noBaseline = false
        @Option(help: "A postgres:// URL to measure on (a fresh schema in it); default a temporary SQLite file.") var database: String?
        @Flag(help: "Post the CSV to the app's upload route (POST /v1/voice/campaigns/{id}/leads) on loopback, as a client would.")
        var http = false
        @Flag(help: "With --http, post the leads as a JSON array of lead objects instead of CSV.") var json = false
        @Option(help: "The port to serve on with --http (loopback).") var port = 18_092

        func run() async throws {
            let bench = try await BenchDatabase.make(database)
            defer { bench.remove() }
            let (csv, campaign) = try await bench.prepare(leads: leads, maxConcurrent: 100)
            let rows = noBaseline ? nil : try baselineRows(count: leads, campaignID: campaign.key, in: bench.directory)
            if let rows, let database {
                // A fresh cluster creates its WAL files as it first needs them, 16 MB each and
                // synced: whichever side ran first paid for that (2 s of a million leads), the
                // other reused them. An untimed copy first makes both sides reuse them.
                _ = try await postgresCopyBaseline(rows, postgres: database)
                try psql(database, "CHECKPOINT")
            }

            let (added, seconds) = http || json ? try await Self.overHTTP(bench, csv: csv, json: json, campaign: campaign, port: port) : try await {
                let started = Date()
                let summary = try await bench.upload(csv, to: campaign)
                await bench.close()
                return (summary.added, Date().timeIntervalSince(started))
            }()
            let rate = Double(added) / seconds
            print(String(format: "switchboard ingest (%@%@): %d leads in %.2f s = %.0f leads/s (%@ parse, E.164 validation, staged %@, commit)",
                         bench.flavor, json ? ", JSON over HTTP" : http ? ", CSV over HTTP" : "", added, seconds, rate, json ? "JSON" : "CSV",
                         bench.flavor == "postgres" ? "COPY" : "inserts"))
            guard let rows else { return }
            if let database {
                let baseline = try await postgresCopyBaseline(rows, postgres: database)
                print(String(format: "psql \\copy:         %d rows in %.2f s = %.0f rows/s (same rows, same table and indexes)",
                             leads, baseline, Double(leads) / baseline))
                print(String(format: "ratio: %.2f", rate / (Double(leads) / baseline)))
                return
            }
            let baseline = try sqliteImportBaseline(rows, in: bench.directory)
            print(String(format: "sqlite3 .import:    %d rows in %.2f s = %.0f rows/s (same rows, same table and indexes)",
                         leads, baseline, Double(leads) / baseline))
            print(String(format: "ratio: %.2f", rate / (Double(leads) / baseline)))
        }

        /// The app serving the database (API role), and the leads posted as one body, the CSV file
        /// or the same rows as a JSON array; timed from the request to the summary.
        static func overHTTP(_ bench: BenchDatabase, csv: URL, json: Bool, campaign: CampaignRecord, port: Int) async throws
            -> (added: Int, seconds: Double) {
            let key = try await bench.store.createAPIKey(organizationID: "bench", tenantID: "bench", userID: "bench", role: .admin, now: Date())
            await bench.closeConnections()
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = client.shutdown() }
            do {
                let result = try await bench.serving(port: port, role: .api) {
                    try await post(client, csv: csv, json: json, campaign: campaign, port: port, key: key)
                }
                await bench.dropSchema()
                return result
            } catch {
                await bench.dropSchema()
                throw error
            }
        }

        private static func post(_ client: HTTPClient, csv: URL, json: Bool, campaign: CampaignRecord, port: Int, key: String) async throws
            -> (added: Int, seconds: Double) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/voice/campaigns/\(campaign.id)/leads")
            request.method = .POST
            request.headers.add(name: "X-API-Key", value: key)
            request.headers.add(name: "Content-Type", value: json ? "application/json" : "text/csv")
            request.body = .bytes(json ? try jsonLeads(fromCSV: csv) : ByteBuffer(data: try Data(contentsOf: csv)))
            let started = Date()
            let response = try await client.execute(request, timeout: .seconds(3_600))
            let body = try await response.body.collect(upTo: 1 << 20)
            let seconds = Date().timeIntervalSince(started)
            let summary = try JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
            guard response.status == .ok, case .number(let added)? = summary["added_count"] else {
                throw ValidationError("the upload answered \(response.status): \(String(buffer: body))")
            }
            return (Int(added), seconds)
        }

        /// The CSV's `phone_number,first_name` rows as `[{"phone_number":…,"first_name":…},…]`.
        static func jsonLeads(fromCSV csv: URL) throws -> ByteBuffer {
            var body = ByteBuffer(string: "[")
            for (index, line) in try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").dropFirst().enumerated() {
                let fields = line.split(separator: ",", maxSplits: 1)
                guard fields.count == 2 else { continue }
                body.writeString((index == 0 ? "" : ",") + #"{"phone_number":"\#(fields[0])","first_name":"\#(fields[1])"}"#)
            }
            body.writeString("]")
            return body
        }
    }

    struct Dispatch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dials a campaign of N leads through the simulator at time scale 0; reports attempts/s and peak RSS while dialing.")
        @Option(help: "Leads in the campaign.") var leads = 100_000
        @Option(help: "The campaign's concurrency cap.") var concurrency = 2_000
        @Option(help: "Claims per transaction.") var batch = 500
        @Option(help: "Dialers sharing the queue, each with its own connections.") var dialers = 1
        @Option(help: "A postgres:// URL to measure on (a fresh schema in it); default a temporary SQLite file.") var database: String?

        func run() async throws {
            let bench = try await BenchDatabase.make(database)
            defer { bench.remove() }
            let (csv, campaign) = try await bench.prepare(leads: leads, maxConcurrent: concurrency)
            _ = try await bench.upload(csv, to: campaign)
            try? FileManager.default.removeItem(at: csv)

            resetPeakRSS()
            let clock = SystemClock()
            var logger = Logger(label: "bench")
            logger.logLevel = .warning
            let log = SimulatorDialLog()
            var engines: [(Dialer, any DatabaseProvider)] = []
            for _ in 0..<max(1, dialers) {
                let database = try await DatabaseURL.open(bench.url, sqliteWriterNiceness: try BenchDatabase.writerNiceness(), logger: logger)
                let dialer = Dialer(store: Store(database: database, logger: logger),
                                    providers: ProviderRegistry([SimulatorProvider(timeScale: 0, clock: clock, log: log)]),
                                    clock: clock, configuration: DialerConfiguration(limits: ClaimLimits(batch: batch), pollInterval: 0.01),
                                    logger: logger)
                engines.append((dialer, database))
            }
            let started = Date()
            let runs = engines.map { engine in Task { try await engine.0.run() } }
            // Polled every 10 ms: at 100 ms a 5 s run was measured in steps of 2–4%, the size
            // of the changes it had to tell apart. A poll is one bounded read (~20 µs).
            while try await bench.store.campaign(id: campaign.id, organizationID: "bench")?.status != .completed {
                try await Task.sleep(for: .milliseconds(10))
            }
            let seconds = Date().timeIntervalSince(started)
            for run in runs { run.cancel(); _ = try? await run.value }
            for engine in engines { await engine.1.close() }
            let progress = try await bench.store.progress(campaignID: campaign.key)
            await bench.close()
            print(String(format: "dispatch (%@, %d dialer%@): %d attempts in %.2f s = %.0f attempts/s; peak RSS while dialing %.0f MB; dials at the carrier %d",
                         bench.flavor, engines.count, engines.count == 1 ? "" : "s", progress.completed + progress.failed, seconds, Double(progress.completed + progress.failed) / seconds,
                         Double(peakRSSKilobytes()) / 1024, log.count))
        }
    }
}

extension Bench {
    struct Texts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Texts an SMS campaign's N contacts their starting message through the simulator; reports texts/s and peak RSS.")
        @Option(help: "Contacts in the campaign.") var contacts = 100_000
        @Option(help: "Conversations and texts taken per pass.") var batch = 500
        @Option(help: "A postgres:// URL to measure on (a fresh schema in it); default a temporary SQLite file.") var database: String?

        func run() async throws {
            let bench = try await BenchDatabase.make(database)
            defer { bench.remove() }
            let now = Date()
            try await bench.store.insertPhoneNumber(PhoneNumberRecord(
                id: "phnum_bench", phoneNumber: "+15175550100", organizationID: "bench", tenantID: "bench", userID: "bench",
                provider: .simulator, capabilities: [.sms], nickname: nil, areaCode: "517", settings: [:], maxConcurrentCalls: 1,
                callsPerSecond: 0, createdAt: now))
            try await bench.store.insertAgent(AgentRecord(id: "agent_bench", organizationID: "bench", tenantID: "bench", userID: "bench",
                                                          type: .sms, name: "Bench", body: [:], createdAt: now))
            // The contacts live only for the create call: the measured engine holds none of them.
            let campaign = try await bench.store.createSMSCampaign(SMSCampaignRecord(
                id: "bench", organizationID: "bench", tenantID: "bench", userID: "bench", createdByUserID: "bench", name: "bench",
                agentID: "agent_bench", fromNumber: "+15175550100", body: ["starting_message": "Hi {{first_name}}, a quick question?"],
                // Open all day: the measurement must not wait for the contacts' morning.
                schedule: TextSchedule(callingHours: CallingHours(start: 0, end: 1440)),
                createdAt: now, updatedAt: now), contacts: Self.contacts(0..<contacts))

            resetPeakRSS()
            var logger = Logger(label: "bench")
            logger.logLevel = .warning
            var configuration = SMSEngineConfiguration()
            configuration.batch = batch
            configuration.pollInterval = 0.01
            let engine = SMSEngine(store: bench.store, providers: [SimulatorMessaging()], agent: nil, clock: SystemClock(),
                                   configuration: configuration, wakeDialer: {}, logger: logger)
            let started = Date()
            let running = Task { try await engine.run() }
            while try await bench.store.smsCampaign(id: campaign.id, organizationID: "bench")?.status != .completed {
                try await Task.sleep(for: .milliseconds(10))
            }
            let seconds = Date().timeIntervalSince(started)
            running.cancel()
            _ = try? await running.value
            let counts = try await bench.store.smsCampaignCounts(id: campaign.key)
            await bench.close()
            let sent = counts["messages_outbound_delivered"] ?? 0
            print(String(format: "texts (%@): %d starting messages rendered, queued and sent in %.2f s = %.0f texts/s; peak RSS %.0f MB",
                         bench.flavor, sent, seconds, Double(sent) / seconds, Double(peakRSSKilobytes()) / 1024))
        }

        static func contacts(_ range: Range<Int>) throws -> [ValidLead] {
            try range.map { i in
                ValidLead(phone: try PhoneNumber(parsing: "+1555\(String(format: "%07d", i))"), fields: ["first_name": .string("Lead \(i)")])
            }
        }
    }
}

/// A throwaway database with an organization's number ready to dial.
struct BenchDatabase {
    let directory: URL
    let url: String
    let database: any DatabaseProvider
    let store: Store
    var flavor: String { database.flavor == .postgres ? "postgres" : "sqlite" }
    /// The SQLite writer's nice value as `serve` takes it (`SWITCHBOARD_SQLITE_WRITER_NICE`), so a
    /// bench runs as the server would and can be run both ways.
    static func writerNiceness() throws -> Int32 { try AppConfiguration.fromEnvironment().sqliteWriterNiceness }

    static func make(_ postgres: String? = nil) async throws -> BenchDatabase {
        // Log as `serve` does: swift-log's default handler formats a logger's metadata each
        // time it is set, which a dialer does for every call it places (2.5% of a bench's CPU).
        try Serve.bootstrapLogging()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        var url = "sqlite://\(directory.appendingPathComponent("bench.sqlite").path)"
        if let postgres {
            let schema = "bench_\(UUID().uuidString.prefix(8).lowercased())"
            let admin = try await DatabaseURL.open(postgres, logger: logger)
            try await admin.write { db in try await db.raw("CREATE SCHEMA \(ident: schema)").run() }
            await admin.close()
            url = postgres + (postgres.contains("?") ? "&" : "?") + "search_path=\(schema)"
        }
        let database = try await DatabaseURL.open(url, sqliteWriterNiceness: try writerNiceness(), logger: logger)
        let store = Store(database: database, logger: logger)
        try await store.migrate()
        return BenchDatabase(directory: directory, url: url, database: database, store: store)
    }

    /// The PostgreSQL schema the bench made, if any.
    var schema: String? {
        database.flavor == .postgres ? URLComponents(string: url)?.queryItems?.first { $0.name == "search_path" }?.value : nil
    }

    /// Closes the connections and drops the bench's PostgreSQL schema.
    func close() async {
        await database.close()
        await dropSchema()
    }

    /// Closes the connections only, for the app to serve the database.
    func closeConnections() async { await database.close() }

    /// Drops the bench's PostgreSQL schema over a connection of its own, once the app that
    /// served it has stopped.
    func dropSchema() async {
        guard let schema, let base = url.components(separatedBy: "?").first else { return }
        guard let admin = try? await DatabaseURL.open(base, logger: Logger(label: "bench")) else { return }
        try? await admin.write { db in try await db.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
        await admin.close()
    }

    func campaign(maxConcurrent: Int) async throws -> CampaignRecord {
        let now = Date()
        try await store.insertPhoneNumber(PhoneNumberRecord(
            id: "phnum_bench", phoneNumber: "+15175550100", organizationID: "bench", tenantID: "bench", userID: "bench", provider: .simulator,
            capabilities: [.voice], nickname: nil, areaCode: "517", settings: [:], maxConcurrentCalls: maxConcurrent, callsPerSecond: 0,
            createdAt: now))
        let settings = CampaignSettings(agentID: "agent_bench", outboundNumber: "+15175550100", numbers: ["+15175550100"], redialEnabled: false,
                                        retry: .noRetries, callingHours: CallingHours(start: 0, end: 1440), maxConcurrentCalls: maxConcurrent)
        return try await store.createCampaign(CampaignRecord(
            id: "bench", organizationID: "bench", tenantID: "bench", userID: "bench", settings: settings, beginAt: now,
            endAt: now.addingTimeInterval(86_400), createdAt: now, updatedAt: now), leads: [])
    }

    /// A CSV of `leads` distinct numbers, and an empty campaign to upload it to.
    func prepare(leads: Int, maxConcurrent: Int) async throws -> (csv: URL, campaign: CampaignRecord) {
        let csv = directory.appendingPathComponent("leads.csv")
        try writeLeadsCSV(count: leads, to: csv)
        return (csv, try await campaign(maxConcurrent: maxConcurrent))
    }

    /// The CSV through the upload path, in the chunks a streamed request body arrives in.
    func upload(_ csv: URL, to campaign: CampaignRecord) async throws -> LeadImportSession.Summary {
        let session = try await LeadImportSession.begin(campaignID: campaign.key, format: .csv, store: store, clock: SystemClock())
        let handle = try FileHandle(forReadingFrom: csv)
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 256 * 1024), !chunk.isEmpty { try await session.feed(chunk) }
        return try await session.finish()
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Runs `body` against the app as `serve` builds it, on this database and a loopback port,
    /// once it answers (the benches time requests, not start-up). Then the app shuts down as on
    /// SIGTERM: cancelled instead, its server logged the cancellation as errors.
    func serving<T>(port: Int, role: AppConfiguration.Role, simulatorTimeScale: Double = 1, _ body: () async throws -> T) async throws -> T {
        var config = AppConfiguration()
        config.databaseURL = url
        config.sqliteWriterNiceness = try Self.writerNiceness()
        config.port = port
        config.role = role
        config.simulatorTimeScale = simulatorTimeScale
        config.localSpeech = false
        config.recordingsDirectory = directory.appendingPathComponent("recordings").path
        config.logLevel = .warning
        let app = try await buildApplication(config)
        let group = ServiceGroup(configuration: .init(services: [app], logger: app.logger))
        let running = Task { try await group.run() }
        do {
            try await Self.waitUntilLive(port: port)
            let result = try await body()
            await group.triggerGracefulShutdown()
            _ = await running.result
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = await running.result
            throw error
        }
    }

    private static func waitUntilLive(port: Int) async throws {
        let live = HTTPClientRequest(url: "http://127.0.0.1:\(port)/health/live")
        for _ in 0..<100 {
            if let response = try? await HTTPClient.shared.execute(live, timeout: .seconds(1)), response.status == .ok { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("the server did not answer on port \(port)")
    }
}

/// `phone_number,first_name` rows with distinct numbers, written in blocks.
func writeLeadsCSV(count: Int, to url: URL) throws {
    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    var block = "phone_number,first_name\n"
    for i in 0..<count {
        block += "+1555\(String(format: "%07d", i)),Lead \(i)\n"
        if block.utf8.count > 1 << 20 { handle.write(Data(block.utf8)); block = "" }
    }
    handle.write(Data(block.utf8))
}

/// The columns of `baselineRows`: every column of `leads`, in its order. With fewer, the sqlite3
/// shell filled the rest with NULL and wrote a warning to stderr for every row, which the
/// baseline's time counted.
let baselineColumns = "id, campaign_id, phone_number, fields, state, due_at, due_reason, attempts, last_outcome, claim_id, lease_until, call_id, "
    + "conversation_id, escalation_reason"

/// The bench's leads as full `leads` rows, a CSV file for the database's own bulk loader.
func baselineRows(count: Int, campaignID: String, in directory: URL) throws -> URL {
    let rows = directory.appendingPathComponent("rows.csv")
    _ = FileManager.default.createFile(atPath: rows.path, contents: nil)
    let handle = try FileHandle(forWritingTo: rows)
    var block = ""
    let due = Date().timeIntervalSince1970
    for i in 0..<count {
        block += "\(i + 1),\(campaignID),+1555\(String(format: "%07d", i)),\"{\"\"first_name\"\":\"\"Lead \(i)\"\"}\",queued,\(due),new,0,,,,,,\n"
        if block.utf8.count > 1 << 20 { handle.write(Data(block.utf8)); block = "" }
    }
    handle.write(Data(block.utf8))
    try handle.close()
    return rows
}

/// The rows copied by psql's `\copy` into the `leads` table of a fresh schema the migrations
/// made (the same columns and indexes). Returns the seconds the copy took.
func postgresCopyBaseline(_ rows: URL, postgres: String) async throws -> Double {
    let baseline = try await BenchDatabase.make(postgres)
    defer { baseline.remove() }
    let schema = URLComponents(string: baseline.url)?.queryItems?.first { $0.name == "search_path" }?.value ?? "public"
    try psql(postgres, "CHECKPOINT")
    let started = Date()
    try psql(postgres, "SET search_path TO \(schema)", "\\copy leads (\(baselineColumns)) FROM '\(rows.path)' CSV")
    let seconds = Date().timeIntervalSince(started)
    await baseline.close()
    return seconds
}

/// Runs each command through psql, stopping at the first error. Each side of the ingest bench
/// starts right after a CHECKPOINT: a checkpoint one side's WAL started would otherwise write
/// its pages during the other side's time (seconds, at a million rows).
func psql(_ postgres: String, _ commands: String...) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["psql", postgres, "-v", "ON_ERROR_STOP=1", "-q"] + commands.flatMap { ["-c", $0] }
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ValidationError("psql failed on \(commands.last ?? ""); is psql installed?") }
}

/// The rows imported by the sqlite3 shell into a fresh database with the same schema and
/// indexes. Returns the seconds the import took.
func sqliteImportBaseline(_ rows: URL, in directory: URL) throws -> Double {
    let database = directory.appendingPathComponent("baseline.sqlite").path
    let schema = Process()
    schema.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    schema.arguments = ["sqlite3", database, ".read /dev/stdin"]
    schema.standardOutput = FileHandle.nullDevice
    // The schema exactly as the migrations leave it.
    let source = directory.appendingPathComponent("bench.sqlite").path
    let dump = Process()
    dump.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    dump.arguments = ["sqlite3", source, ".schema leads"]
    let pipe = Pipe()
    dump.standardOutput = pipe
    try dump.run()
    dump.waitUntilExit()
    let ddl = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let input = Pipe()
    schema.standardInput = input
    try schema.run()
    input.fileHandleForWriting.write(Data("PRAGMA journal_mode=WAL;\n\(ddl)\n".utf8))
    try input.fileHandleForWriting.close()
    schema.waitUntilExit()

    let importer = Process()
    importer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    importer.arguments = ["sqlite3", database, "-cmd", "PRAGMA synchronous=NORMAL", ".import --csv \(rows.path) leads"]
    let started = Date()
    try importer.run()
    importer.waitUntilExit()
    let seconds = Date().timeIntervalSince(started)
    guard importer.terminationStatus == 0 else { throw ValidationError("sqlite3 .import failed; is the sqlite3 shell installed?") }
    return seconds
}

/// Resets the kernel's high-water mark of resident memory, so the next reading covers only
/// what follows. The heap the setup freed (a million contacts built for one call) is handed
/// back first: glibc keeps freed memory resident until asked, and the reading would count it.
func resetPeakRSS() {
    _ = mallocTrim(0)
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// glibc's `malloc_trim`, which its module map leaves out (it is declared in `malloc.h`).
@_silgen_name("malloc_trim") private func mallocTrim(_ pad: Int) -> Int32

func peakRSSKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
    return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
}
