import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchboardCore
import Testing

/// The command line against a running server: what it prints at a terminal (through `script`,
/// which gives it one) and on a pipe.
@Suite struct CommandLineTests {
    /// The built command (`swift build --build-tests` builds it; scripts/test does).
    static func switchboard(sourceLocation: SourceLocation = #_sourceLocation) -> URL? {
        let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/switchboard")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("build the command first: swift build --build-tests (scripts/test does)", sourceLocation: sourceLocation)
            return nil
        }
        return binary
    }

    /// Runs a command to its end on a thread of its own: the server under test needs the
    /// concurrency pool's few threads while the command waits for it.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]) async throws
        -> (status: Int32, output: String, error: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
                let out = Pipe(), err = Pipe()
                process.standardOutput = out
                process.standardError = err
                process.standardInput = FileHandle.nullDevice
                do { try process.run() } catch { continuation.resume(throwing: error); return }
                // Both pipes drained at once, so neither fills while the other is read.
                let error = Locked(Data())
                let group = DispatchGroup()
                DispatchQueue.global().async(group: group) { error.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } }
                let output = out.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: output, as: UTF8.self),
                                                String(decoding: error.withLock { $0 }, as: UTF8.self)))
            }
        }
    }

    /// `switchboard keys list` against the running server: a table at a terminal (through
    /// `script`, which gives it one), tab-separated rows and no header when piped.
    @Test func theCommandLineListsAndRevokesAgainstTheServer() async throws {
        guard let binary = Self.switchboard() else { return }
        let harness = Harness(.sqlite)
        let admin = try await harness.key(admin: true)
        try await harness.run(live: true) { client in
            let server = "http://127.0.0.1:\(client.client.port ?? 0)"
            let environment = ["SWITCHBOARD_API_KEY": admin, "SWITCHBOARD_SERVER": server]
            let piped = try await Self.run(binary.path, ["keys", "list"], environment: environment)
            let rows = piped.output.split(separator: "\n")
            #expect(piped.status == 0 && rows.count == 1, "\(piped)")
            #expect(rows.first?.split(separator: "\t").dropFirst().joined(separator: " ") == "tenant_a user_a admin \(rows.first?.split(separator: "\t").last ?? "")")

            // At a terminal: a header, aligned columns.
            let command = "\(binary.path) keys list"
            let tty = try await Self.run("/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment)
            #expect(tty.output.hasPrefix("KEY"), "\(tty)")
            #expect(tty.output.contains("TENANT    USER    ROLE   CREATED"), "\(tty)")

            let keyID = String(rows.first?.split(separator: "\t").first ?? "")
            let revoked = try await Self.run(binary.path, ["keys", "revoke", keyID], environment: environment)
            #expect(revoked.status == 0 && revoked.output.isEmpty, "\(revoked)")
            // The key is gone: the command says why and fails.
            let refused = try await Self.run(binary.path, ["keys", "list"], environment: environment)
            #expect(refused.status != 0 && refused.error.contains("401"), "\(refused)")
            #expect(try await Self.run(binary.path, ["--version"], environment: [:]).output.trimmingCharacters(in: .whitespacesAndNewlines).count >= 5)
        }
    }

    @Test func createWatchAndExportFromTheCommandLine() async throws {
        guard let binary = Self.switchboard() else { return }
        let harness = Harness(.sqlite)
        let key = try await harness.key()
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("leads-\(UUID().uuidString).csv")
        try "phone_number,first_name,simulate\n+15550000001,Ann,completed\n+15550000002,Bob,busy\nnot a number,Cy,completed\n+15550000003,Di,no_answer\n"
            .write(to: csv, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: csv) }
        try await harness.run(live: true) { client in
            let agent = try await client.agent(key: key)
            let number = try await client.number(key: key)
            let environment = ["SWITCHBOARD_API_KEY": key, "SWITCHBOARD_SERVER": "http://127.0.0.1:\(client.client.port ?? 0)"]
            let created = try await Self.run(binary.path, ["campaigns", "create", "--csv", csv.path, "--agent", agent, "--from", number, "--name", "CLI"],
                                               environment: environment)
            #expect(created.status == 0, "\(created)")
            let campaign = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!campaign.isEmpty && !campaign.contains("\n"), "only the id on a pipe: \(created.output)")
            #expect(created.error.contains("3 leads added, 0 duplicates, 1 invalid") && created.error.contains("invalid: not a number"), "\(created.error)")
            #expect(!created.error.contains("uploading"), "no progress bar on a pipe")

            let watched = try await Self.run(binary.path, ["campaigns", "watch", campaign, "--every", "0.2"], environment: environment)
            #expect(watched.status == 0 && watched.output == "completed total=3 busy=1 completed=1 no_answer=1\n", "\(watched)")
            #expect(watched.error.isEmpty, "no progress bar on a pipe: \(watched.error)")

            let calls = try await Self.run(binary.path, ["campaigns", "export", campaign], environment: environment)
            #expect(calls.status == 0 && calls.output.hasPrefix("call_id,campaign_id,") && calls.output.components(separatedBy: "\r\n").count == 5, "\(calls)")
            let failed = try await Self.run(binary.path, ["campaigns", "export", campaign, "--failed"], environment: environment)
            #expect(failed.output.components(separatedBy: "\r\n").dropFirst().compactMap { $0.split(separator: ",").first.map(String.init) }
                == ["+15550000002", "+15550000003"], "\(failed)")

            // At a terminal the upload draws its progress.
            let shown = try await Self.run("/usr/bin/script", ["-qec", "\(binary.path) campaigns create --csv \(csv.path) --agent \(agent) --from \(number)", "/dev/null"],
                                             environment: environment)
            #expect(shown.output.contains("uploading leads-") && shown.output.contains("100%"), "\(shown)")
        }
    }
}
