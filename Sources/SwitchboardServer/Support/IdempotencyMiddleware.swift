import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Store
import SwitchboardCore
import Synchronization

/// `Idempotency-Key` on any POST, with Stripe's semantics: the same key and request within
/// 24 hours gets the first response again (`Idempotent-Replayed: true`) without acting again;
/// the same key with another request is 422; while the first is still running, 409. Only
/// requests that acted are remembered (a 2xx, or a 500): one refused for bad input may be sent
/// again, corrected, with the same key. An `Idempotency-Key` belongs to the API key that sent it:
/// a stored response is only ever replayed to the API key that made it, which the route had
/// authorized then (another key, even of the same organization, starts afresh).
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = SwitchboardContext
    let store: Store
    let clock: any WallClock
    let errors: ErrorMiddleware
    static let header = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let given = request.headers[Self.header] else { return try await next(request, context) }
        guard !given.isEmpty, given.count <= 255 else { throw APIError.badRequest("Idempotency-Key must be 1 to 255 characters", field: "Idempotency-Key") }
        let principal = try context.caller()
        let organizationID = principal.organizationID
        let key = principal.keyID + " " + given
        let fingerprint = Fingerprint(request)
        var request = request
        request.body = RequestBody(asyncSequence: ObservedBody(base: request.body) { fingerprint.update($0) })

        switch try await store.beginIdempotentRequest(organizationID: organizationID, key: key, now: clock.now()) {
        case .inFlight:
            throw APIError.conflict("a request with this Idempotency-Key is still in progress; retry later")
        case .done(let saved, let status, let body):
            for try await _ in request.body {}  // read it all, for its fingerprint
            guard fingerprint.value() == saved else {
                throw APIError(.unprocessableContent, "this Idempotency-Key was used with a different request", location: ["header", "Idempotency-Key"])
            }
            var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
            headers[Self.replayed] = "true"
            return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        case .started:
            var response: Response
            do { response = try await next(request, context) }
            catch { response = errors.response(for: error, request: request, context: context) }
            let status = Int(response.status.code)
            guard status < 400 || (status >= 500 && status != 503) else {
                try? await store.releaseIdempotentRequest(organizationID: organizationID, key: key)
                return response
            }
            let collected = Collected()
            try await response.body.write(CollectingWriter(into: collected))
            let body = collected.buffer.withLock { String(buffer: $0) }
            try await store.finishIdempotentRequest(organizationID: organizationID, key: key, fingerprint: fingerprint.value(),
                                                    status: status, body: body)
            response.body = ResponseBody(byteBuffer: ByteBuffer(string: body))
            response.headers[Self.replayed] = "false"
            return response
        }
    }
}

/// What makes two requests "the same": the method, the target and the body. A JSON body is
/// compared by its content (keys in any order, any spacing), as Stripe compares parameters;
/// any other body, or one too large to hold, by its bytes, hashed as it streams by.
final class Fingerprint: Sendable {
    /// JSON bodies up to this size are kept to compare by content.
    static let canonicalLimit = 1 << 20
    private struct State {
        var bytes = SHA256()
        var json: [UInt8]?
    }
    private let prefix: String
    private let state: Mutex<State>

    init(_ request: Request) {
        prefix = "\(request.method.rawValue) \(request.uri.description)\n"
        var state = State()
        state.bytes.update(data: Data(prefix.utf8))
        if request.headers[.contentType]?.lowercased().contains("json") ?? false { state.json = [] }
        self.state = Mutex(state)
    }

    func update(_ buffer: ByteBuffer) {
        state.withLock { state in
            state.bytes.update(data: Data(buffer.readableBytesView))
            if state.json != nil {
                if state.json!.count + buffer.readableBytes <= Self.canonicalLimit { state.json! += buffer.readableBytesView }
                else { state.json = nil }
            }
        }
    }

    func value() -> String {
        let (bytes, json) = state.withLock { ($0.bytes, $0.json) }
        var digest = bytes
        if let json, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(json)) {
            digest = SHA256()
            digest.update(data: Data((prefix + value.jsonText).utf8))  // the core's writer sorts keys
        }
        return digest.finalize().hexString
    }
}

final class Collected: Sendable {
    let buffer = Locked(ByteBuffer())
}

/// Keeps a response body to store it (POST responses are small JSON).
struct CollectingWriter: ResponseBodyWriter {
    let into: Collected
    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        into.buffer.withLock { _ = $0.writeBuffer(&buffer) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
