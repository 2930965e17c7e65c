import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SwitchboardCore

/// The HTTP side of a carrier's REST API: bounded time per request, and `429 Too Many
/// Requests` retried with back-off (Twilio's 20429 is "not processed, safe to retry"). Any
/// other answer goes back to the caller, which knows the carrier's words for it.
public final class CarrierHTTPClient: Sendable {
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        /// The body as it came (a recording is binary).
        public var bytes: [UInt8]
        public var body: String { String(decoding: bytes, as: UTF8.self) }
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        public var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body.utf8)) }
    }

    /// Made at the first request: a process that never calls this carrier opens nothing.
    private let made = NIOLockedValueBox<HTTPClient?>(nil)
    private let backoff: Backoff
    private let tries: Int
    private let clock: any WallClock
    private let timeout: Int64

    /// `timeoutSeconds` bounds each request (a carrier answers in seconds; a language model
    /// writing a reply may take longer).
    public init(backoff: Backoff = Backoff(base: 1, cap: 60), tries: Int = 6, timeoutSeconds: Int64 = 20, clock: any WallClock) {
        self.backoff = backoff
        self.tries = tries
        self.timeout = timeoutSeconds
        self.clock = clock
    }

    private var client: HTTPClient {
        made.withLockedValue { made in
            if let made { return made }
            var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(timeout)))
            // A refused connection is an answer: the caller fails the attempt with it at once.
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            made = client
            return client
        }
    }

    public func shutdown() async {
        try? await made.withLockedValue { $0 }?.shutdown()
    }

    /// Sends the request; a 429 is waited out (its `Retry-After`, or jittered exponential
    /// back-off) and sent again, at most `tries` times in all. Throws when the carrier cannot
    /// be reached.
    public func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)], body: String? = nil, maxBytes: Int = 4 << 20,
                     logger: Logger) async throws -> Reply {
        var retry = 0
        while true {
            var request = HTTPClientRequest(url: url)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await client.execute(request, timeout: .seconds(timeout + 5))
            let bytes = Array(try await response.body.collect(upTo: maxBytes).readableBytesView)
            let reply = Reply(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, bytes: bytes)
            retry += 1
            guard reply.status == 429, retry < tries else { return reply }
            let wait = backoff.delay(retry: retry, retryAfter: Backoff.retryAfter(reply.header("Retry-After"), now: clock.now()))
            logger.notice("carrier rate limit; backing off", metadata: ["url": "\(url)", "wait_seconds": "\(wait)", "try": "\(retry)"])
            try await Task.sleep(for: .seconds(wait))
        }
    }

    public static func basicAuth(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }
}

extension Logger {
    public func with(attemptID: Int64) -> Logger {
        var logger = self
        logger[metadataKey: "attempt_id"] = "\(attemptID)"
        return logger
    }
}
