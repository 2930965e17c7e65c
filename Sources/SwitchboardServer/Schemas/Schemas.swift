import Foundation
import Hummingbird
import NIOCore

/// The response bodies of `openapi.yaml`'s `components/schemas`, one Swift type per schema and
/// named after it (`Schemas.Call` is `#/components/schemas/Call`). Handlers return these; the
/// suite holds every response it receives against the document (`ResponseContract`), so a
/// field renamed on either side fails a test.
///
/// Why not the generator's `Components.Schemas`: its types leave a `nil` out of the JSON, while
/// the seeds' clients read `null` for a nullable field that has no value (Teli's
/// `end_timestamp`, DialNexa's `detail`) — a Python client's `body["end_timestamp"]` raises
/// when the key is gone (swift-openapi-generator issue 934). Here a nullable field is declared
/// `@Nullable` and written as `null`; a plain optional is left out, as the contract allows.
enum Schemas {}

/// A field the contract declares `type: [T, "null"]`: `nil` is written as `null`.
@propertyWrapper
struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// Two bodies written as one object: `first`'s fields, then `second`'s, which win where both
/// name a field. A schema that extends another (`allOf`), or a client's echoed fields beside a
/// schema's own.
struct Merged<First: Encodable & Sendable, Second: Encodable & Sendable>: Encodable, Sendable {
    var first: First
    var second: Second

    init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    func encode(to encoder: any Encoder) throws {
        try first.encode(to: encoder)
        try second.encode(to: encoder)
    }
}

/// A JSON response: `body`, encoded as every Switchboard response is.
struct JSONBody<Body: Encodable & Sendable>: ResponseGenerator, Sendable {
    var body: Body
    var status: HTTPResponse.Status = .ok

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try response()
    }

    func response() throws -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: try ByteJSONEncoder.encodeBuffer(body)))
    }
}

/// Teli's success envelope: the payload's fields beside `success: true` and `powered_by`.
struct Teli<Payload: Encodable & Sendable>: Encodable, Sendable {
    var payload: Payload
    var poweredBy: String

    private enum Key: String, CodingKey { case success, poweredBy = "powered_by" }

    func encode(to encoder: any Encoder) throws {
        try payload.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(true, forKey: .success)
        try container.encode(poweredBy, forKey: .poweredBy)
    }
}

extension APIEnvironment {
    /// A Teli-style success body: the payload's fields plus `success` and `powered_by`.
    func teli<Payload: Encodable & Sendable>(_ payload: Payload, status: HTTPResponse.Status = .ok) -> JSONBody<Teli<Payload>> {
        JSONBody(body: Teli(payload: payload, poweredBy: poweredBy), status: status)
    }
}
