import Foundation
import Logging
import Store
import SwitchboardCore
import TelephonyTwilio
import TelephonyVobiz

/// Hands a carrier's call to a person when its agent calls `transfer_call`: Twilio by replacing
/// the call's TwiML with a `<Dial>`, Vobiz through its transfer API (the call fetches a
/// `<Dial>` from our transfer callback). The destination is marked on the attempt first, so the
/// carrier's request for the new XML finds it and the call's reported end is `transferred`; a
/// transfer the carrier refuses is unmarked.
struct CallTransfers: Sendable {
    let store: Store
    let twilio: TwilioProvider
    let vobiz: VobizProvider

    /// How the call of `attemptID` (the carrier's `callID`) is transferred; nil where it cannot be.
    func transfer(attemptID: Int64, callID: String?, logger: Logger) async throws -> (@Sendable (TransferRequest) async -> String?)? {
        guard let callID, let carrier = try await store.attemptCarrier(attemptID) else { return nil }
        let hand: @Sendable (TransferRequest) async -> String?
        switch carrier.provider {
        case .twilio:
            hand = { [twilio] transfer in await twilio.transfer(callSID: callID, transfer, attemptID: attemptID, settings: carrier.settings, logger: logger) }
        case .vobiz:
            hand = { [vobiz] _ in await vobiz.transfer(callUUID: callID, attemptID: attemptID, settings: carrier.settings, logger: logger) }
        default:
            return nil
        }
        return { [store] transfer in
            do { try await store.markTransferred(attemptID: attemptID, to: transfer) } catch { return "the transfer could not be recorded: \(error)" }
            let failure = await hand(transfer)
            if failure != nil { try? await store.markTransferred(attemptID: attemptID, to: nil) }
            return failure
        }
    }
}
