import Foundation
import Logging
import Store
import SwitchboardCore
import TelephonySIP

/// Call-backs, whichever way they arrive (Twilio's and Vobiz's webhooks, a trunk's INVITE):
/// the caller's call is opened for the agent of the campaign that last called them, or for the
/// number's inbound agent.
struct InboundCalls: Sendable {
    let store: Store
    let clock: any WallClock

    /// A call we answer has no campaign limit to keep on a SIP trunk: this is its limit.
    static let maxDuration: TimeInterval = 30 * 60

    /// Opens `caller`'s call to `number`; nil (with the reason logged) when no agent answers them.
    func open(on number: PhoneNumberRecord, from caller: String?, providerCallID: String?, logger: Logger) async throws -> InboundCall? {
        guard let caller = caller.flatMap({ try? PhoneNumber(parsing: $0) }),
              let call = try await store.openInboundCall(number: number, caller: caller.e164, providerCallID: providerCallID, now: clock.now()) else {
            logger.notice("inbound call rejected: no campaign called the caller and the number has no inbound agent",
                          metadata: ["phone_number": "\(number.phoneNumber)"])
            return nil
        }
        logger.info("call-back answered", metadata: [
            "call_id": "\(call.callID)", "attempt_id": "\(call.attemptID)", "campaign_id": "\(call.campaignID ?? "")", "agent_id": "\(call.agentID)",
        ])
        return call
    }

    /// Our SIP trunk numbers, for the SIP user agent that answers INVITEs.
    func sip(logger: Logger) -> SIPInbound {
        SIPInbound(trunk: { to in
            await sipNumber(to)?.settings
        }, open: { to, from, sipCallID in
            do {
                guard let number = await sipNumber(to),
                      let call = try await open(on: number, from: from, providerCallID: sipCallID, logger: logger) else { return nil }
                return DialRequest(attemptID: call.attemptID, callID: call.callID, attemptNumber: 1, from: number.phoneNumber, to: from,
                                   dialAt: clock.now(), settings: number.settings, ringTimeout: 0, maxDuration: Self.maxDuration, fields: [:])
            } catch {
                logger.error("inbound call not opened", metadata: ["error": "\(error)"])
                return nil
            }
        })
    }

    private func sipNumber(_ user: String) async -> PhoneNumberRecord? {
        guard let e164 = try? PhoneNumber(parsing: user).e164, let number = try? await store.phoneNumber(e164: e164),
              number.provider == .sipTrunk else { return nil }
        return number
    }
}
