import Foundation
import Logging
import NIOCore
import SwitchboardCore

/// Calls to our numbers arriving on a trunk: who answers them is the server's to say.
public struct SIPInbound: Sendable {
    /// The trunk settings of our number `to` (as the INVITE's Request-URI names it); nil when
    /// it is not one of our SIP trunk numbers.
    public var trunk: @Sendable (_ to: String) async -> [String: JSONValue]?
    /// Opens the call for the agent that answers it (`to` our number, `from` the caller): the
    /// request its conversation runs with; nil rejects the call.
    public var open: @Sendable (_ to: String, _ from: String, _ sipCallID: String) async -> DialRequest?

    public init(trunk: @escaping @Sendable (String) async -> [String: JSONValue]?,
                open: @escaping @Sendable (String, String, String) async -> DialRequest?) {
        self.trunk = trunk
        self.open = open
    }
}

/// A caller's INVITE, as a SIP user agent server (RFC 3261 §8.2, §13.3): 100 Trying at once;
/// refused unless it comes from the trunk of the number it calls, names a number that takes
/// calls and offers G.711; otherwise answered with our SDP, and the dialog held like one we
/// placed, until either side's BYE.
struct SIPAnswering {
    let transport: SIPTransport
    let invite: SIPMessage
    let source: SocketAddress
    let mailbox: Mailbox<SIPEvent>
    let inbound: SIPInbound
    let makeMedia: @Sendable (DialRequest) -> SIPMedia
    let clock: any WallClock
    let logger: Logger

    func run() async {
        let callID = invite.callID ?? ""
        defer { transport.close(callID: callID) }
        var logger = logger
        logger[metadataKey: "sip_call_id"] = "\(callID)"
        transport.send(.response(100, "Trying", to: invite), to: source)
        guard let to = SIPMessage.user(of: invite.requestURI ?? ""), let from = SIPMessage.user(of: SIPMessage.uri(in: invite["From"] ?? "")) else {
            return refuse(400, "Bad Request", logger: logger)
        }
        guard let settings = await inbound.trunk(to), let trunk = try? SIPTrunkSettings(settings: settings) else {
            return refuse(404, "Not Found", logger: logger)
        }
        // Only the number's own trunk may call it: anyone else reaching the port is refused
        // before a call is opened (and an agent paid for).
        guard let trunkAddress = try? SocketAddress.makeAddressResolvingHost(trunk.host, port: trunk.port),
              trunkAddress.ipAddress == source.ipAddress else {
            return refuse(403, "Forbidden", logger: logger)
        }
        let offer: SDP.Answer
        do { offer = try SDP.parseAnswer(invite.body) } catch {
            return refuse(488, "Not Acceptable Here", logger: logger, why: "\(error)")
        }
        guard let request = await inbound.open(to, from, callID) else {
            return refuse(480, "Temporarily Unavailable", logger: logger, why: "no agent answers this caller")
        }
        logger[metadataKey: "attempt_id"] = "\(request.attemptID)"
        let media = makeMedia(request)
        let localHost = await transport.localHost(toward: source)
        let call = SIPCall(transport: transport, trunk: trunk, remote: source, localHost: localHost, request: request, clock: clock,
                           media: media, logger: logger, answering: invite)
        let answer: String
        do { answer = try await media.open(host: localHost, answering: offer) } catch {
            // Every port of SWITCHBOARD_RTP_PORTS in use: the opened call stays `live` in the history.
            return refuse(503, "Service Unavailable", logger: logger, why: "no RTP port: \(error)")
        }
        var ok = SIPMessage.response(200, "OK", to: invite)
        ok.headers = ok.headers.map { SIPMessage.canonical($0.name) == "to" ? ($0.name, call.fromHeader) : $0 }
        ok.headers += [("Contact", "<sip:\(to)@\(localHost):\(transport.localPort)>"), ("User-Agent", "Switchboard"),
                       ("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY"), ("Content-Type", "application/sdp")]
        ok.body = answer
        transport.send(ok, to: source)
        logger.info("sip call answered", metadata: ["from": "\(from)", "to": "\(to)"])
        let result = await Dialog(call: call, invite: invite, ok: ok).talk(inviteCSeq: 0, mailbox: mailbox)
        await media.close()
        logger.debug("sip inbound call ended", metadata: ["detail": "\(result.detail ?? "")"])
    }

    /// A final response that turns the call away (its To tagged, as §8.2.6.2 asks).
    private func refuse(_ status: Int, _ reason: String, logger: Logger, why: String? = nil) {
        var response = SIPMessage.response(status, reason, to: invite)
        response.headers = response.headers.map { SIPMessage.canonical($0.name) == "to" ? ($0.name, "\($0.value);tag=\(SIPCall.token(8))") : $0 }
        transport.send(response, to: source)
        logger.notice("sip call refused", metadata: ["status": "\(status)", "reason": "\(why ?? reason)", "source": "\(source)"])
    }
}

extension SIPMessage {
    /// A request's URI (`sip:+15551234567@host`).
    var requestURI: String? { if case .request(_, let uri) = startLine { uri } else { nil } }

    /// The user part of a SIP URI: `+15551234567` of `sip:+15551234567@host;user=phone`.
    static func user(of uri: String) -> String? {
        guard let colon = uri.firstIndex(of: ":"), let at = uri.firstIndex(of: "@"), colon < at else { return nil }
        let user = uri[uri.index(after: colon)..<at].split(separator: ";").first.map(String.init) ?? ""
        return user.isEmpty ? nil : user
    }
}
