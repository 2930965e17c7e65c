import Foundation
import Logging
import NIOConcurrencyHelpers
import SwitchboardCore

/// Says a warm transfer's summary to the person taking the call, on their leg, before the
/// caller is put through: the server's speech services, composed in.
public typealias SIPWhisper = @Sendable (_ summary: String, _ person: any VoiceTransport) async -> Void

/// A transfer we carry ourselves, when the trunk cannot (it refused REFER) or a person must be
/// told first (a warm transfer): a second call to the person through the same trunk, the
/// summary said to them, then the two calls' audio relayed frame for frame until either side
/// hangs up. The agent is told the transfer went through when the person answers, or why not.
struct SIPBridge {
    let call: SIPCall
    let transfer: TransferRequest
    let whisper: SIPWhisper?

    /// Runs the person's call; posts `.bridgeEnded` to the caller's dialog when it is over.
    func run(answering continuation: CheckedContinuation<String?, Never>, mailbox: Mailbox<SIPEvent>) async {
        let told = NIOLockedValueBox(false)
        @Sendable func tell(_ failure: String?) {
            if !told.withLockedValue({ told in defer { told = true }; return told }) { continuation.resume(returning: failure) }
        }
        let answered = NIOLockedValueBox(false)
        var person = call.request
        person.to = transfer.destination
        person.ringTimeout = 30
        person.progress = { _ in }
        var logger = call.logger
        logger[metadataKey: "transfer_to"] = "\(transfer.destination)"
        guard let caller = call.media.currentSession else { return tell("the call has no audio to bridge") }
        let media = SIPMedia(ports: call.media.ports, bindHost: call.media.bindHost, request: person, conversation: { [transfer, whisper] _, leg in
            answered.withLockedValue { $0 = true }
            if let summary = transfer.summary, let whisper { await whisper(summary, leg) }
            // The agent's conversation ends as transferred; the caller's audio is ours to relay from now.
            tell(nil)
            await Self.relay(caller, leg)
            return ConversationEnd(reason: "the bridged call ended")
        }, logger: logger)
        let leg = SIPCall(transport: call.transport, trunk: call.trunk, remote: call.remote, localHost: call.localHost, request: person,
                          clock: call.clock, media: media, logger: logger)
        logger.info("transfer: calling the person to bridge")
        let result = await leg.run()
        tell("the transfer target did not answer: \(result.detail ?? result.outcome.rawValue)")
        mailbox.post(.bridgeEnded(answered: answered.withLockedValue { $0 }))
    }

    /// Each side's frames to the other, every 20 ms, until either hangs up.
    static func relay(_ a: any VoiceTransport, _ b: any VoiceTransport) async {
        var next = ContinuousClock.now
        while !Task.isCancelled {
            let (fromA, fromB) = (a.receive(), b.receive())
            if fromA.closed || fromB.closed { return }
            b.send(fromA.frame)
            a.send(fromB.frame)
            next += .milliseconds(20)
            try? await Task.sleep(until: next)
        }
    }
}
