import Foundation
import SwitchboardCore

/// Texts in a box: every send is delivered at once. A contact's reply is played through
/// `POST /v1/simulator/inbound-sms`.
public struct SimulatorMessaging: MessagingProvider {
    public let name = ProviderName.simulator
    public init() {}

    public func send(_ message: OutboundSMS) async -> SMSSendResult {
        SMSSendResult(status: .delivered, providerMessageID: "SMSIM\(message.messageID)")
    }
}
