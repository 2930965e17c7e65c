import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import NIOCore
import SwitchboardCore

/// The console's templates (`Console/Templates`, carried in the binary's resource bundle) and
/// the HTML responses made with them. Every page is one template that extends `layout`; what it
/// shows is the `page` value, next to the signed-in user's `chrome`. Mustache escapes every
/// value; only the server-made SVG charts are inserted raw (`{{{chart}}}`).
struct ConsolePages: Sendable {
    let library: MustacheLibrary

    static func load() throws -> ConsolePages {
        guard let directory = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw APIError(.internalServerError, "the console's templates are missing from the resource bundle")
        }
        var library = MustacheLibrary()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            try library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        return ConsolePages(library: library)
    }

    /// Who is signed in, for the header and the forms (each carries the CSRF token).
    struct Chrome {
        var user: String
        var organization: String
        var isAdmin: Bool
        var csrf: String
    }

    struct View {
        var title: String
        var chrome: Chrome?
        var page: Any
        var error: String?
        var notice: String?
    }

    func render(_ template: String, title: String, context: SwitchboardContext, page: Any, error: String? = nil, notice: String? = nil,
                status: HTTPResponse.Status = .ok) -> Response {
        let chrome = context.principal.map {
            Chrome(user: $0.userID, organization: $0.organizationID, isAdmin: $0.isAdmin, csrf: context.csrf ?? "")
        }
        let html = library.render(View(title: title, chrome: chrome, page: page, error: error, notice: notice), withTemplate: template) ?? ""
        return Self.html(html, status: status)
    }

    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Nothing but our own assets runs or loads; no other site may frame a page.
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!: "default-src 'self'; img-src 'self' data:; media-src 'self'; object-src 'none'; "
            + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
        .cacheControl: "no-store",
    ]
}

/// The stylesheet and script, read once from the resource bundle.
struct ConsoleAssets: Sendable {
    private let files: [String: (type: String, bytes: [UInt8])]

    static func load() throws -> ConsoleAssets {
        guard let directory = Bundle.module.url(forResource: "Assets", withExtension: nil) else {
            throw APIError(.internalServerError, "the console's assets are missing from the resource bundle")
        }
        var files: [String: (String, [UInt8])] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let type = name.hasSuffix(".css") ? "text/css; charset=utf-8" : name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : "image/svg+xml"
            files[name] = (type, Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
        return ConsoleAssets(files: files)
    }

    func response(_ name: String) throws -> Response {
        guard let file = files[name] else { throw APIError.notFound("Asset") }
        var headers = ConsolePages.securityHeaders
        headers[.contentType] = file.type
        headers[.cacheControl] = "public, max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}

/// A console page that fails shows what went wrong, as a page (the API's errors are JSON).
struct ConsoleErrorMiddleware: RouterMiddleware {
    typealias Context = SwitchboardContext
    let pages: ConsolePages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = ErrorMiddleware.map(error)
            if apiError.status.code >= 500 {
                context.logger.error("console page failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            }
            return pages.render("error", title: apiError.status.reasonPhrase, context: context, page: ["message": apiError.message],
                                status: apiError.status)
        }
    }
}
