import Dialer
import Foundation
import Logging
import Messaging
import Store
import SwitchboardCore
import Webhooks

/// Everything that differs between production and a test. Tests pass another configuration
/// (port 0, a temporary database, a manual clock), never other wiring.
public struct AppConfiguration: Sendable {
    public enum Role: String, Sendable, CaseIterable {
        /// API and dialer in one process: the embedded default.
        case all
        /// Serves the API only; dialers run elsewhere.
        case api
        /// Dials only; answers `/health`.
        case dialer
    }

    public var host = "127.0.0.1"
    public var port = 8080
    public var databaseURL = DatabaseURL.default
    public var role = Role.all
    /// 1 = realistic ring and talk times, 0 = instant.
    public var simulatorTimeScale = 1.0
    /// A file the simulator appends every dial to, shared by all processes on this machine so
    /// any dialer can reconcile another's crashed calls. Nil: in memory, this process only.
    public var simulatorDialLog: String?
    /// What Teli-style responses say in `powered_by`.
    public var poweredBy = "Teli"
    /// JSON request bodies above this are refused with 413.
    public var maxBodyBytes = 16 * 1024 * 1024
    /// Streamed lead uploads may be this large.
    public var maxUploadBytes = 2 * 1024 * 1024 * 1024
    /// Where callbacks from carriers (Twilio, Vobiz) reach this server from the internet: the
    /// base of every callback URL, and what their signatures are computed over.
    public var publicURL = "http://127.0.0.1:8080"
    /// How often a dial through Twilio asks for its call's status when callbacks are silent.
    public var carrierPollSeconds: Double = 60
    /// The UDP port the SIP user agent sends from and listens on; 0 takes a free one.
    public var sipPort = 0
    public var clock: any WallClock = SystemClock()
    public var dialer = DialerConfiguration()
    public var webhooks = WebhookSenderConfiguration()
    public var messaging = SMSEngineConfiguration()
    /// The agents' language model: any OpenAI-compatible chat-completions endpoint
    /// (`https://api.openai.com/v1`, vLLM, Ollama's `http://localhost:11434/v1`, llama.cpp).
    /// Without one, agents send their scripted messages only.
    public var llm: LLMConfiguration?
    /// Seconds `serve` waits for a database that is down at start before giving up.
    public var databaseStartupWait: Double = 60
    public var logLevel = Logger.Level.info

    public init() {}

    /// Reads `SWITCHBOARD_*` variables over the defaults.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> AppConfiguration {
        var config = AppConfiguration()
        if let value = environment["SWITCHBOARD_HOST"] { config.host = value }
        if let value = environment["SWITCHBOARD_PORT"].flatMap(Int.init) { config.port = value }
        if let value = environment["SWITCHBOARD_DATABASE_URL"] ?? environment["SWITCHBOARD_DATABASE"] { config.databaseURL = value }
        if let value = environment["SWITCHBOARD_ROLE"].flatMap(Role.init(rawValue:)) { config.role = value }
        if let value = environment["SWITCHBOARD_SIMULATOR_TIME_SCALE"].flatMap(Double.init) { config.simulatorTimeScale = value }
        if let value = environment["SWITCHBOARD_SIMULATOR_DIAL_LOG"], !value.isEmpty { config.simulatorDialLog = value }
        if let value = environment["SWITCHBOARD_DIALER_LEASE"].flatMap(Double.init), value > 0 {
            config.dialer.limits.lease = value
            config.dialer.heartbeatInterval = min(config.dialer.heartbeatInterval, value / 3)
        }
        if let value = environment["SWITCHBOARD_PUBLIC_URL"], !value.isEmpty {
            config.publicURL = value.hasSuffix("/") ? String(value.dropLast()) : value
        } else {
            config.publicURL = "http://\(config.host):\(config.port)"
        }
        if let value = environment["SWITCHBOARD_SIP_PORT"].flatMap(Int.init) { config.sipPort = value }
        if let value = environment["SWITCHBOARD_POWERED_BY"] { config.poweredBy = value }
        if let value = environment["SWITCHBOARD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) { config.logLevel = value }
        if let base = environment["SWITCHBOARD_LLM_BASE_URL"], !base.isEmpty {
            config.llm = LLMConfiguration(baseURL: base, apiKey: environment["SWITCHBOARD_LLM_API_KEY"],
                                          model: environment["SWITCHBOARD_LLM_MODEL"].flatMap { $0.isEmpty ? nil : $0 } ?? LLMConfiguration.defaultModel)
        }
        return config
    }
}

public struct LLMConfiguration: Sendable {
    public var baseURL: String
    public var apiKey: String?
    public var model: String
    public static let defaultModel = "gpt-4o-mini"

    public init(baseURL: String, apiKey: String? = nil, model: String = Self.defaultModel) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.model = model
    }
}
