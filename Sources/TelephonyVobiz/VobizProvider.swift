import Foundation
import Logging
import NIOHTTP1
import ServiceLifecycle
import SwitchboardCore
import TelephonyHTTP

/// Dials through Vobiz (Plivo-compatible): makes the call with `X-Auth-ID`/`X-Auth-Token`,
/// then waits for its ring, answer and hang-up callbacks, which the server's callback routes
/// post here through `pending`. A call it gives up on is hung up, never left running; one it
/// lets go at the dialer's shutdown deadline goes on, for reconciliation.
public final class VobizProvider: TelephonyProvider, Service {
    public let name = ProviderName.vobiz
    public let pending = PendingCarrierCalls()
    private let publicURL: String
    private let http: CarrierHTTPClient
    private let waiting: CallbackDial
    private let clock: any WallClock
    private let logger: Logger
    /// Whether a number's `api_base_url` is honoured (`SWITCHBOARD_ALLOW_CARRIER_BASE_URL`).
    private let allowBaseURL: Bool

    public init(publicURL: String, clock: any WallClock, logger: Logger, backoff: Backoff = Backoff(base: 1, cap: 60),
                allowBaseURL: Bool = false) {
        self.publicURL = publicURL
        self.allowBaseURL = allowBaseURL
        self.clock = clock
        self.logger = logger
        http = CarrierHTTPClient(backoff: backoff, clock: clock)
        // Vobiz's call-detail shape is not one we can rely on: callbacks drive the call.
        waiting = CallbackDial(pollEvery: .seconds(3600), clock: clock)
    }

    /// Each callback at its own path; the attempt in the path, so the signed URL has no query.
    public static func callbackPath(_ callback: VobizCallStatus.Callback, attemptID: Int64) -> String {
        "/v1/telephony/vobiz/\(callback.rawValue)/\(attemptID)"
    }

    public func dial(_ request: DialRequest) async -> DialResult {
        let account: VobizAccount
        do { account = try VobizAccount(settings: request.settings, allowBaseURL: allowBaseURL) }
        catch { return DialResult(outcome: .failed, endedAt: clock.now(), detail: "vobiz settings: \(error)") }
        let logger = self.logger.with(attemptID: request.attemptID)
        let mailbox = pending.open(request.attemptID)
        defer { pending.close(request.attemptID) }
        func url(_ callback: VobizCallStatus.Callback) -> JSONValue { .string(publicURL + Self.callbackPath(callback, attemptID: request.attemptID)) }
        let body: JSONValue = [
            "from": .string(String(request.from.drop(while: { $0 == "+" }))), "to": .string(String(request.to.drop(while: { $0 == "+" }))),
            "answer_url": url(.answer), "answer_method": "POST", "ring_url": url(.ring), "ring_method": "POST",
            "hangup_url": url(.hangup), "hangup_method": "POST", "ring_timeout": JSONValue(Int(request.ringTimeout)),
            "time_limit": JSONValue(Int(request.maxDuration)), "machine_detection": "true", "machine_detection_url": url(.machine),
            "machine_detection_method": "POST",
        ]
        let reply: CarrierHTTPClient.Reply
        do {
            reply = try await http.send(.POST, "\(account.apiBaseURL)/v1/Account/\(account.authID)/Call/",
                                        headers: headers(account) + [("Content-Type", "application/json")],
                                        body: String(decoding: try JSONEncoder().encode(body), as: UTF8.self), logger: logger)
        } catch {
            return DialResult(outcome: .failed, endedAt: clock.now(), detail: "Vobiz unreachable: \(error)")
        }
        guard (200..<300).contains(reply.status), let requestUUID = reply.json?["request_uuid"]?.text else {
            // The carrier's own words go to the log; the attempt keeps our summary, never a
            // remote body (which a misdirected endpoint could fill with anything).
            let message = reply.json?["error"]?.text ?? reply.json?["message"]?.text ?? reply.body.prefix(200).description
            logger.notice("vobiz refused the call", metadata: ["status": "\(reply.status)", "reply": "\(message)"])
            return DialResult(outcome: .failed, endedAt: clock.now(), detail: "Vobiz refused the call (HTTP \(reply.status))")
        }
        logger.debug("vobiz call fired", metadata: ["request_uuid": "\(requestUUID)"])
        return await waiting.wait(for: request, mailbox: mailbox, providerCallID: requestUUID, carrier: "Vobiz", poll: { nil },
                                  hangUp: { uuid in await self.hangUp(uuid, account: account, logger: logger) })
    }

    /// Hands a live call to a person (the transfer API, `POST …/Call/{CallUUID}/`): Vobiz leaves
    /// the stream and fetches the call's new XML, a `<Dial>`, from our transfer callback. Nil
    /// when Vobiz took it, else why not.
    public func transfer(callUUID: String, attemptID: Int64, settings: [String: JSONValue], logger: Logger) async -> String? {
        guard !callUUID.isEmpty, callUUID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return "not a call to transfer" }
        do {
            let account = try VobizAccount(settings: settings, allowBaseURL: allowBaseURL)
            let body: JSONValue = ["legs": "aleg", "aleg_url": .string(publicURL + Self.callbackPath(.transfer, attemptID: attemptID)), "aleg_method": "POST"]
            let reply = try await http.send(.POST, "\(account.apiBaseURL)/v1/Account/\(account.authID)/Call/\(callUUID)/",
                                            headers: headers(account) + [("Content-Type", "application/json")],
                                            body: String(decoding: try JSONEncoder().encode(body), as: UTF8.self), logger: logger)
            return (200..<300).contains(reply.status) ? nil : "Vobiz answered \(reply.status) to the transfer"
        } catch {
            return "Vobiz unreachable: \(error)"
        }
    }

    /// The XML of a call handed to a person; for a warm transfer, the person first hears the
    /// summary from our whisper callback (the `<Dial confirmSound>`, played when they answer).
    public static func dialXML(_ transfer: TransferRequest, attemptID: Int64, publicURL: String) -> String {
        let number = "<Number>\(transfer.destination.filter { $0 == "+" || $0.isNumber })</Number>"
        guard transfer.summary != nil else { return "<Response><Dial>\(number)</Dial></Response>" }
        let whisper = (publicURL + callbackPath(.whisper, attemptID: attemptID)).xmlEscaped
        return "<Response><Dial confirmSound=\"\(whisper)\" confirmSoundMethod=\"POST\">\(number)</Dial></Response>"
    }

    /// `DELETE …/Call/{CallUUID}/`: ends a call we stopped waiting on.
    func hangUp(_ uuid: String, account: VobizAccount, logger: Logger) async {
        let reply = try? await http.send(.DELETE, "\(account.apiBaseURL)/v1/Account/\(account.authID)/Call/\(uuid)/",
                                         headers: headers(account), logger: logger)
        logger.notice("vobiz call hung up", metadata: ["call_uuid": "\(uuid)", "status": "\(reply?.status ?? 0)"])
    }

    /// Vobiz cannot be asked about a call by our attempt: an attempt whose dialer died counts
    /// as failed (the retry policy decides), never as unplaced, so nobody is rung twice.
    public func status(of attempt: DialRequest) async -> ProviderCallStatus {
        .ended(DialResult(outcome: .failed, endedAt: clock.now(), detail: "Vobiz call state lost with its dialer"))
    }

    private func headers(_ account: VobizAccount) -> [(String, String)] {
        [("X-Auth-ID", account.authID), ("X-Auth-Token", account.authToken), ("Accept", "application/json")]
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes the HTTP client; `run` does it when the service stops.
    public func shutdown() async { await http.shutdown() }
}
