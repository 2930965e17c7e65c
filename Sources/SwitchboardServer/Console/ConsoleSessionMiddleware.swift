import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// The console's sign-in, in front of every console page but the sign-in form: the
/// `switchboard_session` cookie names a live session (else a page redirects to `/sign-in`,
/// anything else is 401), whose principal the page acts as, exactly as its API key would.
/// Every POST carries the session's CSRF token, as the form field `csrf` or, for a file upload
/// (whose body is streamed, not read here), in the form's action URL; without it, 403.
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = SwitchboardContext
    static let cookie = "switchboard_session"
    /// Forms other than uploads are small: a body larger than this is refused.
    static let maxFormBytes = 1 << 20

    let store: Store
    let clock: any WallClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = request.cookies[Self.cookie]?.value, !token.isEmpty,
              let session = try await store.consoleSession(token: token, now: clock.now()) else {
            if request.method == .get, !request.uri.path.hasSuffix("/events") {
                return .redirect(to: "/sign-in", type: .found)
            }
            throw APIError(.unauthorized, "sign in first")
        }
        var context = context
        context.principal = session.principal
        context.csrf = session.csrf
        context.logger[metadataKey: "organization_id"] = "\(session.principal.organizationID)"
        context.logger[metadataKey: "key_id"] = "\(session.principal.keyID)"
        if request.method != .get, request.method != .head {
            var request = request
            let contentType = request.headers[.contentType]?.lowercased() ?? ""
            if contentType.hasPrefix("application/x-www-form-urlencoded") {
                let body = try await request.collectBody(upTo: Self.maxFormBytes)
                context.form = FormFields(encoded: String(buffer: body))
            }
            let given = context.form["csrf"] ?? request.uri.queryParameters.get("csrf") ?? ""
            guard constantTimeEquals(given, session.csrf) else {
                throw APIError.forbidden("the form's CSRF token is missing or wrong: reload the page and try again")
            }
            return try await next(request, context)
        }
        return try await next(request, context)
    }
}

/// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page
/// sends it), Secure when the server is reached over HTTPS.
enum ConsoleCookies {
    static func session(_ token: String, secure: Bool, lifetime: TimeInterval) -> Cookie {
        Cookie(name: ConsoleSessionMiddleware.cookie, value: token, maxAge: Int(lifetime), path: "/", secure: secure, httpOnly: true,
               sameSite: .strict)
    }

    static func cleared(_ name: String, path: String = "/", secure: Bool) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: path, secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// The sign-in form's token, before there is a session: the same random value in a cookie
    /// and in the form (a page of another site can set neither).
    static let signIn = "switchboard_sign_in"
    static func signIn(_ token: String, secure: Bool) -> Cookie {
        Cookie(name: signIn, value: token, maxAge: 3_600, path: "/sign-in", secure: secure, httpOnly: true, sameSite: .strict)
    }
}
