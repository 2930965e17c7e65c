import Foundation

/// One text to send: from one of our numbers to a contact, with the number's carrier settings.
public struct OutboundSMS: Sendable, Equatable {
    /// Our message row: the carrier reports delivery against it.
    public var messageID: Int64
    public var from: String
    public var to: String
    public var body: String
    public var mediaURL: String?
    public var settings: [String: JSONValue]

    public init(messageID: Int64, from: String, to: String, body: String, mediaURL: String? = nil, settings: [String: JSONValue] = [:]) {
        self.messageID = messageID
        self.from = from
        self.to = to
        self.body = body
        self.mediaURL = mediaURL
        self.settings = settings
    }
}

/// A message's delivery state, in one vocabulary for every carrier.
public enum SMSStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting in our outbox for its number's next slot.
    case queued
    /// Handed to the carrier; no answer recorded yet (after a crash: in doubt, never resent).
    case sending
    case sent
    case delivered
    case undelivered
    case failed
    /// A contact's message to us.
    case received
    /// `dry_run` campaigns write their messages without sending them.
    case dryRun = "dry_run"
    /// Not sent: the contact opted out, or the campaign ended, before its slot came.
    case canceled

    /// A later report never moves a message back (a late `sent` after `delivered`).
    public var rank: Int {
        switch self {
        case .queued: 0
        case .sending: 1
        case .sent: 2
        case .delivered, .undelivered, .failed, .received, .dryRun, .canceled: 3
        }
    }
}

/// What the carrier answered to a send.
public struct SMSSendResult: Sendable, Equatable {
    public var status: SMSStatus
    public var providerMessageID: String?
    public var error: String?
    /// The carrier refused because the contact opted out with it (Twilio 21610): we suppress
    /// the number too, so nothing else is tried.
    public var recipientOptedOut: Bool

    public init(status: SMSStatus, providerMessageID: String? = nil, error: String? = nil, recipientOptedOut: Bool = false) {
        self.status = status
        self.providerMessageID = providerMessageID
        self.error = error
        self.recipientOptedOut = recipientOptedOut
    }
}

/// A carrier that sends texts. Inbound texts and delivery reports reach the server's routes.
public protocol MessagingProvider: Sendable {
    var name: ProviderName { get }
    func send(_ message: OutboundSMS) async -> SMSSendResult
}
