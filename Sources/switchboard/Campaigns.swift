import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore

/// `switchboard campaigns create|watch|export` against a running server: what an operator does
/// from a terminal, with progress on the terminal and only results on a pipe.
struct Campaigns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create, watch and export voice campaigns on a running server.",
                                                    subcommands: [Create.self, Watch.self, Export.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a campaign and upload its leads from a CSV (a phone_number column; the others become the lead's fields). Prints its id.")
        @Option(help: "The CSV of leads.") var csv: String
        @Option(help: "The voice agent's id.") var agent: String
        @Option(help: "The number to call from (E.164).") var from: String
        @Option(help: "The campaign's name.") var name: String?
        @OptionGroup var server: Keys.ServerOption

        func run() async throws {
            let client = try ServerClient(server: server.server)
            guard let size = (try? FileManager.default.attributesOfItem(atPath: csv))?[.size] as? Int else { throw CLIError("cannot read \(csv)") }
            var body: [String: JSONValue] = ["leads": [], "voice_agent_id": .string(agent), "agent_outbound_number": .string(from)]
            if let name { body["campaign_name"] = .string(name) }
            let created = try await client.send(.POST, "/v1/voice/campaigns", json: .object(body))
            guard let id = created["campaign_id"]?.stringValue else { throw CLIError("the server returned no campaign_id") }
            let progress = Progress(label: "uploading \(URL(fileURLWithPath: csv).lastPathComponent)")
            let summary = try await client.upload(csv, size: size, to: "/v1/voice/campaigns/\(id)/leads") { sent in progress.show(sent, of: size) }
            progress.finish()
            let invalid = summary["invalid_leads"]?.arrayItems ?? []
            stderrLine("\(summary["added_count"]?.text ?? "0") leads added, \(summary["duplicate_leads_count"]?.text ?? "0") duplicates, "
                       + "\(summary["invalid_leads_count"]?.text ?? "0") invalid")
            for lead in invalid {
                stderrLine("  invalid: \(lead["phone_number"]?.text ?? "(none)") — \(lead["reason"]?.text ?? lead["error"]?.text ?? "")")
            }
            print(id)
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Follow a campaign until it is done: a progress bar per outcome at a terminal; the final counts.")
        @Argument(help: "The campaign's id.") var campaign: String
        @Option(help: "Seconds between reads.") var every: Double = 1
        @OptionGroup var server: Keys.ServerOption

        func run() async throws {
            let client = try ServerClient(server: server.server)
            let terminal = isatty(STDERR_FILENO) == 1
            while true {
                let reply = try await client.send(.GET, "/v1/voice/campaigns/\(campaign)")
                let campaign = reply["campaign"] ?? reply
                let progress = campaign["progress"] ?? reply["progress"] ?? .null
                let status = (campaign["status"]?.stringValue ?? reply["status"]?.stringValue ?? "").lowercased()
                let line = Self.line(progress, status: status)
                let done = ["completed", "ended", "canceled"].contains(status)
                if terminal { FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8)) }
                if done {
                    if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
                    print(Self.summary(progress, status: status))
                    return
                }
                try await Task.sleep(for: .seconds(every))
            }
        }

        /// `[########------------] 412/1000 completed 380 · busy 20 · no_answer 12 · dialing 8`
        static func line(_ progress: JSONValue, status: String) -> String {
            let total = count(progress, "total")
            let finished = ["completed", "failed", "not_called", "suppressed"].map { count(progress, $0) }.reduce(0, +)
            let width = 24
            let filled = total == 0 ? 0 : min(width, width * finished / total)
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            var parts = outcomes(progress).map { "\($0.key) \($0.value)" }
            if count(progress, "in_progress") > 0 { parts.append("dialing \(count(progress, "in_progress"))") }
            if count(progress, "retry_scheduled") > 0 { parts.append("retry \(count(progress, "retry_scheduled"))") }
            return "[\(bar)] \(finished)/\(total) \(status)  " + parts.joined(separator: " · ")
        }

        static func count(_ progress: JSONValue, _ key: String) -> Int { progress[key]?.text.flatMap { Int($0) } ?? 0 }

        static func outcomes(_ progress: JSONValue) -> [(key: String, value: Int)] {
            guard case .object(let counts)? = progress["outcomes"] else { return [] }
            let pairs: [(key: String, value: Int)] = counts.map { ($0.key, $0.value.text.flatMap { Int($0) } ?? 0) }
            return pairs.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
        }

        /// `status total=1000 completed=800 busy=120 …`, one line for a script.
        static func summary(_ progress: JSONValue, status: String) -> String {
            ([status, "total=\(count(progress, "total"))"] + outcomes(progress).map { "\($0.key)=\($0.value)" }).joined(separator: " ")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a campaign's calls (or, with --failed, the numbers not reached) as CSV to standard output.")
        @Argument(help: "The campaign's id.") var campaign: String
        @Flag(help: "The numbers not reached (failed-numbers) instead of every call.") var failed = false
        @Flag(help: "CSV: the only format, accepted for scripts that name it.") var csv = false
        @OptionGroup var server: Keys.ServerOption

        func run() async throws {
            let path = failed ? "/v1/voice/campaigns/\(campaign)/failed-numbers?format=csv" : "/v1/voice/calls?campaign_id=\(campaign)&format=csv"
            try await ServerClient(server: server.server).stream(path) { FileHandle.standardOutput.write(Data($0.readableBytesView)) }
        }
    }
}

/// A byte-count progress bar on standard error, drawn only at a terminal, at most ten times a second.
final class Progress: @unchecked Sendable {
    private let label: String
    private let terminal = isatty(STDERR_FILENO) == 1
    private var last = ContinuousClock.now - .seconds(1)
    private let lock = NSLock()

    init(label: String) { self.label = label }

    func show(_ done: Int, of total: Int) {
        guard terminal else { return }
        lock.lock(); defer { lock.unlock() }
        guard ContinuousClock.now - last >= .milliseconds(100) || done >= total else { return }
        last = .now
        let width = 24
        let filled = total == 0 ? width : min(width, width * done / total)
        let percent = total == 0 ? 100 : 100 * done / total
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(label) [\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))] \(percent)%".utf8))
    }

    func finish() { if terminal { FileHandle.standardError.write(Data("\n".utf8)) } }
}

func stderrLine(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

extension ServerClient {
    /// A file as the request body, read in chunks as it is sent; `sent` is told the bytes so far.
    func upload(_ file: String, size: Int, to path: String, sent: @escaping @Sendable (Int) -> Void) async throws -> JSONValue {
        let chunks = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
            guard let handle = FileHandle(forReadingAtPath: file) else { continuation.finish(throwing: CLIError("cannot read \(file)")); return }
            var total = 0
            while let data = try? handle.read(upToCount: 256 * 1024), !data.isEmpty {
                total += data.count
                continuation.yield(ByteBuffer(bytes: data))
                sent(total)
            }
            try? handle.close()
            continuation.finish()
        }
        return try await execute(.POST, path, contentType: "text/csv", body: .stream(chunks, length: .known(Int64(size))), timeout: .seconds(3600))
    }

    /// A GET whose body is handed on as it arrives (an export).
    func stream(_ path: String, _ chunk: (ByteBuffer) throws -> Void) async throws {
        try await withClient { client in
            let response = try await client.execute(request(.GET, path), timeout: .seconds(3600))
            guard response.status == .ok else {
                let body = try await response.body.collect(upTo: 1 << 20)
                throw CLIError("the server answered \(response.status.code): \(String(buffer: body))")
            }
            for try await buffer in response.body { try chunk(buffer) }
        }
    }
}
