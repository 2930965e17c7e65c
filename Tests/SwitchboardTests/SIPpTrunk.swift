import Foundation
import Testing

/// SIPp (Debian's `sip-tester`, installed by scripts/test) playing a SIP trunk on loopback with
/// `SIPp/trunk.xml`, which answers each dialed number by its last four digits. It runs for the
/// duration of `serve`, and its unexpected-message log is returned for the test to check.
struct SIPpTrunk {
    let port: Int

    /// `echo`: SIPp echoes our RTP back (`-rtp_echo`), a callee that repeats what it hears.
    static func serve(scenario name: String = "trunk", echo: Bool = false, _ body: (SIPpTrunk) async throws -> Void) async throws -> String {
        guard let scenario = Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "SIPp") else {
            Issue.record("SIPp/\(name).xml is not in the test bundle")
            return ""
        }
        let sipp = ["/usr/bin/sipp", "/usr/local/bin/sipp"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let sipp else {
            Issue.record("sipp is not installed: run the tests with scripts/test, which installs Debian's sip-tester")
            return ""
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sipp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A free port is found by trying: SIPp exits at once when its port is taken.
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...45_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: sipp)
            process.arguments = ["-sf", scenario.path, "-i", "127.0.0.1", "-p", "\(port)", "-nostdin", "-trace_err",
                                 "-error_file", directory.appendingPathComponent("errors.log").path]
                + (echo ? ["-rtp_echo", "-mp", "\(port + 2)"] : [])
            process.currentDirectoryURL = directory
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try await Task.sleep(for: .milliseconds(300))
            guard process.isRunning else { continue }
            // SIPp answers SIGTERM by waiting for its calls to end: it is stopped with SIGKILL.
            defer {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try await body(SIPpTrunk(port: port))
            return (try? String(contentsOf: directory.appendingPathComponent("errors.log"), encoding: .utf8)) ?? ""
        }
        Issue.record("sipp did not start on any of 5 ports")
        return ""
    }
}
