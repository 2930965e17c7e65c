import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchboardCore
import Testing

/// An organization's keys: an admin creates (shown once), lists and revokes them, over the API
/// and from the command line against the running server.
@Suite struct APIKeysTests {
    @Test(arguments: Backend.allCases) func anAdminCreatesListsAndRevokesKeys(_ backend: Backend) async throws {
        let harness = Harness(backend)
        let admin = try await harness.key(admin: true)
        let member = try await harness.key(user: "user_m")
        let other = try await harness.key(organization: "org_b", tenant: "tenant_b", user: "user_b", admin: true)
        try await harness.run { client in
            let created = try await client.post("/v1/api-keys", key: admin, ["user_id": "user_c", "role": "member"])
            #expect(created.status == .ok, "\(created.text)")
            let key = try #require(created["key"]?.stringValue)
            let keyID = try #require(created["key_id"]?.stringValue)
            #expect(created["user_id"] == "user_c" && created["role"] == "member")
            #expect(try await client.get("/v1/voice/campaigns", key: key).status == .ok)

            let listed = try await client.get("/v1/api-keys", key: admin)
            #expect(listed["count"] == 3)
            #expect(!listed.text.contains(key), "a listed key never shows the key itself")
            #expect(listed["api_keys"]?.arrayItems?.contains { $0["key_id"]?.stringValue == keyID } == true)
            // Members may not; another organization sees none of ours and cannot revoke them.
            #expect(try await client.get("/v1/api-keys", key: member).status == .forbidden)
            #expect(try await client.post("/v1/api-keys", key: member, ["user_id": "user_m"]).status == .forbidden)
            #expect(try await client.get("/v1/api-keys", key: other)["count"] == 1)
            #expect(try await client.request(.delete, "/v1/api-keys/\(keyID)", key: other).status == .notFound)
            #expect(try await client.post("/v1/api-keys", key: admin, ["role": "owner"]).status == .badRequest)

            #expect(try await client.request(.delete, "/v1/api-keys/\(keyID)", key: admin).status == .ok)
            #expect(try await client.get("/v1/voice/campaigns", key: key).status == .unauthorized)
            #expect(try await client.request(.delete, "/v1/api-keys/\(keyID)", key: admin).status == .notFound)
        }
    }

    /// `switchboard keys list` against the running server: a table at a terminal (through
    /// `script`, which gives it one), tab-separated rows and no header when piped.
    @Test func theCommandLineListsAndRevokesAgainstTheServer() async throws {
        let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/switchboard")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("build the command first: swift build --build-tests (scripts/test does)")
            return
        }
        let harness = Harness(.sqlite)
        let admin = try await harness.key(admin: true)
        try await harness.run(live: true) { client in
            let server = "http://127.0.0.1:\(client.client.port ?? 0)"
            let environment = ["SWITCHBOARD_API_KEY": admin, "SWITCHBOARD_SERVER": server]
            let piped = try Self.run(binary.path, ["keys", "list"], environment: environment)
            let rows = piped.output.split(separator: "\n")
            #expect(piped.status == 0 && rows.count == 1, "\(piped)")
            #expect(rows.first?.split(separator: "\t").dropFirst().joined(separator: " ") == "tenant_a user_a admin \(rows.first?.split(separator: "\t").last ?? "")")

            // At a terminal: a header, aligned columns.
            let command = "\(binary.path) keys list"
            let tty = try Self.run("/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment)
            #expect(tty.output.hasPrefix("KEY"), "\(tty)")
            #expect(tty.output.contains("TENANT    USER    ROLE   CREATED"), "\(tty)")

            let keyID = String(rows.first?.split(separator: "\t").first ?? "")
            let revoked = try Self.run(binary.path, ["keys", "revoke", keyID], environment: environment)
            #expect(revoked.status == 0 && revoked.output.isEmpty, "\(revoked)")
            // The key is gone: the command says why and fails.
            let refused = try Self.run(binary.path, ["keys", "list"], environment: environment)
            #expect(refused.status != 0 && refused.error.contains("401"), "\(refused)")
            #expect(try Self.run(binary.path, ["--version"], environment: [:]).output.trimmingCharacters(in: .whitespacesAndNewlines).count >= 5)
        }
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }
}

/// `switchboard campaigns create|watch|export` against the running server.
@Suite struct CampaignsCommandTests {
    @Test func createWatchAndExportFromTheCommandLine() async throws {
        let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/switchboard")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("build the command first: swift build --build-tests (scripts/test does)")
            return
        }
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
            let created = try APIKeysTests.run(binary.path, ["campaigns", "create", "--csv", csv.path, "--agent", agent, "--from", number, "--name", "CLI"],
                                               environment: environment)
            #expect(created.status == 0, "\(created)")
            let campaign = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!campaign.isEmpty && !campaign.contains("\n"), "only the id on a pipe: \(created.output)")
            #expect(created.error.contains("3 leads added, 0 duplicates, 1 invalid") && created.error.contains("invalid: not a number"), "\(created.error)")
            #expect(!created.error.contains("uploading"), "no progress bar on a pipe")

            let watched = try APIKeysTests.run(binary.path, ["campaigns", "watch", campaign, "--every", "0.2"], environment: environment)
            #expect(watched.status == 0 && watched.output == "completed total=3 busy=1 completed=1 no_answer=1\n", "\(watched)")
            #expect(watched.error.isEmpty, "no progress bar on a pipe: \(watched.error)")

            let calls = try APIKeysTests.run(binary.path, ["campaigns", "export", campaign], environment: environment)
            #expect(calls.status == 0 && calls.output.hasPrefix("call_id,campaign_id,") && calls.output.components(separatedBy: "\r\n").count == 5, "\(calls)")
            let failed = try APIKeysTests.run(binary.path, ["campaigns", "export", campaign, "--failed"], environment: environment)
            #expect(failed.output.components(separatedBy: "\r\n").dropFirst().compactMap { $0.split(separator: ",").first.map(String.init) }
                == ["+15550000002", "+15550000003"], "\(failed)")

            // At a terminal the upload draws its progress.
            let shown = try APIKeysTests.run("/usr/bin/script", ["-qec", "\(binary.path) campaigns create --csv \(csv.path) --agent \(agent) --from \(number)", "/dev/null"],
                                             environment: environment)
            #expect(shown.output.contains("uploading leads-") && shown.output.contains("100%"), "\(shown)")
        }
    }
}
