import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore

/// The command line's view of a running server: `--server URL`, the key from
/// `SWITCHBOARD_API_KEY`, JSON in and out, the server's error said plainly.
struct ServerClient {
    let server: String
    let key: String

    init(server: String) throws {
        guard let key = ProcessInfo.processInfo.environment["SWITCHBOARD_API_KEY"], !key.isEmpty else {
            throw CLIError("set SWITCHBOARD_API_KEY to the API key to use")
        }
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.key = key
    }

    func send(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil) async throws -> JSONValue {
        try await execute(method, path, contentType: json == nil ? nil : "application/json",
                          body: json.map { .bytes(ByteBuffer(string: $0.jsonText)) }, timeout: .seconds(60))
    }

    /// One request; the reply's JSON, or the server's error said plainly.
    func execute(_ method: HTTPMethod, _ path: String, contentType: String? = nil, body: HTTPClientRequest.Body? = nil,
                 timeout: TimeAmount) async throws -> JSONValue {
        try await withClient { client in
            var request = request(method, path)
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = body
            let response = try await client.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 64 << 20)
            let reply = (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))) ?? .null
            guard (200..<300).contains(response.status.code) else {
                throw CLIError("the server answered \(response.status.code): \(reply["error"]?.stringValue ?? String(buffer: bytes))")
            }
            return reply
        }
    }

    func request(_ method: HTTPMethod, _ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        request.headers.add(name: "X-API-Key", value: key)
        return request
    }

    /// A client for the work, shut down after it whatever happens.
    func withClient<T>(_ work: (HTTPClient) async throws -> T) async throws -> T {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let result = try await work(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Rows for a person at a terminal (aligned, with a header), or for a pipe (tab-separated, no header).
func printTable(_ header: [String], _ rows: [[String]]) {
    guard isatty(STDOUT_FILENO) == 1 else {
        for row in rows { print(row.joined(separator: "\t")) }
        return
    }
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
        print(zip(row, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}
