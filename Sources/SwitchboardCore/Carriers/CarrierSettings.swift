import Foundation

/// A number's carrier settings that are missing or malformed, said in the API's words.
public struct CarrierSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String
    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { message }
}

/// Reads a number's stored settings; one reader for the API (which refuses a number it could
/// never dial from) and for the carriers (which read them at every dial).
struct SettingsReader {
    let settings: [String: JSONValue]
    let provider: String

    func required(_ key: String) throws(CarrierSettingsError) -> String {
        guard let value = optional(key) else { throw CarrierSettingsError(field: key, "\(key) is required for a \(provider) number") }
        return value
    }

    func optional(_ key: String) -> String? {
        guard let value = settings[key]?.text?.trimmingWhitespace(), !value.isEmpty else { return nil }
        return String(value)
    }

    func url(_ key: String, default fallback: String) throws(CarrierSettingsError) -> String {
        let value = optional(key) ?? fallback
        guard let url = URL(string: value), let scheme = url.scheme, scheme == "https" || scheme == "http", url.host != nil else {
            throw CarrierSettingsError(field: key, "\(key) must be an http(s) URL")
        }
        return value.hasSuffix("/") ? String(value.dropLast()) : value
    }
}

/// A Twilio account a number dials through: REST calls with Basic auth, callbacks signed with
/// the auth token.
public struct TwilioAccount: Sendable, Equatable {
    public static let defaultBaseURL = "https://api.twilio.com"
    public var accountSID: String
    public var authToken: String
    /// Without a trailing slash. A number's `api_base_url` (a regional edge, a test's fake)
    /// replaces Twilio's only where the operator allows it (`allowBaseURL`): otherwise the
    /// account's credentials could be sent anywhere a tenant names.
    public var apiBaseURL: String
    /// How an answered call reaches its agent (`voice_transport`).
    public var voiceTransport: VoiceTransport

    public enum VoiceTransport: String, Sendable, Equatable {
        /// Twilio's ConversationRelay: Twilio transcribes and speaks; the default.
        case conversationRelay = "conversation_relay"
        /// A bidirectional Media Stream to our voice pipeline: our speech services, our recording.
        case mediaStreams = "media_streams"
    }

    public init(settings: [String: JSONValue], allowBaseURL: Bool = false) throws(CarrierSettingsError) {
        let reader = SettingsReader(settings: settings, provider: "twilio")
        accountSID = try reader.required("account_sid")
        authToken = try reader.required("auth_token")
        apiBaseURL = allowBaseURL ? try reader.url("api_base_url", default: Self.defaultBaseURL) : Self.defaultBaseURL
        let transport = reader.optional("voice_transport") ?? VoiceTransport.conversationRelay.rawValue
        guard let voiceTransport = VoiceTransport(rawValue: transport) else {
            throw CarrierSettingsError(field: "voice_transport", "voice_transport must be conversation_relay or media_streams")
        }
        self.voiceTransport = voiceTransport
    }
}

/// A Vobiz (Plivo-compatible) account: `X-Auth-ID`/`X-Auth-Token` headers, callbacks signed
/// with the auth token.
public struct VobizAccount: Sendable, Equatable {
    public static let defaultBaseURL = "https://api.vobiz.ai/api"
    public var authID: String
    public var authToken: String
    /// As for Twilio: a number's `api_base_url` only where the operator allows it.
    public var apiBaseURL: String

    public init(settings: [String: JSONValue], allowBaseURL: Bool = false) throws(CarrierSettingsError) {
        let reader = SettingsReader(settings: settings, provider: "vobiz")
        authID = try reader.required("auth_id")
        authToken = try reader.required("auth_token")
        apiBaseURL = allowBaseURL ? try reader.url("api_base_url", default: Self.defaultBaseURL) : Self.defaultBaseURL
    }
}

/// A SIP trunk a number dials through: where INVITEs go and how to answer a digest challenge.
public struct SIPTrunkSettings: Sendable, Equatable, Hashable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    /// The host part of our From URI; the trunk's host when absent.
    public var fromDomain: String

    public init(settings: [String: JSONValue]) throws(CarrierSettingsError) {
        let reader = SettingsReader(settings: settings, provider: "sip_trunk")
        host = try reader.required("host")
        guard !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "@" }) else {
            throw CarrierSettingsError(field: "host", "host must be a host name or an IP address")
        }
        let portText = reader.optional("port") ?? "5060"
        guard let port = Int(portText), (1...65_535).contains(port) else {
            throw CarrierSettingsError(field: "port", "port must be between 1 and 65535")
        }
        self.port = port
        let transport = reader.optional("transport")?.lowercased() ?? "udp"
        guard transport == "udp" else { throw CarrierSettingsError(field: "transport", "transport must be udp (the only one supported)") }
        username = reader.optional("username")
        password = reader.optional("password")
        if (username == nil) != (password == nil) {
            throw CarrierSettingsError(field: username == nil ? "username" : "password", "username and password go together")
        }
        fromDomain = reader.optional("from_domain") ?? host
    }
}

extension CarrierSettingsError {
    /// Checks that a number's settings are complete for its provider, so a number is refused
    /// when registered rather than failing every call later.
    public static func check(provider: ProviderName, settings: [String: JSONValue]) throws(CarrierSettingsError) {
        switch provider {
        case .twilio: _ = try TwilioAccount(settings: settings, allowBaseURL: true)
        case .vobiz: _ = try VobizAccount(settings: settings, allowBaseURL: true)
        case .sipTrunk: _ = try SIPTrunkSettings(settings: settings)
        case .simulator: break
        }
    }
}
