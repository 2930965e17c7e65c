import Agents
import Dialer
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import Messaging
import ServiceLifecycle
import Store
import SwitchboardCore
import TelephonySIP
import TelephonyTwilio
import TelephonyVobiz
import TelephonySimulator
import Voice
import Webhooks

/// The composition root, used by `switchboard serve` and by every HTTP test: opens and
/// migrates the database, builds the engine and the routes for the configured role.
public func buildApplication(_ config: AppConfiguration) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "switchboard")
    logger.logLevel = config.logLevel
    let (database, store) = try await openStore(config, logger: logger)

    var services: [any Service] = [DatabaseService(database: database)]
    let model = config.llm.map { llm in
        OpenAIChatModel(baseURL: llm.baseURL, apiKey: llm.apiKey, model: llm.model, clock: config.clock, logger: logger)
    }
    if let model { services.append(model) }
    // One agent runtime for texts and calls alike.
    let agent = model.map(ConversationAgent.init)
    var voice = buildVoice(store: store, config: config, agent: agent, logger: logger, services: &services)
    // Answered calls are analysed after they end, where the workers run (any process may queue one).
    if config.role != .api, agent != nil {
        let analyst = CallAnalyst(queue: store, dialogue: { [dialogues = voice.dialogues] job in try await dialogues.dialogue(for: job) },
                                  clock: config.clock, passes: config.passes, logger: logger)
        services.append(analyst)
        voice.wakeAnalyst = { analyst.wake() }
    }

    let dialLog = try config.simulatorDialLog.map { try SimulatorDialLog(path: $0) } ?? SimulatorDialLog()
    let carriers = Carriers(config, voice: voice, logger: logger)
    let providers = ProviderRegistry([SimulatorProvider(timeScale: config.simulatorTimeScale, clock: config.clock, log: dialLog),
                                      carriers.sip, carriers.twilio, carriers.vobiz])
    // Services stop in reverse order: the carriers outlive the dialer's last calls.
    services += [carriers.sip, carriers.twilio, carriers.vobiz]
    var wake = Wakers()
    let metrics = AppMetrics()
    // The workers: the dialer, the SMS engine and the webhook sender run where dialing runs.
    if config.role != .api {
        let dialer = Dialer(store: store, providers: providers, clock: config.clock, configuration: config.dialer,
                            passes: config.passes, observer: metrics, logger: logger)
        var webhooks = config.webhooks
        webhooks.allowPrivateTargets = config.allowPrivateWebhooks
        let sender = WebhookSender(store: store, clock: config.clock, configuration: webhooks, passes: config.passes, observer: metrics, logger: logger)
        store.observers.onWebhookDeliveries { sender.wake() }
        let sms = SMSEngine(store: store, providers: [SimulatorMessaging(), carriers.twilio], agent: agent,
                            clock: config.clock,
                            configuration: config.messaging, passes: config.passes, wakeDialer: { dialer.wake() }, observer: metrics, logger: logger)
        // Carrier reports received by another process reach this one's dials through the database.
        let relay = CarrierEventRelay(store: store, pending: [.twilio: carriers.twilio.pending, .vobiz: carriers.vobiz.pending], logger: logger)
        services += [relay, dialer, sms, sender]
        wake = Wakers(dialer: { dialer.wake() }, messaging: { sms.wake() }, webhooks: { sender.wake() })
    }
    if config.llm == nil { logger.notice("no language model configured (SWITCHBOARD_LLM_BASE_URL): agents send scripted messages only") }

    let router = try buildRouter(store: store, config: config, carriers: carriers, wake: wake, metrics: metrics)
    let webSockets = buildWebSocketRouter(store: store, config: config, voice: voice, carriers: carriers)
    return Application(
        router: router,
        server: .http1WebSocketUpgrade(webSocketRouter: webSockets),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "switchboard"),
        services: services,
        logger: logger)
}

/// Opens and migrates the database, waiting up to `databaseStartupWait` for one that is down
/// or restarting: a process started alongside its database (or during a restart) comes up
/// when the database does. A wrong URL fails at once.
func openStore(_ config: AppConfiguration, logger: Logger) async throws -> (any DatabaseProvider, Store) {
    let giveUp = ContinuousClock.now + .seconds(config.databaseStartupWait)
    while true {
        var opened: (any DatabaseProvider)?
        do {
            let database = try await DatabaseURL.open(config.databaseURL, sqliteWriterNiceness: config.sqliteWriterNiceness, logger: logger)
            opened = database
            let store = Store(database: database, logger: logger)
            let applied = try await store.migrate()
            if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
            return (database, store)
        } catch let error as DatabaseUnavailable where ContinuousClock.now < giveUp {
            await opened?.close()
            logger.warning("waiting for the database", metadata: ["error": "\(error)"])
            try await Task.sleep(for: .seconds(1))
        }
    }
}

/// The routes of the configured role, in groups that carry their own middleware: `/health` and
/// the contract open to anyone; carrier callbacks, which carry the carrier's signature instead of
/// a key; the API behind keys and idempotency; and the batch-calling API, which also answers
/// errors in its own style (its key errors included); and the web console's pages (`console`:
/// outside openapi.yaml, which describes the API). The dialer role answers `/health` only.
func buildRouter(store: Store, config: AppConfiguration, carriers: Carriers, wake: Wakers = Wakers(),
                 metrics: AppMetrics = AppMetrics(), console: Bool = true) throws -> Router<SwitchboardContext> {
    let router = Router(context: SwitchboardContext.self)
    let errors = ErrorMiddleware(poweredBy: config.poweredBy)
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: errors)
    SystemController(store: store, metrics: metrics, metricsToken: config.metricsToken, clock: config.clock).register(on: router)
    // Every role: a carrier's callback may reach any process behind the public URL.
    CarrierCallbacksController(store: store, clock: config.clock, publicURL: config.publicURL, twilio: carriers.twilio, vobiz: carriers.vobiz,
                               wakeMessaging: wake.messaging, recordings: RecordingsDirectory(root: config.recordingsDirectory))
        .register(on: router.group())
    if config.role != .dialer {
        let api = APIEnvironment(store: store, clock: config.clock, poweredBy: config.poweredBy, maxBodyBytes: config.maxBodyBytes,
                                 maxUploadBytes: config.maxUploadBytes,
                                 allowCarrierBaseURL: config.allowCarrierBaseURL, allowPrivateWebhooks: config.allowPrivateWebhooks,
                                 wake: wake, agentMode: config.llm == nil ? .scripted : .ai(model: config.llm?.model ?? ""),
                                 recordings: RecordingsDirectory(root: config.recordingsDirectory))
        let auth = AuthMiddleware(store: store)
        let keyed = router.group()
            .add(middleware: auth)
            .add(middleware: IdempotencyMiddleware(store: store, clock: config.clock, errors: errors))
        AgentsController(api: api).register(on: keyed)
        PhoneNumbersController(api: api).register(on: keyed)
        VoiceCampaignsController(api: api).register(on: keyed)
        CallsController(api: api).register(on: keyed)
        SuppressionsController(api: api).register(on: keyed)
        WebhooksController(api: api).register(on: keyed)
        APIKeysController(api: api).register(on: keyed)
        OrganizationSettingsController(api: api).register(on: keyed)
        SMSCampaignsController(api: api).register(on: keyed)
        SMSController(api: api).register(on: keyed)
        let batchErrors = ErrorMiddleware(poweredBy: config.poweredBy, style: .batch)
        let batch = router.group()
            .add(middleware: batchErrors)
            .add(middleware: auth)
            .add(middleware: IdempotencyMiddleware(store: store, clock: config.clock, errors: batchErrors))
        BatchCallingController(api: api).register(on: batch)
        if console { try registerConsole(on: router, api: api, config: config) }
    }
    errors.allowed.learn(router.routes)
    return router
}

/// The web console at `/`: the sign-in page and assets open, every other page behind the
/// session cookie; pages that fail answer as pages.
func registerConsole(on router: Router<SwitchboardContext>, api: APIEnvironment, config: AppConfiguration) throws {
    let pages = try ConsolePages.load()
    let console = ConsoleController(api: api, pages: pages, assets: try ConsoleAssets.load(), uploads: ConsoleUploads(),
                                    secure: config.publicURL.lowercased().hasPrefix("https:"))
    let errors = ConsoleErrorMiddleware(pages: pages)
    console.registerOpen(on: router.group().add(middleware: errors))
    // Errors inside the session show the signed-in page's header too; the outer catches the
    // session's own refusals (not signed in, no CSRF token).
    console.register(on: router.group().add(middleware: errors).add(middleware: ConsoleSessionMiddleware(store: api.store, clock: api.clock))
        .add(middleware: errors))
}

/// The WebSocket routes, in every role (Twilio connects to whichever process the public URL
/// reaches): ConversationRelay for voice agents.
func buildWebSocketRouter(store: Store, config: AppConfiguration, voice: VoiceConversations, carriers: Carriers) -> Router<BasicWebSocketRequestContext> {
    let router = Router(context: BasicWebSocketRequestContext.self)
    ConversationRelayController(store: store, clock: config.clock, publicURL: config.publicURL, dialogues: voice.dialogues,
                                wakeAnalyst: voice.wakeAnalyst).register(on: router)
    let transfers = CallTransfers(store: store, twilio: carriers.twilio, vobiz: carriers.vobiz)
    MediaStreamsController(store: store, publicURL: config.publicURL, voice: voice, transfers: transfers).register(on: router)
    return router
}

/// Our voice pipeline: the speech services configured (or espeak-ng), and where recordings go.
func buildVoice(store: Store, config: AppConfiguration, agent: ConversationAgent?, logger: Logger,
                services: inout [any Service]) -> VoiceConversations {
    let service = config.speech.map { OpenAISpeech($0, logger: logger) }
    if let service { services.append(service) }
    let local = config.localSpeech ? EspeakSpeech.installed() : nil
    if service == nil {
        // Said once, at start: each call would otherwise say it again.
        logger.notice("no speech-to-text configured (SWITCHBOARD_SPEECH_BASE_URL): calls on our voice pipeline end after the greeting",
                      metadata: ["local_tts": "\(local == nil ? "none (install espeak-ng)" : "espeak-ng")"])
    }
    return VoiceConversations(store: store, dialogues: CallDialogues(store: store, agent: agent),
                              speech: SpeechServices(stt: service, tts: service ?? local), settings: config.voice,
                              recordings: RecordingsDirectory(root: config.recordingsDirectory), clock: config.clock, logger: logger)
}

/// The real carriers of this process: the dialer dials through them, the callback routes
/// report to them.
struct Carriers {
    let sip: SIPProvider
    let twilio: TwilioProvider
    let vobiz: VobizProvider

    init(_ config: AppConfiguration, voice: VoiceConversations, logger: Logger) {
        sip = SIPProvider(bindPort: config.sipPort, rtpPorts: RTPPorts(config.rtpPorts), clock: config.clock, logger: logger,
                          inbound: InboundCalls(store: voice.store, clock: config.clock).sip(logger: logger),
                          whisper: { summary, person in await voice.say(summary, on: person) }) { request, transport in
            await voice.converse(attemptID: request.attemptID, maxDuration: request.maxDuration, transport: transport)
        }
        twilio = TwilioProvider(publicURL: config.publicURL, clock: config.clock, logger: logger, pollEvery: .seconds(config.carrierPollSeconds),
                                allowBaseURL: config.allowCarrierBaseURL)
        vobiz = VobizProvider(publicURL: config.publicURL, clock: config.clock, logger: logger, allowBaseURL: config.allowCarrierBaseURL)
    }
}

/// What every controller shares.
struct APIEnvironment: Sendable {
    let store: Store
    let clock: any WallClock
    let poweredBy: String
    let maxBodyBytes: Int
    let maxUploadBytes: Int
    /// Operator settings (`SWITCHBOARD_ALLOW_CARRIER_BASE_URL`, `…_PRIVATE_WEBHOOKS`).
    let allowCarrierBaseURL: Bool
    let allowPrivateWebhooks: Bool
    let wake: Wakers
    /// Whether agents answer with a language model, for the SMS campaigns' status.
    let agentMode: AgentMode
    /// Where the voice pipeline's recordings are.
    let recordings: RecordingsDirectory

    var wakeDialer: @Sendable () -> Void { wake.dialer }
}

/// Nudges for the workers when the API writes them work (no-ops in an API-only process:
/// the workers elsewhere find it at their next poll).
struct Wakers: Sendable {
    var dialer: @Sendable () -> Void = {}
    var messaging: @Sendable () -> Void = {}
    var webhooks: @Sendable () -> Void = {}
}

enum AgentMode: Sendable, Equatable {
    case scripted
    case ai(model: String)
}

/// Closes the database after everything else has stopped (services stop in reverse order).
struct DatabaseService: Service {
    let database: any DatabaseProvider
    func run() async throws {
        try? await gracefulShutdown()
        await database.close()
    }
}
