import Foundation
import Logging
import NIOCore
import SwitchboardCore

/// What a call's transaction reads: the trunk's messages, or its agent hanging up.
enum SIPEvent: Sendable {
    case message(SIPMessage)
    /// The conversation ended the call, and why.
    case agentEnded(ConversationEnd)
    /// The agent transfers the call: REFER (or our bridge), and the answer (nil: taken) when known.
    case transfer(TransferRequest, CheckedContinuation<String?, Never>)
    /// The call we placed to bridge a transfer is over (`answered`: the person took it).
    case bridgeEnded(answered: Bool)
}

/// One outbound call as a SIP user agent client (RFC 3261): the INVITE client transaction
/// with its retransmissions, digest authentication, CANCEL at the ring timeout, ACKs, and the
/// dialog until BYE. Timers run on real time: they are about the network, not the schedule.
struct SIPCall {
    static let t1: Duration = .milliseconds(500)
    static let t2: Duration = .seconds(4)

    let transport: SIPTransport
    let trunk: SIPTrunkSettings
    let remote: SocketAddress
    let localHost: String
    let request: DialRequest
    let clock: any WallClock
    let media: SIPMedia
    let logger: Logger
    let callID: String
    /// Our side of the dialog: the From of our requests, with our tag.
    let fromHeader: String

    /// An outbound call; or, with `answering`, the dialog of a caller's INVITE we answer (its
    /// Call-ID, and its To as our side, tagged by us).
    init(transport: SIPTransport, trunk: SIPTrunkSettings, remote: SocketAddress, localHost: String, request: DialRequest,
         clock: any WallClock, media: SIPMedia, logger: Logger, answering invite: SIPMessage? = nil) {
        let tag = SIPCall.token(8)
        self.fromHeader = "\(invite?["To"] ?? "<sip:\(request.from)@\(trunk.fromDomain)>");tag=\(tag)"
        self.transport = transport
        self.trunk = trunk
        self.remote = remote
        self.localHost = localHost
        self.request = request
        self.clock = clock
        self.media = media
        self.callID = invite?.callID ?? "\(SIPCall.token(16))@\(localHost)"
        var logger = logger
        logger[metadataKey: "sip_call_id"] = "\(callID)"
        self.logger = logger
    }

    var requestURI: String { "sip:\(request.to)@\(trunk.host):\(trunk.port)" }
    var toHeader: String { "<sip:\(request.to)@\(trunk.host)>" }
    var via: (String) -> String { { branch in "SIP/2.0/UDP \(localHost):\(transport.localPort);branch=\(branch);rport" } }

    func run() async -> DialResult {
        let offer: String
        do { offer = try await media.open(host: localHost) }
        catch { return ended(.failed, detail: "no RTP port for the call's media: \(error)") }
        let result = await invite(offer: offer)
        await media.close()
        return result
    }

    private func invite(offer: String) async -> DialResult {
        let mailbox = transport.open(callID: callID)
        defer { transport.close(callID: callID) }
        let started = ContinuousClock.now
        let ringDeadline = started + .seconds(request.ringTimeout)
        var cseq = 1
        var authorization: (name: String, value: String)?
        var ringing = false

        while true {
            let branch = Self.branch()
            let invite = SIPMessage(.request(method: "INVITE", uri: requestURI), headers: [
                ("Via", via(branch)), ("Max-Forwards", "70"), ("From", fromHeader), ("To", toHeader), ("Call-ID", callID),
                ("CSeq", "\(cseq) INVITE"), ("Contact", "<sip:\(request.from)@\(localHost):\(transport.localPort)>"),
                ("User-Agent", "Switchboard"), ("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"), ("Content-Type", "application/sdp"),
            ] + (authorization.map { [$0] } ?? []), body: offer)
            transport.send(invite, to: remote)
            let sentAt = ContinuousClock.now
            var retransmitAfter = Self.t1
            var nextRetransmit = sentAt + retransmitAfter
            let timerB = sentAt + Self.t1 * 64
            var provisional = false
            var cancel: Retransmitting?

            while true {
                if Task.isCancelled {
                    if provisional { transport.send(cancelRequest(for: invite), to: remote) }
                    return ended(.failed, detail: "call abandoned: the dialer is shutting down")
                }
                if provisional, cancel == nil, ContinuousClock.now >= ringDeadline {
                    // The ring timeout, and a provisional response has come: CANCEL (§9.1).
                    cancel = Retransmitting(cancelRequest(for: invite), now: ContinuousClock.now)
                    transport.send(cancel!.message, to: remote)
                    logger.debug("ring timeout; CANCEL sent")
                }
                let deadline: ContinuousClock.Instant
                if let pending = cancel {
                    deadline = pending.answered ? pending.giveUpAt : min(pending.nextAt, pending.giveUpAt)
                } else if provisional {
                    deadline = ringDeadline
                } else {
                    deadline = min(nextRetransmit, timerB)
                }
                guard let event = await mailbox.receive(until: deadline) else {
                    let now = ContinuousClock.now
                    if var pending = cancel {
                        if now >= pending.giveUpAt {
                            return ended(.noAnswer, detail: "no answer in \(Int(request.ringTimeout)) s; CANCEL sent, no final response")
                        }
                        if !pending.answered, now >= pending.nextAt {
                            transport.send(pending.message, to: remote)
                            pending.backOff(now: now)
                            cancel = pending
                        }
                    } else if !provisional {
                        if now >= timerB {
                            return ended(.failed, detail: "SIP trunk \(trunk.host):\(trunk.port) did not answer the INVITE (Timer B, 32 s)")
                        }
                        if now >= nextRetransmit {
                            // Timer A: the INVITE again, at doubling intervals until a response.
                            transport.send(invite, to: remote)
                            retransmitAfter = retransmitAfter * 2
                            nextRetransmit = now + retransmitAfter
                        }
                    }
                    continue
                }
                guard case .message(let message) = event else { continue }
                if message.method != nil {
                    answerInDialog(message)
                    continue
                }
                guard let status = message.status, let sequence = message.cseq else { continue }
                if sequence.method == "CANCEL" {
                    cancel?.answered = true
                    continue
                }
                guard sequence.method == "INVITE", sequence.number == cseq else { continue }
                switch status {
                case 100..<200:
                    provisional = true
                    if status != 100, !ringing {
                        ringing = true
                        request.progress(.ringing(at: clock.now()))
                    }
                case 200..<300:
                    let dialog = Dialog(call: self, answer: message)
                    transport.send(dialog.ack(cseq: cseq), to: remote)
                    if cancel != nil {
                        // Answered as we cancelled: the CANCEL lost the race. Hang up at once.
                        _ = await dialog.hangUp(cseq: cseq + 1, mailbox: mailbox)
                        return ended(.noAnswer, detail: "SIP \(status) \(message.reason) after the \(Int(request.ringTimeout)) s ring timeout; hung up with BYE")
                    }
                    return await dialog.talk(inviteCSeq: cseq, mailbox: mailbox)
                default:
                    transport.send(ackForFailure(invite: invite, response: message), to: remote)
                    if status == 401 || status == 407, authorization == nil, let username = trunk.username, let password = trunk.password,
                       let (challenge, proxy) = SIPDigestChallenge.first(in: message) {
                        authorization = (proxy ? "Proxy-Authorization" : "Authorization",
                                         challenge.authorization(method: "INVITE", uri: requestURI, username: username, password: password,
                                                                 cnonce: Self.token(8)))
                        cseq += 1
                        logger.debug("digest challenge answered", metadata: ["algorithm": "\(challenge.algorithm.rawValue)"])
                        break
                    }
                    if cancel != nil, status == 487 {
                        return ended(.noAnswer, detail: "SIP 487 \(message.reason) after CANCEL at the \(Int(request.ringTimeout)) s ring timeout")
                    }
                    if status == 401 || status == 407 {
                        let why = authorization == nil ? (trunk.username == nil ? "no credentials configured" : "no supported challenge")
                                                       : "credentials refused"
                        return ended(.failed, detail: "\(SIPOutcome.detail(message)) (\(why))")
                    }
                    return ended(SIPOutcome.outcome(status: status), detail: SIPOutcome.detail(message))
                }
                if status >= 300 { break } // a new INVITE with credentials
            }
        }
    }

    func ended(_ outcome: Outcome, detail: String) -> DialResult {
        DialResult(outcome: outcome, providerCallID: callID, endedAt: clock.now(), detail: detail)
    }

    /// CANCEL matches the INVITE's transaction: same Via branch, From, To, Call-ID, CSeq number.
    func cancelRequest(for invite: SIPMessage) -> SIPMessage {
        SIPMessage(.request(method: "CANCEL", uri: requestURI), headers: [
            ("Via", invite["Via"] ?? ""), ("Max-Forwards", "70"), ("From", fromHeader), ("To", toHeader), ("Call-ID", callID),
            ("CSeq", "\(invite.cseq?.number ?? 1) CANCEL"),
        ])
    }

    /// The ACK of a non-2xx final response belongs to the INVITE's transaction (§17.1.1.3).
    func ackForFailure(invite: SIPMessage, response: SIPMessage) -> SIPMessage {
        SIPMessage(.request(method: "ACK", uri: requestURI), headers: [
            ("Via", invite["Via"] ?? ""), ("Max-Forwards", "70"), ("From", fromHeader), ("To", response["To"] ?? toHeader),
            ("Call-ID", callID), ("CSeq", "\(invite.cseq?.number ?? 1) ACK"),
        ])
    }

    /// Requests inside the call from the other side: a BYE before the answer, OPTIONS pings.
    func answerInDialog(_ message: SIPMessage) {
        switch message.method {
        case "ACK": return
        case "OPTIONS", "BYE": transport.send(.response(200, "OK", to: message), to: remote)
        default: transport.send(.response(501, "Not Implemented", to: message), to: remote)
        }
    }

    static func branch() -> String { "z9hG4bK" + token(12) }

    static func token(_ bytes: Int) -> String {
        (0..<bytes).map { _ in UInt8.random(in: 0...255) }.hexString
    }
}

/// A non-INVITE request resent at T1, 2·T1 … capped at T2 until answered, for 64·T1 (§17.1.2).
struct Retransmitting {
    let message: SIPMessage
    var interval = SIPCall.t1
    var nextAt: ContinuousClock.Instant
    let giveUpAt: ContinuousClock.Instant
    var answered = false

    init(_ message: SIPMessage, now: ContinuousClock.Instant) {
        self.message = message
        nextAt = now + interval
        giveUpAt = now + SIPCall.t1 * 64
    }

    mutating func backOff(now: ContinuousClock.Instant) {
        interval = min(interval * 2, SIPCall.t2)
        nextAt = now + interval
    }
}
