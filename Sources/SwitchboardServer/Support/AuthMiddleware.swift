import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// Resolves the API key from `X-API-Key`, ElevenLabs' `xi-api-key` or `Authorization: Bearer`;
/// 401 without a known one. On the API's route groups only: `/health`, the contract and the
/// carriers' signed callbacks are outside them.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SwitchboardContext
    let store: Store

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key = Self.key(in: request) else { throw APIError(.unauthorized, "missing API key: send X-API-Key or Authorization: Bearer") }
        guard let principal = try await store.principal(forKey: key) else { throw APIError(.unauthorized, "invalid API key") }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "organization_id"] = "\(principal.organizationID)"
        context.logger[metadataKey: "key_id"] = "\(principal.keyID)"
        return try await next(request, context)
    }

    // Header names are case-insensitive: X-API-Key and x-api-key are the same field. Made once:
    // a name checks and lowercases its text when made.
    private static let apiKey = HTTPField.Name("X-API-Key")!
    private static let elevenLabsKey = HTTPField.Name("xi-api-key")!

    static func key(in request: Request) -> String? {
        if let key = request.headers[apiKey], !key.isEmpty { return key }
        if let key = request.headers[elevenLabsKey], !key.isEmpty { return key }
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }
}
