import Foundation
import Logging
import SwitchboardCore

/// An answered call: ACKs the 2xx, holds the line while the agent talks, and ends it with BYE
/// at the call's limit, or answers the other side's BYE. The same for a call we placed and
/// one we answered; only how the dialog was set up differs.
struct Dialog {
    let call: SIPCall
    /// Where in-dialog requests go: the other side's Contact (§12.1.2, §12.1.1).
    let target: String
    /// The other side, with its tag.
    let toHeader: String
    /// The route set of our requests.
    let routes: [String]
    /// The other side's session description: where its audio is, in which law.
    let remoteSDP: String
    /// How the call was set up, for the attempt's detail.
    let summary: String
    /// On a call we answered: our 2xx, resent until the caller's ACK (Timer G, §13.3.1.4).
    let ok: SIPMessage?

    /// The dialog of our INVITE, from the callee's 2xx: Record-Route reversed (§12.1.2).
    init(call: SIPCall, answer: SIPMessage) {
        self.call = call
        target = answer["Contact"].map(SIPMessage.uri(in:)) ?? call.requestURI
        toHeader = answer["To"] ?? call.toHeader
        routes = answer.values("Record-Route").flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.reversed()
        remoteSDP = answer.body
        summary = SIPOutcome.detail(answer)
        ok = nil
    }

    /// The dialog of a caller's INVITE we answered with `ok`: Record-Route in order (§12.1.1).
    init(call: SIPCall, invite: SIPMessage, ok: SIPMessage) {
        self.ok = ok
        self.call = call
        target = invite["Contact"].map(SIPMessage.uri(in:)) ?? SIPMessage.uri(in: invite["From"] ?? "")
        toHeader = invite["From"] ?? ""
        routes = invite.values("Record-Route").flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        remoteSDP = invite.body
        summary = "answered the caller's INVITE"
    }

    private func request(_ method: String, cseq: Int, branch: String) -> SIPMessage {
        SIPMessage(.request(method: method, uri: target), headers: [
            ("Via", call.via(branch)), ("Max-Forwards", "70"), ("From", call.fromHeader), ("To", toHeader), ("Call-ID", call.callID),
            ("CSeq", "\(cseq) \(method)"),
        ] + routes.map { ("Route", $0) })
    }

    /// The 2xx's ACK is a transaction of its own (§13.2.2.4); resent for each 2xx retransmission.
    func ack(cseq: Int) -> SIPMessage { request("ACK", cseq: cseq, branch: SIPCall.branch()) }

    func talk(inviteCSeq: Int, mailbox: Mailbox<SIPEvent>) async -> DialResult {
        let answeredAt = call.clock.now()
        let answeredInstant = ContinuousClock.now
        call.request.progress(.answered(at: answeredAt))
        let ack = ack(cseq: inviteCSeq)
        // The conversation keeps the call's limit itself; this one is the backstop should it not.
        let limit = answeredInstant + .seconds(call.request.maxDuration + 5)
        let conversation = Task { [media = call.media, body = remoteSDP] in
            let why = await media.run(answer: body)
            mailbox.post(.agentEnded(why))
        }
        var detail = ""
        var end: ConversationEnd?
        var nextCSeq = inviteCSeq + 1
        var referring: Referring?
        // A transfer we carry ourselves (a second call, bridged), and whether the agent's part is over.
        var bridge: Task<Void, Never>?
        var bridged = false
        func startBridge(_ transfer: TransferRequest, _ continuation: CheckedContinuation<String?, Never>) {
            bridge = Task { [call] in
                await SIPBridge(call: call, transfer: transfer, whisper: call.media.whisper).run(answering: continuation, mailbox: mailbox)
            }
        }
        var unacknowledged = ok.map { Retransmitting($0, now: answeredInstant) }
        call.media.onTransfer { transfer in
            await withCheckedContinuation { mailbox.post(.transfer(transfer, $0)) }
        }
        talking: while true {
            var deadline = referring.map { min(limit, $0.accepted ? $0.request.giveUpAt : min($0.request.nextAt, $0.request.giveUpAt)) } ?? limit
            if let pending = unacknowledged { deadline = min(deadline, pending.nextAt, pending.giveUpAt) }
            guard !Task.isCancelled, let event = await mailbox.receive(until: deadline) else {
                let now = ContinuousClock.now
                if !Task.isCancelled, now < limit, var pending = unacknowledged, now >= min(pending.nextAt, pending.giveUpAt) {
                    if now >= pending.giveUpAt {
                        conversation.cancel()
                        detail = "no ACK to our 200 OK; hung up with BYE"
                        _ = await hangUp(cseq: nextCSeq, mailbox: mailbox)
                        break talking
                    }
                    call.transport.send(pending.message, to: call.remote)
                    pending.backOff(now: now)
                    unacknowledged = pending
                    continue
                }
                if !Task.isCancelled, now < limit, var pending = referring {
                    // The REFER's timers (§17.1.2): resent until answered; the transfer given up at 64·T1.
                    if now >= pending.request.giveUpAt {
                        if pending.accepted {
                            pending.finish("no NOTIFY of the transfer's result")
                        } else {
                            call.logger.notice("no answer to REFER; bridging the transfer ourselves")
                            startBridge(pending.transfer, pending.continuation)
                        }
                        referring = nil
                    } else if !pending.accepted, now >= pending.request.nextAt {
                        call.transport.send(pending.request.message, to: call.remote)
                        pending.request.backOff(now: now)
                        referring = pending
                    }
                    continue
                }
                conversation.cancel()
                detail = "hung up with BYE at the \(Int(call.request.maxDuration)) s call limit"
                _ = await hangUp(cseq: nextCSeq, mailbox: mailbox)
                break talking
            }
            switch event {
            case .agentEnded(let ended):
                end = ended
                if let destination = ended.transferredTo, bridge != nil {
                    // The person answered our call: the line stays up, relayed to them, until either hangs up.
                    bridged = true
                    detail = "bridged to \(destination)"
                    continue
                }
                detail = "hung up with BYE: " + (ended.reason ?? "the agent ended the call")
                _ = await hangUp(cseq: nextCSeq, mailbox: mailbox)
                break talking
            case .bridgeEnded:
                bridge = nil
                guard bridged else { continue } // the person did not answer: the agent was told, and talks on
                detail += "; the person hung up, BYE sent"
                _ = await hangUp(cseq: nextCSeq, mailbox: mailbox)
                break talking
            case .transfer(let transfer, let continuation):
                guard referring == nil, bridge == nil else { continuation.resume(returning: "a transfer is already under way"); continue }
                if transfer.summary != nil {
                    // A warm transfer: only we can speak to the person before the caller is put through.
                    startBridge(transfer, continuation)
                    continue
                }
                let destination = transfer.destination
                var refer = request("REFER", cseq: nextCSeq, branch: SIPCall.branch())
                refer.headers += [("Refer-To", "<sip:\(destination)@\(call.trunk.host):\(call.trunk.port)>"),
                                  ("Referred-By", "<sip:\(call.request.from)@\(call.trunk.fromDomain)>"),
                                  ("Contact", "<sip:\(call.request.from)@\(call.localHost):\(call.transport.localPort)>")]
                nextCSeq += 1
                call.transport.send(refer, to: call.remote)
                referring = Referring(request: Retransmitting(refer, now: ContinuousClock.now), transfer: transfer, continuation: continuation)
                call.logger.info("transfer: REFER sent", metadata: ["to": "\(destination)"])
            case .message(let message):
                if message.method == "ACK" {
                    unacknowledged = nil
                } else if message.method == "INVITE", let ok, message.cseq?.number == ok.cseq?.number {
                    call.transport.send(ok, to: call.remote) // the caller did not hear our 200 yet
                } else if message.method == "BYE" {
                    call.transport.send(.response(200, "OK", to: message), to: call.remote)
                    detail = "the callee hung up"
                    // The conversation sees the line close and stores what was said.
                    call.media.calleeHungUp()
                    await conversation.value
                    if case .agentEnded(let ended)? = await mailbox.receive(until: ContinuousClock.now) { end = ended }
                    break talking
                } else if message.method == "NOTIFY", var pending = referring {
                    // The transfer's progress (RFC 3515): a sipfrag of the transfer target's answer.
                    call.transport.send(.response(200, "OK", to: message), to: call.remote)
                    guard let status = Self.sipfragStatus(message.body), status >= 200 else { continue }
                    pending.finish(status < 300 ? nil : ("the transfer target answered \(message.body.split(whereSeparator: \.isNewline).first ?? "")"))
                    referring = nil
                } else if message.method != nil {
                    call.answerInDialog(message)
                } else if let status = message.status, message.cseq?.method == "REFER", var pending = referring,
                          message.cseq?.number == pending.request.message.cseq?.number {
                    if (200..<300).contains(status) {
                        pending.accepted = true
                        referring = pending
                    } else if status >= 300 {
                        // The trunk will not transfer: we call the person and bridge the two calls.
                        call.logger.notice("the trunk refused REFER; bridging the transfer ourselves", metadata: ["status": "\(SIPOutcome.detail(message))"])
                        startBridge(pending.transfer, pending.continuation)
                        referring = nil
                    }
                } else if let status = message.status, (200..<300).contains(status), message.cseq?.method == "INVITE" {
                    call.transport.send(ack, to: call.remote) // our ACK was lost: the 2xx is resent
                }
            }
        }
        referring?.finish("the call ended")
        if let bridge {
            // The caller's side is over: the relay stops, and a person still ringing is cancelled.
            call.media.calleeHungUp()
            if !bridged { bridge.cancel() }
            await bridge.value
        }
        if let destination = end?.transferredTo { call.logger.info("call transferred", metadata: ["to": "\(destination)"]) }
        let duration = (ContinuousClock.now - answeredInstant).timeInterval
        // A machine answered: the outcome is voicemail, whether or not a message was left.
        let outcome: Outcome = end?.transferredTo != nil ? .transferred : end?.answeredByMachine == true ? .voicemail : .completed
        return DialResult(outcome: outcome, providerCallID: call.callID, answeredAt: answeredAt,
                          endedAt: answeredAt.addingTimeInterval(duration), duration: duration,
                          detail: "\(summary); \(detail)", voicemailLeft: end?.voicemailLeft ?? false,
                          transferredTo: end?.transferredTo)
    }

    /// A transfer under way: the REFER, and who waits for its result.
    struct Referring {
        var request: Retransmitting
        let transfer: TransferRequest
        let continuation: CheckedContinuation<String?, Never>
        /// 202 Accepted came: the result comes in a NOTIFY.
        var accepted = false

        mutating func finish(_ failure: String?) { continuation.resume(returning: failure) }
    }

    /// The status code of a `message/sipfrag` body's status line (`SIP/2.0 200 OK`).
    static func sipfragStatus(_ body: String) -> Int? {
        let parts = body.split(whereSeparator: \.isNewline).first?.split(separator: " ") ?? []
        return parts.count >= 2 && parts[0].hasPrefix("SIP/") ? Int(parts[1]) : nil
    }

    /// BYE, resent until the callee answers it or 64·T1 pass. True when answered.
    func hangUp(cseq: Int, mailbox: Mailbox<SIPEvent>) async -> Bool {
        var bye = Retransmitting(request("BYE", cseq: cseq, branch: SIPCall.branch()), now: ContinuousClock.now)
        call.transport.send(bye.message, to: call.remote)
        while ContinuousClock.now < bye.giveUpAt {
            guard let event = await mailbox.receive(until: min(bye.nextAt, bye.giveUpAt)) else {
                if Task.isCancelled { return false }
                if ContinuousClock.now >= bye.nextAt {
                    call.transport.send(bye.message, to: call.remote)
                    bye.backOff(now: ContinuousClock.now)
                }
                continue
            }
            guard case .message(let message) = event else { continue }
            if message.method == "BYE" {
                call.transport.send(.response(200, "OK", to: message), to: call.remote)
                return true
            }
            if message.cseq?.method == "BYE", let status = message.status, status >= 200 { return true }
        }
        call.logger.notice("BYE unanswered; call considered ended")
        return false
    }
}
