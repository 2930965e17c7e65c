import Dialer
import Foundation
import Logging
import Messaging
import Store
import SwitchboardCore
import Voice
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
    /// The nice value of the SQLite writer's and checkpointer's threads
    /// (`SWITCHBOARD_SQLITE_WRITER_NICE`, 0–19): above 0, API reads go first when the cores are
    /// contended (see `SQLiteProvider`).
    public var sqliteWriterNiceness = SQLiteProvider.defaultWriterNiceness
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
    /// base of every callback URL, and what their signatures are computed over. Unless set
    /// (`SWITCHBOARD_PUBLIC_URL`), derived from the host and port in force.
    public var publicURL: String {
        get { publicURLSetting ?? "http://\(host):\(port)" }
        set { publicURLSetting = newValue.hasSuffix("/") ? String(newValue.dropLast()) : newValue }
    }
    private var publicURLSetting: String?
    /// Whether a Twilio/Vobiz number's `api_base_url` is honoured and may be set (by admin keys):
    /// off, a number's credentials only ever go to the carrier's own endpoint.
    public var allowCarrierBaseURL = false
    /// Whether webhook endpoints may be loopback, private, link-local or unspecified addresses
    /// (on-premise receivers, tests); off, they are refused, checked at connect time.
    public var allowPrivateWebhooks = false
    /// `SWITCHBOARD_METRICS_TOKEN`: `/metrics` answers a scrape that presents it as a bearer
    /// token; without it `/metrics` is off.
    public var metricsToken: String?
    /// How often a dial through Twilio asks for its call's status when callbacks are silent.
    public var carrierPollSeconds: Double = 60
    /// The UDP port the SIP user agent sends from and listens on; 0 takes a free one.
    public var sipPort = 0
    public var clock: any WallClock = SystemClock()
    public var dialer = DialerConfiguration()
    public var webhooks = WebhookSenderConfiguration()
    public var messaging = SMSEngineConfiguration()
    /// Where the workers report their passes: tests drive them one pass at a time through it.
    public var passes = WorkerPasses()
    /// The agents' language model: any OpenAI-compatible chat-completions endpoint
    /// (`https://api.openai.com/v1`, vLLM, Ollama's `http://localhost:11434/v1`, llama.cpp).
    /// Without one, agents send their scripted messages only.
    public var llm: LLMConfiguration?
    /// Speech services for our voice pipeline (SIP trunks, Twilio Media Streams, Vobiz
    /// streams): any OpenAI-compatible `/audio/transcriptions` and `/audio/speech`. Unless set
    /// (`SWITCHBOARD_SPEECH_BASE_URL`), the language model's endpoint and key.
    public var speech: OpenAISpeech.Configuration?
    /// Speak with espeak-ng, when installed, where no speech service is configured.
    public var localSpeech = true
    /// Endpointing and barge-in of the voice pipeline.
    public var voice = VoicePipelineSettings()
    /// Where call recordings are written (`SWITCHBOARD_RECORDINGS_DIR`).
    public var recordingsDirectory = "recordings"
    /// The UDP ports SIP calls take their RTP on, one per call (`SWITCHBOARD_RTP_PORTS`).
    public var rtpPorts = 10_000...20_000
    /// Seconds `serve` waits for a database that is down at start before giving up.
    public var databaseStartupWait: Double = 60
    public var logLevel = Logger.Level.info

    public init() {}

    /// Reads `SWITCHBOARD_*` variables over the defaults; a value that cannot be used stops
    /// with an error that names the variable (a typo must not quietly become a default).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AppConfiguration {
        let env = EnvironmentReader(environment)
        var config = AppConfiguration()
        if let value = env["SWITCHBOARD_HOST"] { config.host = value }
        if let value = try env.int("SWITCHBOARD_PORT", in: 0...65_535) { config.port = value }
        if let value = env["SWITCHBOARD_DATABASE_URL"] ?? env["SWITCHBOARD_DATABASE"] { config.databaseURL = value }
        if let value = try env.choice("SWITCHBOARD_ROLE", Role.self) { config.role = value }
        if let value = try env.double("SWITCHBOARD_SIMULATOR_TIME_SCALE", in: 0...1_000) { config.simulatorTimeScale = value }
        if let value = env["SWITCHBOARD_SIMULATOR_DIAL_LOG"] { config.simulatorDialLog = value }
        if let value = try env.double("SWITCHBOARD_DIALER_LEASE", in: 1...86_400) {
            config.dialer.limits.lease = value
            config.dialer.heartbeatInterval = min(config.dialer.heartbeatInterval, value / 3)
        }
        if let value = env["SWITCHBOARD_PUBLIC_URL"] {
            guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ConfigurationError(variable: "SWITCHBOARD_PUBLIC_URL", "must be an http(s) URL such as https://switchboard.example.com")
            }
            config.publicURL = value
        }
        if let value = try env.int("SWITCHBOARD_SIP_PORT", in: 0...65_535) { config.sipPort = value }
        if let value = env["SWITCHBOARD_POWERED_BY"] { config.poweredBy = value }
        if let value = try env.choice("SWITCHBOARD_LOG_LEVEL", Logger.Level.self) { config.logLevel = value }
        if let value = try env.int("SWITCHBOARD_SQLITE_WRITER_NICE", in: 0...19) { config.sqliteWriterNiceness = Int32(value) }
        if let value = try env.bool("SWITCHBOARD_ALLOW_CARRIER_BASE_URL") { config.allowCarrierBaseURL = value }
        if let value = try env.bool("SWITCHBOARD_ALLOW_PRIVATE_WEBHOOKS") { config.allowPrivateWebhooks = value }
        if let value = env["SWITCHBOARD_METRICS_TOKEN"], !value.isEmpty { config.metricsToken = value }
        if let value = try env.double("SWITCHBOARD_SHUTDOWN_DEADLINE", in: 0...3_600) {
            config.dialer.shutdownDeadline = value
            config.messaging.shutdownDeadline = value
            config.webhooks.shutdownDeadline = value
        }
        if let base = env["SWITCHBOARD_LLM_BASE_URL"] {
            config.llm = LLMConfiguration(baseURL: base, apiKey: env["SWITCHBOARD_LLM_API_KEY"],
                                          model: env["SWITCHBOARD_LLM_MODEL"] ?? LLMConfiguration.defaultModel)
        }
        if let base = env["SWITCHBOARD_SPEECH_BASE_URL"] ?? config.llm?.baseURL {
            var speech = OpenAISpeech.Configuration(baseURL: base, apiKey: env["SWITCHBOARD_SPEECH_API_KEY"] ?? config.llm?.apiKey)
            if let value = env["SWITCHBOARD_STT_MODEL"] { speech.sttModel = value }
            if let value = env["SWITCHBOARD_TTS_MODEL"] { speech.ttsModel = value }
            if let value = env["SWITCHBOARD_TTS_VOICE"] { speech.voice = value }
            config.speech = speech
        }
        if let value = try env.bool("SWITCHBOARD_LOCAL_SPEECH") { config.localSpeech = value }
        if let value = try env.int("SWITCHBOARD_ENDPOINT_SILENCE_MS", in: 100...5_000) { config.voice.endSilenceMilliseconds = value }
        if let value = try env.bool("SWITCHBOARD_BARGE_IN") { config.voice.bargeIn = value }
        if let value = env["SWITCHBOARD_RECORDINGS_DIR"] { config.recordingsDirectory = value }
        if let text = env["SWITCHBOARD_RTP_PORTS"] {
            let bounds = text.split(separator: "-").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard bounds.count == 2, 1_024 <= bounds[0], bounds[0] < bounds[1], bounds[1] <= 65_535 else {
                throw ConfigurationError(variable: "SWITCHBOARD_RTP_PORTS", "must be a range such as 10000-20000, within 1024-65535 (got \"\(text)\")")
            }
            config.rtpPorts = bounds[0]...bounds[1]
        }
        return config
    }
}

/// A setting that cannot be used, named.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var variable: String
    public var message: String
    public init(variable: String, _ message: String) {
        self.variable = variable
        self.message = message
    }
    public var description: String { "\(variable) \(message)" }
}

/// Environment variables, an empty one being unset.
struct EnvironmentReader {
    let environment: [String: String]
    init(_ environment: [String: String]) { self.environment = environment }

    subscript(name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = self[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(variable: name, "must be an integer from \(range.lowerBound) to \(range.upperBound) (got \"\(text)\")")
        }
        return value
    }

    func double(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = self[name] else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw ConfigurationError(variable: name, "must be a number from \(range.lowerBound) to \(range.upperBound) (got \"\(text)\")")
        }
        return value
    }

    func bool(_ name: String) throws -> Bool? {
        guard let text = self[name] else { return nil }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(variable: name, "must be 1 or 0 (got \"\(text)\")")
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = self[name] else { return nil }
        guard let value = T(rawValue: text) else {
            throw ConfigurationError(variable: name, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(text)\")")
        }
        return value
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
