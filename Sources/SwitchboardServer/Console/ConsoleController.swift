import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Store
import SwitchboardCore

/// The web console at `/`: server-rendered pages over the same store and rules as the API. A
/// page acts as the API key it was signed in with (an admin sees the organization, a member
/// their own work); an action is the API route it names, called with the page's session. The
/// campaign pages follow progress over server-sent events.
struct ConsoleController {
    let api: APIEnvironment
    let pages: ConsolePages
    let assets: ConsoleAssets
    let uploads: ConsoleUploads
    /// Whether the server is reached over HTTPS (its public URL): the cookies are then Secure.
    let secure: Bool
    static let sessionLifetime: TimeInterval = 12 * 3_600

    /// The sign-in form and the assets, open to anyone.
    func registerOpen(on router: some RouterMethods<SwitchboardContext>) {
        router.get("sign-in", use: signInForm)
        router.post("sign-in", use: signIn)
        router.get("assets/:name") { _, context in try assets.response(try context.parameter("name")) }
    }

    /// Everything else, behind `ConsoleSessionMiddleware`.
    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.post("sign-out", use: signOut)
        router.get("", use: campaigns)
        router.get("campaigns/events", use: listEvents)
        let drafts = ConsoleNewCampaign(api: api, pages: pages, uploads: uploads)
        router.get("campaigns/new", use: drafts.uploadForm)
        router.post("campaigns/new", use: drafts.upload)
        router.get("campaigns/new/:draft_id", use: drafts.mappingForm)
        router.post("campaigns/new/:draft_id", use: drafts.submit)
        router.get("campaigns/:campaign_id", use: campaign)
        router.get("campaigns/:campaign_id/events", use: campaignEvents)
        router.post("campaigns/:campaign_id/:action", use: campaignAction)
        router.get("campaigns/:campaign_id/failed-numbers", use: VoiceCampaignsController(api: api).failedNumbers)
        router.post("sms-campaigns/:campaign_id/:action", use: smsCampaignAction)
        router.get("sms-messages/export", use: SMSController(api: api).messages)
        // Any campaign's leads as the batch API's recipients.
        router.get("recipients/:batch_id", use: BatchCallingController(api: api).get)
        let calls = CallsController(api: api)
        router.get("calls/export", use: calls.list)
        router.get("calls/:call_id", use: call)
        router.get("calls/:call_id/recording", use: calls.recording)
        ConsoleAdminPages(api: api, pages: pages, uploads: uploads).register(on: router)
    }

    // MARK: Sign-in

    @Sendable func signInForm(_ request: Request, context: SwitchboardContext) async throws -> Response {
        signInPage(context)
    }

    /// The sign-in form with a fresh token, in the form and in its cookie.
    private func signInPage(_ context: SwitchboardContext, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let token = Identifier.make("", bytes: 24)
        var response = pages.render("sign-in", title: "Sign in", context: SwitchboardContext.signedOut(context), page: ["csrf": token],
                                    error: error, status: status)
        response.setCookie(ConsoleCookies.signIn(token, secure: secure))
        return response
    }

    @Sendable func signIn(_ request: Request, context: SwitchboardContext) async throws -> Response {
        var request = request
        let form = FormFields(encoded: String(buffer: try await request.collectBody(upTo: ConsoleSessionMiddleware.maxFormBytes)))
        guard let expected = request.cookies[ConsoleCookies.signIn]?.value, !expected.isEmpty,
              constantTimeEquals(form["csrf"] ?? "", expected) else {
            throw APIError.forbidden("the sign-in form's CSRF token is missing or wrong: reload the page and try again")
        }
        guard let key = form.text("api_key"),
              let opened = try await api.store.openConsoleSession(apiKey: key, now: api.clock.now(), lifetime: Self.sessionLifetime) else {
            context.logger.notice("console sign-in refused")
            return signInPage(context, error: "That API key is not valid.", status: .unauthorized)
        }
        context.logger.info("console signed in", metadata: ["organization_id": "\(opened.session.principal.organizationID)",
                                                              "key_id": "\(opened.session.principal.keyID)"])
        var response = Response.redirect(to: "/", type: .normal)
        response.setCookie(ConsoleCookies.session(opened.token, secure: secure, lifetime: Self.sessionLifetime))
        response.setCookie(ConsoleCookies.cleared(ConsoleCookies.signIn, path: "/sign-in", secure: secure))
        return response
    }

    @Sendable func signOut(_ request: Request, context: SwitchboardContext) async throws -> Response {
        if let token = request.cookies[ConsoleSessionMiddleware.cookie]?.value { try await api.store.closeConsoleSession(token: token) }
        var response = Response.redirect(to: "/sign-in", type: .normal)
        response.setCookie(ConsoleCookies.cleared(ConsoleSessionMiddleware.cookie, secure: secure))
        return response
    }

    // MARK: Campaigns

    struct CampaignRow {
        var id: String
        var name: String
        var status: String
        var total: Int
        var settled: Int
        var percent: Int
        var completed: Int
        var failed: Int
        var inProgress: Int
        var live: Bool

        init(_ campaign: CampaignRecord, _ progress: CampaignProgress) {
            id = campaign.id
            name = campaign.settings.name ?? campaign.id
            status = campaign.status.rawValue
            total = progress.total
            settled = progress.completed + progress.failed + progress.notCalled + progress.suppressed
            percent = total == 0 ? 0 : settled * 100 / total
            completed = progress.completed
            failed = progress.failed
            inProgress = progress.inProgress
            live = campaign.status.isLive
        }
    }

    struct SMSRow {
        var id: String
        var name: String
        var status: String
        var contacts: Int
        var sent: Int
        var replies: Int
        var canPause: Bool
        var canResume: Bool
        var canEnd: Bool
    }

    @Sendable func campaigns(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        let store = api.store
        // Batches (the batch-calling API's) are voice campaigns too.
        let voice = try await store.campaigns(organizationID: principal.organizationID, userID: principal.readScope, kind: .voice, limit: 50)
        let progress = try await store.progress(campaignIDs: voice.map(\.key))
        var texts: [SMSRow] = []
        for campaign in try await store.smsCampaigns(organizationID: principal.organizationID, userID: principal.readScope, limit: 50, offset: 0) {
            let counts = try await store.smsCampaignCounts(id: campaign.key)
            let sent = counts.filter { $0.key.hasPrefix("messages_outbound_") && !$0.key.hasSuffix("_queued") }.values.reduce(0, +)
            let replies = counts.filter { $0.key.hasPrefix("messages_inbound_") }.values.reduce(0, +)
            texts.append(SMSRow(id: campaign.id, name: campaign.name, status: campaign.status.rawValue, contacts: campaign.contactsCount,
                                sent: sent, replies: replies, canPause: campaign.status == .active, canResume: campaign.status == .paused,
                                canEnd: campaign.status != .ended))
        }
        let rows = voice.map { CampaignRow($0, progress[$0.key] ?? CampaignProgress()) }
        let live = rows.filter { $0.live }.map { $0.id }.joined(separator: ",")
        struct Page { var voice: [CampaignRow]; var texts: [SMSRow]; var live: String }
        return pages.render("campaigns", title: "Campaigns", context: context, page: Page(voice: rows, texts: texts, live: live))
    }

    /// `GET /campaigns/events?ids=a,b`: each live campaign's progress, every second, until none is live.
    @Sendable func listEvents(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        let ids = (request.uri.queryParameters.get("ids") ?? "").split(separator: ",").prefix(100).map(String.init)
        let store = api.store
        return Self.eventStream {
            var events: [String] = []
            var anyLive = false
            for id in ids {
                guard let campaign = try await store.campaign(id: id, organizationID: principal.organizationID),
                      principal.mayAccess(userID: campaign.userID) else { continue }
                let row = CampaignRow(campaign, try await store.progress(campaignID: campaign.key))
                anyLive = anyLive || row.live
                events.append(Self.json(["id": .string(row.id), "status": .string(row.status), "percent": JSONValue(row.percent),
                                         "settled": JSONValue(row.settled), "total": JSONValue(row.total),
                                         "completed": JSONValue(row.completed), "failed": JSONValue(row.failed)]))
            }
            return (events, !anyLive)
        }
    }

    struct CallRow {
        var id: String
        var to: String
        var status: String
        var outcome: String
        var attempts: Int
        var duration: String
        var updated: String
    }

    @Sendable func campaign(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let campaign = try await load(context)
        let progress = try await api.store.progress(campaignID: campaign.key)
        let now = api.clock.now()
        let state = VoiceCampaignsController.dialingState(campaign, progress, now: now)
        let query = request.query
        let status = try query.choice("call_status", CallStatus.allCases.map(\.rawValue))
        let pageSize = 25
        let offset = try query.int("offset", in: 0...Int(Int32.max)) ?? 0
        let calls = try await api.store.calls(organizationID: campaign.organizationID, filter: CallFilter(
            userID: try context.caller().readScope, campaignID: campaign.id, status: status.flatMap(CallStatus.init(rawValue:)),
            limit: pageSize + 1, offset: offset))
        let failed = try await api.store.failedNumbers(campaignID: campaign.key, includeVoicemail: true, includeNotCalled: true, afterLeadID: 0, limit: 10)
        struct Filter { var value: String; var selected: Bool }
        struct Failed { var phone: String; var reason: String; var callID: String? }
        struct Page {
            var id: String; var name: String; var status: String; var statusReason: String?
            var agentID: String; var from: String; var window: String
            var total: Int; var settled: Int; var percent: Int; var completed: Int; var failed: Int; var inProgress: Int
            var pending: Int; var retryScheduled: Int; var notCalled: Int; var suppressed: Int
            var chart: String; var waitingReason: String?; var nextDial: String?
            var canPause: Bool; var canResume: Bool; var canCancel: Bool; var live: Bool
            var calls: [CallRow]; var filters: [Filter]; var callStatus: String
            var previous: String?; var next: String?; var failedNumbers: [Failed]
        }
        let rows = calls.prefix(pageSize).map { call in
            CallRow(id: call.id, to: call.toNumber, status: call.status.rawValue, outcome: call.outcome?.rawValue ?? "",
                    attempts: call.attempts, duration: String(format: "%.0f s", call.duration), updated: Self.shown(call.updatedAt))
        }
        let row = CampaignRow(campaign, progress)
        let page = Page(
            id: campaign.id, name: row.name, status: campaign.status.rawValue, statusReason: campaign.statusReason,
            agentID: campaign.settings.agentID, from: campaign.settings.numbers.joined(separator: ", "),
            window: "\(Self.shown(campaign.beginAt)) – \(Self.shown(campaign.endAt))",
            total: progress.total, settled: row.settled, percent: row.percent, completed: progress.completed, failed: progress.failed,
            inProgress: progress.inProgress, pending: progress.pending, retryScheduled: progress.retryScheduled, notCalled: progress.notCalled,
            suppressed: progress.suppressed, chart: OutcomeChart.svg(progress), waitingReason: state.waitingReason,
            nextDial: state.nextDialAt.map(Self.shown),
            canPause: campaign.status == .active, canResume: campaign.status == .paused, canCancel: campaign.status.isLive, live: campaign.status.isLive,
            calls: Array(rows), filters: CallStatus.allCases.map { Filter(value: $0.rawValue, selected: $0.rawValue == status) },
            callStatus: status ?? "", previous: offset > 0 ? "\(max(0, offset - pageSize))" : nil, next: calls.count > pageSize ? "\(offset + pageSize)" : nil,
            failedNumbers: failed.map { Failed(phone: $0.phoneNumber, reason: $0.reason, callID: $0.callID) })
        return pages.render("campaign", title: row.name, context: context, page: page)
    }

    /// `GET /campaigns/{id}/events`: the campaign's counts and chart every second while it is live,
    /// then a last `done` event.
    @Sendable func campaignEvents(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let first = try await load(context)
        let store = api.store
        return Self.eventStream {
            guard let campaign = try await store.campaign(id: first.id, organizationID: first.organizationID) else { return ([], true) }
            let progress = try await store.progress(campaignID: campaign.key)
            let row = CampaignRow(campaign, progress)
            let counts: [String: JSONValue] = [
                "status": .string(row.status), "percent": JSONValue(row.percent), "settled": JSONValue(row.settled), "total": JSONValue(row.total),
                "completed": JSONValue(progress.completed), "failed": JSONValue(progress.failed), "inProgress": JSONValue(progress.inProgress),
                "pending": JSONValue(progress.pending), "retryScheduled": JSONValue(progress.retryScheduled),
                "notCalled": JSONValue(progress.notCalled), "suppressed": JSONValue(progress.suppressed),
                "chart": .string(OutcomeChart.svg(progress)),
            ]
            return ([Self.json(.object(counts))], !row.live)
        }
    }

    /// Pause and resume are the API's routes; cancel is the batch API's (which takes another
    /// path parameter), on the same store call.
    @Sendable func campaignAction(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let campaign = try await load(context)
        let action = try context.parameter("action")
        let campaigns = VoiceCampaignsController(api: api)
        switch action {
        case "pause": _ = try await campaigns.pause(request, context: context)
        case "resume": _ = try await campaigns.resume(request, context: context)
        case "cancel":
            guard try await api.store.cancelCampaign(id: campaign.key, now: api.clock.now()) else {
                throw APIError.conflict("Campaign is \(campaign.status.rawValue): only an active or paused campaign can be cancelled")
            }
        default: throw APIError.notFound("Action")
        }
        context.logger.info("campaign changed in the console", metadata: ["campaign_id": "\(campaign.id)", "action": "\(action)"])
        return .redirect(to: "/campaigns/\(Self.path(campaign.id))", type: .normal)
    }

    @Sendable func smsCampaignAction(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let controller = SMSCampaignsController(api: api)
        switch try context.parameter("action") {
        case "pause": _ = try await controller.pause(request, context: context)
        case "resume": _ = try await controller.resume(request, context: context)
        case "end": _ = try await controller.end(request, context: context)
        default: throw APIError.notFound("Action")
        }
        return .redirect(to: "/", type: .normal)
    }

    // MARK: A call

    @Sendable func call(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let id = try context.parameter("call_id")
        let call = try await context.owned("Call") { try await api.store.call(id: id, organizationID: $0) }
        let attempts = try await api.store.attempts(callID: call.id)
        struct Attempt { var number: Int; var status: String; var outcome: String; var dialed: String; var answered: String?; var ended: String?
                         var duration: String; var detail: String?; var provider: String; var transferredTo: String?; var voicemailLeft: Bool }
        struct Turn { var role: String; var content: String; var at: String?; var interrupted: Bool }
        struct Field { var name: String; var value: String }
        struct Analysis { var summary: String; var sentiment: String; var successful: String; var reason: String? }
        struct Page {
            var id: String; var campaignID: String; var from: String; var to: String; var status: String; var outcome: String
            var direction: String; var duration: String; var attempts: [Attempt]; var transcript: [Turn]; var fields: [Field]
            var analysis: Analysis?; var analysisPending: Bool; var hasRecording: Bool; var latency: String?
        }
        let page = Page(
            id: call.id, campaignID: call.campaignID, from: call.fromNumber, to: call.toNumber, status: call.status.rawValue,
            outcome: call.outcome?.rawValue ?? "", direction: call.direction.rawValue, duration: String(format: "%.1f s", call.duration),
            attempts: attempts.map { attempt in
                Attempt(number: attempt.attempt, status: attempt.status.rawValue, outcome: attempt.outcome?.rawValue ?? "",
                        dialed: Self.shown(attempt.dialAt), answered: attempt.answeredAt.map(Self.shown), ended: attempt.endedAt.map(Self.shown),
                        duration: String(format: "%.1f s", attempt.duration), detail: attempt.detail, provider: attempt.provider.rawValue,
                        transferredTo: attempt.transferredTo, voicemailLeft: attempt.voicemailLeft)
            },
            transcript: call.transcript.map { Turn(role: $0.role.rawValue, content: $0.content, at: $0.at.map { String(format: "%.1f s", $0) },
                                                   interrupted: $0.interrupted ?? false) },
            fields: (call.extracted ?? [:]).sorted { $0.key < $1.key }.map { Field(name: $0.key, value: $0.value.text ?? $0.value.jsonText) },
            analysis: call.analysis.map { Analysis(summary: $0.summary, sentiment: $0.sentiment.rawValue,
                                                   successful: $0.successful.map { $0 ? "yes" : "no" } ?? "not judged", reason: $0.reason) },
            analysisPending: call.analysis == nil && call.outcome == .completed && api.agentMode != .scripted, hasRecording: call.recording != nil,
            latency: call.turnLatency.map { String(format: "%.0f ms p50 · %.0f ms p95", $0.p50, $0.p95) })
        return pages.render("call", title: "Call \(call.id)", context: context, page: page)
    }

    // MARK: Helpers

    /// A campaign (or batch) of the caller's organization that this session may see.
    private func load(_ context: SwitchboardContext) async throws -> CampaignRecord {
        let id = try context.parameter("campaign_id")
        return try await context.owned("Campaign") { try await api.store.campaign(id: id, organizationID: $0) }
    }

    /// Server-sent events: `next` is asked for the events to send every second (and whether that
    /// was the last of them); the stream ends then, when the browser goes, or after an hour (the
    /// browser's EventSource reconnects).
    static func eventStream(_ next: @escaping @Sendable () async throws -> (events: [String], done: Bool)) -> Response {
        var headers = ConsolePages.securityHeaders
        headers[.contentType] = "text/event-stream"
        let body = ResponseBody { writer in
            let deadline = ContinuousClock.now + .seconds(3_600)
            while ContinuousClock.now < deadline {
                let (events, done) = try await next()
                var text = events.map { "data: \($0)\n\n" }.joined()
                if done { text += "event: done\ndata: {}\n\n" }
                if text.isEmpty { text = ": waiting\n\n" }
                try await writer.write(ByteBuffer(string: text))
                if done { break }
                try await Task.sleep(for: .seconds(1))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    static func json(_ value: JSONValue) -> String { value.jsonText }

    /// A time as the console shows it: UTC, to the second.
    static func shown(_ date: Date) -> String {
        let text = Timestamps.teliOffset(date)
        return text.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "+00:00", with: " UTC")
    }

    /// An id as a path segment.
    static func path(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }
}

extension SwitchboardContext {
    /// The same request, as nobody: for the sign-in page, which shows no user.
    static func signedOut(_ context: SwitchboardContext) -> SwitchboardContext {
        var context = context
        context.principal = nil
        return context
    }
}
