import Foundation
import Hummingbird
import Logging
import NIOCore
import Store
import SwitchboardCore

/// The one place errors become HTTP. Every error body is the compatible envelope:
/// Teli's `{"success": false, "error": …, "powered_by": …}`, or `{"detail": …}` on the
/// batch-calling routes, whose group carries a middleware of that style.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = SwitchboardContext
    enum Style: Sendable { case teli, batch }
    let poweredBy: String
    var style = Style.teli
    /// Filled in once the routes are registered (the router-level middleware's).
    let allowed = AllowedMethods()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return response(for: error, request: request, context: context)
        }
    }

    /// The error as the client sees it, in the envelope of the route's API.
    func response(for error: any Error, request: Request, context: Context) -> Response {
        var apiError = Self.map(error)
        if apiError.status.code >= 500 {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
        }
        var allow: [HTTPRequest.Method] = []
        // The router found no route: for a path it knows under other methods, 405 with Allow.
        if error is HTTPError, apiError.status == .notFound, let methods = allowed.methods(for: request.uri.path), !methods.contains(request.method) {
            apiError = APIError(.methodNotAllowed, "\(request.method) is not allowed here; use \(methods.map(\.rawValue).joined(separator: ", "))")
            allow = methods
        }
        // A path no route matched has no group: a batch-calling path keeps its API's style.
        let batchPath = error is HTTPError && BatchCallingController.bases.contains { request.uri.path.hasPrefix("/" + $0) }
        var response = (try? envelope(apiError, style: batchPath ? .batch : style)) ?? Response(status: apiError.status)
        if !allow.isEmpty { response.headers[.allow] = allow.map(\.rawValue).joined(separator: ", ") }
        return response
    }

    private func envelope(_ apiError: APIError, style: Style) throws -> Response {
        switch style {
        case .batch: try JSONBody(body: BatchStyle.errorBody(apiError), status: BatchStyle.status(apiError)).response()
        case .teli: try JSONBody(body: Schemas.Error(error: apiError.message, powered_by: poweredBy), status: apiError.status).response()
        }
    }

    static func map(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case is NIOTooManyBytesError: return APIError(.contentTooLarge, "request body is too large")
        case let error as HTTPError: return APIError(error.status, error.body ?? error.status.reasonPhrase)
        case StoreError.conflict(let message): return APIError(.conflict, message)
        case is DatabaseUnavailable: return APIError(.serviceUnavailable, "the database is unavailable; try again shortly")
        default: return APIError(.internalServerError, "internal error")
        }
    }
}

/// The batch-calling API's own error style (FastAPI): 422 `{"detail": [{loc, msg, type}]}` for
/// bad input, `{"detail": "…"}` otherwise.
enum BatchStyle {
    /// Bad input is 422 there, as FastAPI answers a request that fails validation.
    static func status(_ error: APIError) -> HTTPResponse.Status {
        error.status == .badRequest ? .unprocessableContent : error.status
    }

    static func errorBody(_ error: APIError) -> Schemas.BatchError {
        if error.status == .badRequest || error.status == .unprocessableContent {
            return .invalid([.init(loc: error.location ?? ["body"], msg: error.message)])
        }
        return .message(error.message)
    }
}
