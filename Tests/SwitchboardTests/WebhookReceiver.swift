import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore

/// A customer's webhook endpoint, listening on loopback for real: it records every delivery,
/// checks its Standard Webhooks signature with its own HMAC, and answers `/hook` with 500 for
/// the first `failFirst` deliveries of each event type listed there; `/gone` answers 410.
actor WebhookInbox {
    struct Delivery: Sendable {
        let id: String
        let timestamp: String
        let signature: String
        let body: String
        var type: String {
            (try? JSONDecoder().decode([String: JSONValueShim].self, from: Data(body.utf8)))?["type"]?.string ?? ""
        }
    }

    private(set) var deliveries: [Delivery] = []
    private var failures: [String: Int]

    init(failFirst: [String: Int] = [:]) { failures = failFirst }

    func record(_ delivery: Delivery) -> HTTPResponse.Status {
        deliveries.append(delivery)
        if let left = failures[delivery.type], left > 0 {
            failures[delivery.type] = left - 1
            return .internalServerError
        }
        return .noContent
    }

    func of(_ type: String) -> [Delivery] { deliveries.filter { $0.type == type } }

    func counts() -> [String: Int] { deliveries.reduce(into: [:]) { $0[$1.type, default: 0] += 1 } }

    /// Runs `body` with the receiver listening; `port` is where.
    func serve(_ body: @Sendable (_ port: Int) async throws -> Void) async throws {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            Response(status: await self.record(try await Self.delivery(request)))
        }
        router.post("gone") { request, _ -> Response in
            _ = try await Self.delivery(request)
            return Response(status: .gone)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(client.port!) }
    }

    private static func delivery(_ request: Request) async throws -> Delivery {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        func header(_ name: String) -> String { request.headers[HTTPField.Name(name)!] ?? "" }
        return Delivery(id: header("webhook-id"), timestamp: header("webhook-timestamp"), signature: header("webhook-signature"),
                        body: String(buffer: body))
    }

    /// Verifies as a receiver would, from the spec: HMAC-SHA256 over `id.timestamp.body` with
    /// the base64 secret after `whsec_`.
    nonisolated static func verify(_ delivery: Delivery, secret: String) -> Bool {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))) else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(delivery.id).\(delivery.timestamp).\(delivery.body)".utf8),
                                                  using: SymmetricKey(data: key))
        return delivery.signature.split(separator: " ").contains { $0 == "v1," + Data(mac).base64EncodedString() }
    }
}

/// Just enough JSON to read a delivery's `type`.
enum JSONValueShim: Decodable, Sendable {
    case string(String), other
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = (try? container.decode(String.self)).map { .string($0) } ?? .other
    }
    var string: String? { if case .string(let s) = self { s } else { nil } }
}
