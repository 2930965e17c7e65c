import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationEssentialsCompat
import SwitchboardCore

/// What a fake carrier does with one call, chosen by the dialed number.
struct CarrierScript: Sendable {
    /// HTTP answers to the create request before it is accepted (429s, with `Retry-After: 1`).
    var rateLimited = 0
    /// Refuse the create with this status and JSON body instead.
    var refuse: (status: Int, body: String)?
    /// Callbacks, in the order sent: the carrier's form fields (call ids are filled in).
    var callbacks: [[(String, String)]] = []
    /// Send a forged copy (wrong signature) before the real ones.
    var forgeFirst = false
    /// Send every callback twice.
    var duplicate = false
}

/// A carrier's HTTP API on loopback, speaking its wire format: records each create, answers by
/// the dialed number's script, then sends the scripted callbacks, signed with its own HMAC,
/// to the app through `deliver` (the app's own test client) at the URL the app gave it.
actor FakeCarrier {
    struct Created: Sendable {
        let id: String
        let to: String
        let fields: [(String, String)]
        let createdAt: Date
        var status = "queued"
    }

    let publicURL: String
    let scripts: [String: CarrierScript]
    private(set) var created: [Created] = []
    private(set) var createTries: [String: Int] = [:]
    /// The app's answers to our callbacks: (status, forged?).
    private(set) var callbackAnswers: [(status: Int, forged: Bool)] = []
    private(set) var hangups: [String] = []

    init(publicURL: String, scripts: [String: CarrierScript]) {
        self.publicURL = publicURL
        self.scripts = scripts
    }

    func script(for to: String) -> CarrierScript { scripts.first { to.hasSuffix($0.key) }?.value ?? CarrierScript() }

    func tryCreate(to: String) -> Int {
        createTries[to, default: 0] += 1
        return createTries[to]!
    }

    func record(_ call: Created) { created.append(call) }
    func answered(_ status: Int, forged: Bool) { callbackAnswers.append((status, forged)) }
    /// The documents our answer URL returned (Vobiz), in order.
    private(set) var answerDocuments: [String] = []
    func answerDocument(_ text: String) { answerDocuments.append(text) }
    func hungUp(_ id: String) { hangups.append(id) }
    /// Live-call updates other than a hang-up (a transfer's new TwiML), by call.
    private(set) var updates: [(id: String, form: [(String, String)])] = []
    func updated(_ id: String, form: [(String, String)]) { updates.append((id, form)) }
    func call(_ id: String) -> Created? { created.first { $0.id == id } }
    func setStatus(_ id: String, _ status: String) {
        if let index = created.firstIndex(where: { $0.id == id }) { created[index].status = status }
    }

    static func serve(_ router: Router<BasicRequestContext>, _ body: @Sendable (_ baseURL: String) async throws -> Void) async throws {
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)") }
    }

    static func form(_ request: Request) async throws -> [(String, String)] {
        var request = request
        return FormURLEncoded.decode(String(buffer: try await request.collectBody(upTo: 1 << 20)))
    }

    static func reply(_ status: HTTPResponse.Status, json: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}

// MARK: Twilio

/// Twilio's REST API for calls, and its status callbacks signed as Twilio signs them:
/// Base64(HMAC-SHA1(auth token, URL + sorted name/value pairs)).
enum FakeTwilio {
    static let accountSID = "AC0123456789abcdef0123456789abcdef"
    static let authToken = "twilio-auth-token"
    static let recordingSID = "RE0123456789abcdef0123456789abcdef"

    static func signature(url: String, form: [(String, String)], token: String = authToken) -> String {
        let message = url + form.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { $0.0 + $0.1 }.joined()
        return Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(token.utf8)))).base64EncodedString()
    }

    static func router(_ fake: FakeCarrier, deliver: @escaping @Sendable (_ path: String, _ body: String, _ headers: HTTPFields) async throws -> Int) -> Router<BasicRequestContext> {
        let router = Router()
        let expectedAuth = "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
        let base = "2010-04-01/Accounts/\(accountSID)/Calls"
        router.post("\(base).json") { request, _ -> Response in
            guard request.headers[.authorization] == expectedAuth else {
                return FakeCarrier.reply(.unauthorized, json: #"{"code": 20003, "message": "Authenticate", "status": 401}"#)
            }
            let form = try await FakeCarrier.form(request)
            let field = { (name: String) in form.first { $0.0 == name }?.1 ?? "" }
            let to = field("To")
            let script = await fake.script(for: to)
            let tries = await fake.tryCreate(to: to)
            if tries <= script.rateLimited {
                let retryAfter: HTTPFields = [HTTPField.Name("Retry-After")!: "1"]
                return FakeCarrier.reply(.tooManyRequests, json: #"{"code": 20429, "message": "Too Many Requests", "status": 429}"#,
                                         headers: retryAfter)
            }
            if let refuse = script.refuse { return FakeCarrier.reply(.init(code: refuse.status), json: refuse.body) }
            let sid = "CA" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            await fake.record(.init(id: sid, to: to, fields: form, createdAt: Date()))
            let callback = field("StatusCallback")
            Task {
                try await Task.sleep(for: .milliseconds(20))
                let path = String(callback.dropFirst(fake.publicURL.count))
                for (index, fields) in script.callbacks.enumerated() {
                    let full = [("AccountSid", accountSID), ("CallSid", sid), ("To", to), ("From", field("From")),
                                ("Direction", "outbound-api"), ("SequenceNumber", "\(index)")] + fields
                    let body = FormURLEncoded.encode(full)
                    if script.forgeFirst, index == 0 {
                        let forged: HTTPFields = [HTTPField.Name("X-Twilio-Signature")!: signature(url: callback, form: full, token: "not-the-token")]
                        await fake.answered(try await deliver(path, body, forged), forged: true)
                    }
                    let signed: HTTPFields = [HTTPField.Name("X-Twilio-Signature")!: signature(url: callback, form: full)]
                    for _ in 0..<(script.duplicate ? 2 : 1) { await fake.answered(try await deliver(path, body, signed), forged: false) }
                    if let status = fields.first(where: { $0.0 == "CallStatus" })?.1 { await fake.setStatus(sid, status) }
                }
                // A recorded call: its recording is ready after the call.
                let recordingCallback = field("RecordingStatusCallback")
                guard !recordingCallback.isEmpty else { return }
                let recording = [("AccountSid", accountSID), ("CallSid", sid), ("RecordingSid", recordingSID), ("RecordingStatus", "completed"),
                                 ("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/\(accountSID)/Recordings/\(recordingSID)"),
                                 ("RecordingDuration", "2"), ("RecordingChannels", "2")]
                let signed: HTTPFields = [HTTPField.Name("X-Twilio-Signature")!: signature(url: recordingCallback, form: recording)]
                await fake.answered(try await deliver(String(recordingCallback.dropFirst(fake.publicURL.count)), FormURLEncoded.encode(recording), signed),
                                    forged: false)
            }
            return FakeCarrier.reply(.created, json: #"{"sid": "\#(sid)", "status": "queued", "to": "\#(to)"}"#)
        }
        // A recording as Twilio serves it: a dual-channel 8 kHz WAV, two seconds long.
        router.get("2010-04-01/Accounts/\(accountSID)/Recordings/:file") { request, context -> Response in
            guard request.headers[.authorization] == expectedAuth, context.parameters.get("file") == "\(recordingSID).wav" else {
                return FakeCarrier.reply(.notFound, json: #"{"code": 20404, "status": 404}"#)
            }
            let samples = (0..<16_000).flatMap { [Int16(4_000 * sin(Double($0) / 3)), Int16(4_000 * sin(Double($0) / 5))] }
            var headers = HTTPFields()
            headers[.contentType] = "audio/x-wav"
            return Response(status: .ok, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(bytes: WAV.encode(WAV.Audio(sampleRate: 8_000, channels: 2, samples: samples)))))
        }
        // The Calls list, for reconciliation: filtered by To and From as Twilio filters.
        router.get("\(base).json") { request, _ -> Response in
            let to = request.uri.queryParameters.get("To") ?? ""
            let calls = await fake.created.filter { $0.to == to }.map { call in
                #"{"sid": "\#(call.id)", "to": "\#(call.to)", "status": "\#(call.status)", "duration": "12", "date_created": "\#(rfc2822(call.createdAt))"}"#
            }
            return FakeCarrier.reply(.ok, json: #"{"calls": [\#(calls.joined(separator: ","))], "page": 0}"#)
        }
        router.get("\(base)/:sid") { _, context -> Response in
            let sid = String(context.parameters.get("sid")!.dropLast(5)) // `.json`
            guard let call = await fake.call(sid) else { return FakeCarrier.reply(.notFound, json: #"{"code": 20404, "status": 404}"#) }
            return FakeCarrier.reply(.ok, json: #"{"sid": "\#(sid)", "status": "\#(call.status)", "duration": "12"}"#)
        }
        router.post("\(base)/:sid") { request, context -> Response in
            let sid = String(context.parameters.get("sid")!.dropLast(5)) // `.json`
            let form = try await FakeCarrier.form(request)
            guard form.contains(where: { $0 == ("Status", "completed") }) else {
                await fake.updated(sid, form: form)
                return FakeCarrier.reply(.ok, json: #"{"sid": "\#(sid)", "status": "in-progress"}"#)
            }
            await fake.hungUp(sid)
            return FakeCarrier.reply(.ok, json: #"{"sid": "\#(sid)", "status": "completed"}"#)
        }
        // Programmable Messaging: records the text, then reports it delivered (signed) to its StatusCallback.
        router.post("2010-04-01/Accounts/\(accountSID)/Messages.json") { request, _ -> Response in
            guard request.headers[.authorization] == expectedAuth else {
                return FakeCarrier.reply(.unauthorized, json: #"{"code": 20003, "message": "Authenticate", "status": 401}"#)
            }
            let form = try await FakeCarrier.form(request)
            let field = { (name: String) in form.first { $0.0 == name }?.1 ?? "" }
            // A recipient who texted STOP to this sender at Twilio's level.
            if field("To").hasSuffix("0666") {
                return FakeCarrier.reply(.badRequest, json: #"{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}"#)
            }
            let sid = "SM" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            await fake.record(.init(id: sid, to: field("To"), fields: form, createdAt: Date()))
            let callback = field("StatusCallback")
            let full = [("AccountSid", accountSID), ("MessageSid", sid), ("SmsSid", sid), ("From", field("From")), ("To", field("To")),
                        ("MessageStatus", "delivered")]
            Task {
                try await Task.sleep(for: .milliseconds(20))
                let signed: HTTPFields = [HTTPField.Name("X-Twilio-Signature")!: signature(url: callback, form: full)]
                await fake.answered(try await deliver(String(callback.dropFirst(fake.publicURL.count)), FormURLEncoded.encode(full), signed), forged: false)
            }
            return FakeCarrier.reply(.created, json: #"{"sid": "\#(sid)", "status": "queued", "to": "\#(field("To"))"}"#)
        }
        return router
    }

    static func rfc2822(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}

// MARK: Vobiz

/// Vobiz's make-call API (`X-Auth-ID`/`X-Auth-Token`) and its ring, answer and hang-up
/// callbacks, signed as Plivo's V3: Base64(HMAC-SHA256(token, URL?sorted-pairs.nonce)).
enum FakeVobiz {
    static let authID = "MA_VOBIZ_TEST"
    static let authToken = "vobiz-auth-token"

    static func signature(url: String, form: [(String, String)], nonce: String, token: String = authToken) -> String {
        let pairs = form.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { $0.0 + $0.1 }.joined()
        let message = url + (form.isEmpty ? "" : "?" + pairs) + "." + nonce
        return Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(token.utf8)))).base64EncodedString()
    }

    /// Callbacks in a script name their kind in a `_callback` field (ring, answer, hangup).
    static func router(_ fake: FakeCarrier, deliver: @escaping @Sendable (_ path: String, _ body: String, _ headers: HTTPFields) async throws -> (Int, String)) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("v1/Account/\(authID)/Call") { request, _ -> Response in
            guard request.headers[HTTPField.Name("X-Auth-ID")!] == authID, request.headers[HTTPField.Name("X-Auth-Token")!] == authToken else {
                return FakeCarrier.reply(.unauthorized, json: #"{"error": "authentication failed"}"#)
            }
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: body))
            let to = json["to"]?.stringValue ?? ""
            let script = await fake.script(for: to)
            if let refuse = script.refuse { return FakeCarrier.reply(.init(code: refuse.status), json: refuse.body) }
            let uuid = UUID().uuidString.lowercased()
            await fake.record(.init(id: uuid, to: to, fields: [("answer_url", json["answer_url"]?.stringValue ?? ""),
                                                               ("from", json["from"]?.stringValue ?? "")], createdAt: Date()))
            Task {
                try await Task.sleep(for: .milliseconds(20))
                for (index, fields) in script.callbacks.enumerated() {
                    let kind = fields.first { $0.0 == "_callback" }?.1 ?? "hangup"
                    let url = json["\(kind)_url"]?.stringValue ?? ""
                    let path = String(url.dropFirst(fake.publicURL.count))
                    let form = [("CallUUID", uuid), ("RequestUUID", uuid), ("To", to), ("Direction", "outbound")] + fields.filter { $0.0 != "_callback" }
                    let nonce = "\(index)\(UInt32.random(in: 1...UInt32.max))"
                    if script.forgeFirst, index == 0 {
                        let forged: HTTPFields = [HTTPField.Name("X-Vobiz-Signature-V3")!: signature(url: url, form: form, nonce: nonce, token: "wrong"),
                                                  HTTPField.Name("X-Vobiz-Signature-V3-Nonce")!: nonce]
                        await fake.answered(try await deliver(path, FormURLEncoded.encode(form), forged).0, forged: true)
                    }
                    let signed: HTTPFields = [HTTPField.Name("X-Vobiz-Signature-V3")!: signature(url: url, form: form, nonce: nonce),
                                              HTTPField.Name("X-Vobiz-Signature-V3-Nonce")!: nonce]
                    let (status, text) = try await deliver(path, FormURLEncoded.encode(form), signed)
                    await fake.answered(status, forged: false)
                    if kind == "answer", !text.contains("<Response>") { await fake.answered(-1, forged: false) }
                    if kind == "answer" { await fake.answerDocument(text) }
                }
            }
            return FakeCarrier.reply(.created, json: #"{"api_id": "\#(UUID().uuidString)", "message": "call fired", "request_uuid": "\#(uuid)"}"#)
        }
        // The transfer API: the call fetches its new XML from `aleg_url` (signed like a callback),
        // recorded with the request as the call's update.
        router.post("v1/Account/\(authID)/Call/:uuid") { request, context -> Response in
            guard request.headers[HTTPField.Name("X-Auth-ID")!] == authID, request.headers[HTTPField.Name("X-Auth-Token")!] == authToken else {
                return FakeCarrier.reply(.unauthorized, json: #"{"error": "authentication failed"}"#)
            }
            var request = request
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: try await request.collectBody(upTo: 1 << 20)))
            let uuid = context.parameters.get("uuid") ?? ""
            let url = json["aleg_url"]?.stringValue ?? ""
            let form = [("CallUUID", uuid), ("Direction", "outbound")]
            let nonce = "t\(UInt32.random(in: 1...UInt32.max))"
            let signed: HTTPFields = [HTTPField.Name("X-Vobiz-Signature-V3")!: signature(url: url, form: form, nonce: nonce),
                                      HTTPField.Name("X-Vobiz-Signature-V3-Nonce")!: nonce]
            let (_, xml) = try await deliver(String(url.dropFirst(fake.publicURL.count)), FormURLEncoded.encode(form), signed)
            await fake.updated(uuid, form: [("legs", json["legs"]?.stringValue ?? ""), ("aleg_url", url), ("xml", xml)])
            return FakeCarrier.reply(.accepted, json: #"{"api_id": "\#(UUID().uuidString)", "message": "call transferred"}"#)
        }
        return router
    }
}
