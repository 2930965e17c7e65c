import Foundation
import HTTPTypes
import Hummingbird
import SwitchboardCore
import Testing
@testable import SwitchboardServer

/// The console's session rules over HTTP (the pages themselves are driven in Chromium by
/// scripts/console-test): the cookie's attributes, the CSRF token, and a session that ends with
/// its key.
@Suite struct ConsoleTests {
    /// The sign-in form's token and cookie, then the session cookie the key is exchanged for.
    static func signIn(_ client: Client, key: String) async throws -> (cookie: String, setCookie: String) {
        let form = try await client.get("/sign-in", key: nil)
        let token = try #require(form.text.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/)?.1)
        let body = "csrf=\(token)&api_key=\(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key)"
        let reply = try await client.request(.post, "/sign-in", key: nil, raw: body, headers: [
            .contentType: "application/x-www-form-urlencoded", .cookie: "switchboard_sign_in=\(token)",
        ])
        #expect(reply.status == .seeOther && reply.headers[.location] == "/")
        let setCookie = try #require(reply.headers[values: .setCookie].first { $0.hasPrefix("switchboard_session=") })
        let cookie = String(setCookie.prefix { $0 != ";" })
        return (cookie, setCookie)
    }

    static func csrf(_ page: Client.Reply) -> String? {
        page.text.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/).map { String($0.1) }
    }

    @Test func aSessionIsACookieFormsNeedTheTokenAndRevokingTheKeyEndsIt() async throws {
        let harness = Harness(.sqlite)
        let admin = try await harness.key(admin: true)
        try await harness.run { client in
            // Not signed in: pages send the browser to the sign-in form.
            let anonymous = try await client.get("/", key: nil)
            #expect(anonymous.status == .found && anonymous.headers[.location] == "/sign-in")
            // A forged sign-in (no matching cookie) is refused.
            let forged = try await client.request(.post, "/sign-in", key: nil, raw: "csrf=abc&api_key=\(admin)",
                                                  headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(forged.status == .forbidden)

            let member = try await client.post("/v1/api-keys", key: admin, ["user_id": "carol"])["key"]?.stringValue ?? ""
            let (cookie, setCookie) = try await Self.signIn(client, key: member)
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"))
            #expect(!setCookie.contains(member))

            let page = try await client.request(.get, "/", key: nil, headers: [.cookie: cookie])
            #expect(page.status == .ok && page.text.contains("carol"))
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
            let token = try #require(Self.csrf(page))

            // A post without the token, or with another, is refused; with it, it is taken.
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: cookie]
            let missing = try await client.request(.post, "/suppressions", key: nil, raw: "value=%2B15550001111", headers: form)
            #expect(missing.status == .forbidden)
            let wrong = try await client.request(.post, "/suppressions", key: nil, raw: "csrf=00\(token)&value=%2B15550001111", headers: form)
            #expect(wrong.status == .forbidden)
            #expect(try await client.get("/v1/suppressions", key: admin)["count"] == 0)
            let added = try await client.request(.post, "/suppressions", key: nil, raw: "csrf=\(token)&value=%2B15550001111", headers: form)
            #expect(added.status == .ok && added.text.contains("+15550001111 added."))
            #expect(try await client.get("/v1/suppressions", key: admin)["count"] == 1)

            // A member is not an admin here either.
            #expect(try await client.request(.get, "/keys", key: nil, headers: [.cookie: cookie]).status == .forbidden)

            // The key revoked, its session is over.
            let keys = try await client.get("/v1/api-keys", key: admin)["api_keys"]?.arrayValue ?? []
            let id = try #require(keys.first { $0["user_id"]?.stringValue == "carol" }?["key_id"]?.stringValue)
            #expect(try await client.request(.delete, "/v1/api-keys/\(id)", key: admin).status == .ok)
            let after = try await client.request(.get, "/", key: nil, headers: [.cookie: cookie])
            #expect(after.status == .found && after.headers[.location] == "/sign-in")
        }
    }
}
