import Hummingbird

/// An error a client can act on: its status and a clear message naming the field at fault.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    /// Pydantic-style location for the batch-calling API's `{"detail": [...]}` bodies.
    public var location: [String]?

    public init(_ status: HTTPResponse.Status, _ message: String, location: [String]? = nil) {
        self.status = status
        self.message = message
        self.location = location
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, message, location: field.map { ["body", $0] })
    }
    static func notFound(_ what: String) -> APIError { APIError(.notFound, "\(what) not found") }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, message) }
    static func conflict(_ message: String) -> APIError { APIError(.conflict, message) }
}
