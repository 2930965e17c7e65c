import Foundation
import Logging
import NIOHTTP1
import ServiceLifecycle
import SwitchboardCore
import TelephonyHTTP

/// Dials through Twilio Programmable Voice: creates the call over REST with status callbacks
/// for every event and answering-machine detection, then waits for the callbacks (posted here
/// by the server's callback route through `pending`), polling the call when they are late.
public final class TwilioProvider: TelephonyProvider, Service {
    public let name = ProviderName.twilio
    /// Calls this process waits on; the callback route delivers to it.
    public let pending = PendingCarrierCalls()
    let publicURL: String
    private let http: CarrierHTTPClient
    private let waiting: CallbackDial
    let clock: any WallClock
    let logger: Logger
    /// Whether a number's `api_base_url` is honoured (`SWITCHBOARD_ALLOW_CARRIER_BASE_URL`).
    let allowBaseURL: Bool

    /// `publicURL` is where Twilio reaches our callback routes (`SWITCHBOARD_PUBLIC_URL`).
    public init(publicURL: String, clock: any WallClock, logger: Logger, pollEvery: Duration = .seconds(60),
                backoff: Backoff = Backoff(base: 1, cap: 60), allowBaseURL: Bool = false) {
        self.publicURL = publicURL
        self.allowBaseURL = allowBaseURL
        self.clock = clock
        self.logger = logger
        http = CarrierHTTPClient(backoff: backoff, clock: clock)
        waiting = CallbackDial(pollEvery: pollEvery, clock: clock)
    }

    public static func statusCallbackPath(attemptID: Int64) -> String { "/v1/telephony/twilio/status?attempt_id=\(attemptID)" }
    public static func relayPath(attemptID: Int64) -> String { "/v1/telephony/twilio/relay?attempt_id=\(attemptID)" }
    /// Where Twilio asks what a call does once its ConversationRelay session ends (`<Connect action>`).
    public static func relayEndPath(attemptID: Int64) -> String { "/v1/telephony/twilio/relay-end?attempt_id=\(attemptID)" }
    public static func recordingCallbackPath(attemptID: Int64) -> String { "/v1/telephony/twilio/recording?attempt_id=\(attemptID)" }
    /// Media Streams' URL takes no query string: the attempt is in the path.
    public static func streamPath(attemptID: Int64) -> String { "/v1/telephony/twilio/stream/\(attemptID)" }

    /// The public URL as a WebSocket URL (`https://` → `wss://`).
    public static func webSocketURL(_ publicURL: String) -> String {
        if publicURL.hasPrefix("https://") { return "wss://" + publicURL.dropFirst(8) }
        if publicURL.hasPrefix("http://") { return "ws://" + publicURL.dropFirst(7) }
        return publicURL
    }

    /// The answered call joins its voice agent: through ConversationRelay (Twilio listens and
    /// speaks, our route exchanges text), or through a bidirectional Media Stream (the audio
    /// comes to our voice pipeline), as the number's `voice_transport` says. A relay session the
    /// agent ends asks our `action` URL what next: a `<Dial>` when it handed the call to a person.
    public static func twiml(attemptID: Int64, publicURL: String, transport: TwilioAccount.VoiceTransport) -> String {
        switch transport {
        case .mediaStreams:
            return "<Response><Connect><Stream url=\"\((webSocketURL(publicURL) + streamPath(attemptID: attemptID)).xmlEscaped)\"/></Connect></Response>"
        case .conversationRelay:
            return "<Response><Connect action=\"\((publicURL + relayEndPath(attemptID: attemptID)).xmlEscaped)\"><ConversationRelay url=\""
                + (webSocketURL(publicURL) + relayPath(attemptID: attemptID)).xmlEscaped + "\"/></Connect></Response>"
        }
    }

    /// Where a warm transfer's person hears the summary before the caller is put through
    /// (the `<Number url>` of the `<Dial>`).
    public static func whisperPath(attemptID: Int64) -> String { "/v1/telephony/twilio/whisper?attempt_id=\(attemptID)" }

    /// The TwiML of a call handed to a person; for a warm transfer, the person first hears
    /// the summary from our whisper URL.
    public static func dialTwiML(_ transfer: TransferRequest, attemptID: Int64, publicURL: String) -> String {
        let number = transfer.destination.filter { $0 == "+" || $0.isNumber }
        guard transfer.summary != nil else { return "<Response><Dial>\(number)</Dial></Response>" }
        return "<Response><Dial><Number url=\"\((publicURL + whisperPath(attemptID: attemptID)).xmlEscaped)\">\(number)</Number></Dial></Response>"
    }

    public func dial(_ request: DialRequest) async -> DialResult {
        let account: TwilioAccount
        do { account = try TwilioAccount(settings: request.settings, allowBaseURL: allowBaseURL) }
        catch { return DialResult(outcome: .failed, endedAt: clock.now(), detail: "twilio settings: \(error)") }
        let logger = self.logger.with(attemptID: request.attemptID)
        // Open before creating: Twilio may call back before its create answer arrives.
        let mailbox = pending.open(request.attemptID)
        defer { pending.close(request.attemptID) }
        let form: [(String, String)] = [
            ("To", request.to), ("From", request.from),
            ("Twiml", Self.twiml(attemptID: request.attemptID, publicURL: publicURL, transport: account.voiceTransport)),
            ("StatusCallback", publicURL + Self.statusCallbackPath(attemptID: request.attemptID)), ("StatusCallbackMethod", "POST"),
        ] + ["initiated", "ringing", "answered", "completed"].map { ("StatusCallbackEvent", $0) } + [
            ("Timeout", "\(Int(request.ringTimeout))"), ("TimeLimit", "\(Int(request.maxDuration))"), ("MachineDetection", "Enable"),
        ] + recording(request, transport: account.voiceTransport)
        let reply: CarrierHTTPClient.Reply
        do {
            reply = try await rest(.POST, "Calls.json", account: account, form: form, logger: logger)
        } catch {
            return DialResult(outcome: .failed, endedAt: clock.now(), detail: "Twilio unreachable: \(error)")
        }
        guard (200..<300).contains(reply.status), let sid = reply.json?["sid"]?.stringValue else {
            let (outcome, detail) = TwilioCallStatus.refusal(reply.json, httpStatus: reply.status)
            logger.notice("twilio refused the call", metadata: ["detail": "\(detail)", "reply": "\(reply.json?["message"]?.stringValue ?? "")"])
            return DialResult(outcome: outcome, endedAt: clock.now(), detail: detail)
        }
        logger.debug("twilio call created", metadata: ["call_sid": "\(sid)"])
        let attemptID = request.attemptID
        return await waiting.wait(for: request, mailbox: mailbox, providerCallID: sid, carrier: "Twilio",
                                  poll: { await self.fetch(sid: sid, account: account, attemptID: attemptID, logger: logger) },
                                  hangUp: { sid in await self.hangUp(sid, account: account, logger: logger) })
    }

    /// Ends a call we stopped waiting on (`Status=completed` on the Call resource).
    /// Hands a live call to `destination`: its TwiML replaced by a `<Dial>` (Twilio leaves the
    /// media stream and dials). Nil when Twilio took it, else why not.
    public func transfer(callSID: String, _ transfer: TransferRequest, attemptID: Int64, settings: [String: JSONValue], logger: Logger) async -> String? {
        guard callSID.hasPrefix("CA"), callSID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
              transfer.destination.hasPrefix("+"), transfer.destination.dropFirst().allSatisfy(\.isNumber) else { return "not a call or number to transfer" }
        do {
            let account = try TwilioAccount(settings: settings, allowBaseURL: allowBaseURL)
            let reply = try await rest(.POST, "Calls/\(callSID).json", account: account,
                                       form: [("Twiml", Self.dialTwiML(transfer, attemptID: attemptID, publicURL: publicURL))], logger: logger)
            return (200..<300).contains(reply.status) ? nil : "Twilio answered \(reply.status) to the transfer"
        } catch {
            return "Twilio unreachable: \(error)"
        }
    }

    private func hangUp(_ sid: String, account: TwilioAccount, logger: Logger) async {
        let reply = try? await rest(.POST, "Calls/\(sid).json", account: account, form: [("Status", "completed")], logger: logger)
        logger.notice("twilio call hung up", metadata: ["call_sid": "\(sid)", "status": "\(reply?.status ?? 0)"])
    }

    /// The call's state from `GET …/Calls/{Sid}.json`.
    private func fetch(sid: String, account: TwilioAccount, attemptID: Int64, logger: Logger) async -> CarrierCallEvent? {
        guard let reply = try? await rest(.GET, "Calls/\(sid).json", account: account, logger: logger),
              reply.status == 200, let resource = reply.json else { return nil }
        return TwilioCallStatus.event(resource: resource, attemptID: attemptID, at: clock.now())
    }

    /// Reconciles an attempt whose dialer died: Twilio takes no idempotency key, so the call, if
    /// any, is found in the Calls list by its numbers and creation time.
    public func status(of attempt: DialRequest) async -> ProviderCallStatus {
        guard let account = try? TwilioAccount(settings: attempt.settings, allowBaseURL: allowBaseURL) else { return .unknown }
        let day = DateFormatter.twilioDay.string(from: attempt.dialAt.addingTimeInterval(-86_400))
        let query = FormURLEncoded.encode([("To", attempt.to), ("From", attempt.from), ("StartTime>", day)])
        guard let reply = try? await rest(.GET, "Calls.json?\(query)", account: account, logger: logger),
              reply.status == 200 else {
            return .inProgress // Twilio could not be asked: ask again later, never guess
        }
        let candidates = (reply.json?["calls"]?.arrayValue ?? []).filter { call in
            guard let created = call["date_created"]?.stringValue.flatMap(DateFormatter.rfc2822.date(from:)) else { return false }
            return created >= attempt.dialAt.addingTimeInterval(-30)
        }
        guard let call = candidates.last, let event = TwilioCallStatus.event(resource: call, attemptID: attempt.attemptID, at: clock.now()) else {
            return .unknown
        }
        var timeline = CarrierCallTimeline()
        _ = timeline.apply(event)
        return timeline.result.map { .ended($0) } ?? .inProgress
    }

    /// A request to the account's REST resource `path` (under `/2010-04-01/Accounts/{Sid}/`),
    /// with Basic auth, and the form as the body when there is one.
    /// A call through ConversationRelay is recorded by Twilio, both sides on their own channel,
    /// and fetched when Twilio reports it ready; Media Streams calls are recorded by our pipeline.
    func recording(_ request: DialRequest, transport: TwilioAccount.VoiceTransport) -> [(String, String)] {
        guard transport == .conversationRelay else { return [] }
        return [("Record", "true"), ("RecordingChannels", "dual"),
                ("RecordingStatusCallback", publicURL + Self.recordingCallbackPath(attemptID: request.attemptID)),
                ("RecordingStatusCallbackEvent", "completed")]
    }

    /// A recording's WAV, from the account's own API (never from a URL a request named).
    public func downloadRecording(sid: String, settings: [String: JSONValue], logger: Logger) async throws -> [UInt8] {
        guard sid.hasPrefix("RE"), sid.count <= 64, sid.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw CarrierSettingsError(field: "RecordingSid", "not a recording sid: \(sid)")
        }
        let account = try TwilioAccount(settings: settings, allowBaseURL: allowBaseURL)
        let reply = try await rest(.GET, "Recordings/\(sid).wav", account: account, maxBytes: 512 << 20, logger: logger)
        guard reply.status == 200 else { throw CarrierSettingsError(field: "RecordingSid", "Twilio answered \(reply.status) for recording \(sid)") }
        return reply.bytes
    }

    func rest(_ method: HTTPMethod, _ path: String, account: TwilioAccount, form: [(String, String)]? = nil, maxBytes: Int = 4 << 20,
                 logger: Logger) async throws -> CarrierHTTPClient.Reply {
        var headers = [("Authorization", CarrierHTTPClient.basicAuth(account.accountSID, account.authToken)), ("Accept", "application/json")]
        if form != nil { headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
        return try await http.send(method, "\(account.apiBaseURL)/2010-04-01/Accounts/\(account.accountSID)/\(path)", headers: headers,
                                   body: form.map(FormURLEncoded.encode), maxBytes: maxBytes, logger: logger)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes the HTTP client; `run` does it when the service stops.
    public func shutdown() async { await http.shutdown() }
}

extension DateFormatter {
    /// `Tue, 24 Nov 2026 04:00:00 +0000`: Twilio's dates.
    static var rfc2822: DateFormatter { posix("EEE, dd MMM yyyy HH:mm:ss Z") }
    /// `2026-11-24`: the `StartTime>` filter.
    static var twilioDay: DateFormatter { posix("yyyy-MM-dd") }

    private static func posix(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = format
        return formatter
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? { if case .array(let items) = self { items } else { nil } }
}
