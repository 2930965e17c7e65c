import Foundation
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// A new voice campaign from a CSV, in the console: the file is uploaded (to a draft), its
/// columns mapped (which is the phone number, which become the lead's fields), previewed (the
/// first rows as they will be dialed and the invalid ones with their reasons, read with the
/// same parser and rules as an upload through the API), and the campaign started with the
/// settings chosen: the API's own request, the leads staged from the draft and created with
/// the campaign in one transaction.
struct ConsoleNewCampaign {
    let api: APIEnvironment
    let pages: ConsolePages
    let uploads: ConsoleUploads

    @Sendable func uploadForm(_ request: Request, context: SwitchboardContext) async throws -> Response {
        pages.render("campaign-upload", title: "New campaign", context: context, page: [String: String]())
    }

    @Sendable func upload(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        do {
            let draft = try await uploads.receive(request, principal: principal, api: api)
            return .redirect(to: "/campaigns/new/\(draft.id)", type: .normal)
        } catch let error as APIError {
            return pages.render("campaign-upload", title: "New campaign", context: context, page: [String: String](), error: error.message,
                                status: error.status)
        }
    }

    @Sendable func mappingForm(_ request: Request, context: SwitchboardContext) async throws -> Response {
        try await render(context, form: FormFields(), preview: nil, error: nil)
    }

    @Sendable func submit(_ request: Request, context: SwitchboardContext) async throws -> Response {
        let form = context.form
        do {
            if form["action"] == "start" { return try await start(context) }
            return try await render(context, form: form, preview: try await preview(context, form: form), error: nil)
        } catch let error as APIError {
            return try await render(context, form: form, preview: nil, error: error.message, status: error.status)
        }
    }

    // MARK: Steps

    /// What the mapped file holds: counts, the first valid leads and the first invalid ones.
    struct Preview {
        struct Lead { var phone: String; var fields: String }
        struct Invalid { var row: Int; var phone: String; var reason: String }
        var received = 0
        var valid = 0
        var invalidCount = 0
        var leads: [Lead] = []
        var invalid: [Invalid] = []
    }

    private func preview(_ context: SwitchboardContext, form: FormFields) async throws -> Preview {
        let path = try uploads.path(try context.parameter("draft_id"), principal: try context.caller())
        var parser = CSVLeadParser(mapping: try mapping(form))
        var preview = Preview()
        func take(_ inputs: [LeadInput]) {
            for input in inputs {
                switch input.validated(index: preview.received) {
                case .success(let lead):
                    preview.valid += 1
                    if preview.leads.count < 5 {
                        let fields = lead.fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.text ?? $0.value.jsonText)" }.joined(separator: ", ")
                        preview.leads.append(.init(phone: lead.phone.e164, fields: fields))
                    }
                case .failure(let problem):
                    preview.invalidCount += 1
                    if preview.invalid.count < 20 {
                        preview.invalid.append(.init(row: problem.index + 2, phone: problem.phoneNumber ?? "", reason: problem.reason))
                    }
                }
                preview.received += 1
            }
        }
        do {
            for try await chunk in FileChunks(path: path) { take(try parser.feed(chunk.readableBytesView)) }
            take(try parser.finish())
        } catch let problem as LeadStreamError {
            throw APIError.badRequest(problem.description, field: "file")
        }
        return preview
    }

    private func start(_ context: SwitchboardContext) async throws -> Response {
        let principal = try context.caller()
        let draft = try context.parameter("draft_id")
        let path = try uploads.path(draft, principal: principal)
        let form = context.form
        let body = try Self.campaignBody(form)
        let parsed = try await VoiceCampaignRequest.parse(JSONObjectReader(object: body), principal: principal, store: api.store, now: api.clock.now())
        let session = try await LeadImportSession.begin(campaignID: parsed.campaign.key, format: .csv, columns: try mapping(form),
                                                        store: api.store, clock: api.clock)
        let campaign: CampaignRecord
        do {
            for try await chunk in FileChunks(path: path) { try await session.feed(chunk.readableBytesView) }
            let summary = try await session.finishStaging()
            guard summary.received > summary.invalidCount else { throw APIError.badRequest("the file has no valid lead", field: "file") }
            var record = parsed.campaign
            record.invalidLeadsCount = summary.invalidCount
            campaign = try await api.store.createCampaign(record, leads: [], staged: session.staged)
        } catch {
            await session.abort()
            if let problem = error as? LeadStreamError { throw APIError.badRequest(problem.description, field: "file") }
            throw error
        }
        uploads.remove(draft, principal: principal)
        api.wakeDialer()
        context.logger.info("campaign created in the console", metadata: ["campaign_id": "\(campaign.id)", "contacts": "\(campaign.contactsCount)"])
        return .redirect(to: "/campaigns/\(ConsoleController.path(campaign.id))", type: .normal)
    }

    /// The API's `POST /v1/voice/campaigns` body the form stands for (its leads come from the file).
    static func campaignBody(_ form: FormFields) throws -> [String: JSONValue] {
        var body: [String: JSONValue] = ["leads": .array([])]
        body["voice_agent_id"] = form.text("agent_id").map(JSONValue.string)
        body["agent_outbound_number"] = form.text("from_number").map(JSONValue.string)
        body["campaign_name"] = form.text("name").map(JSONValue.string)
        body["timezone"] = form.text("timezone").map(JSONValue.string)
        if let calls = form.text("max_concurrent_calls") {
            guard let number = Int(calls) else { throw APIError.badRequest("max_concurrent_calls must be a whole number", field: "max_concurrent_calls") }
            body["max_concurrent_calls"] = JSONValue(number)
        }
        for (field, key) in [("begin", "campaign_begin_time"), ("end", "campaign_end_time")] {
            // A datetime-local input: minutes, no zone; the form says it is UTC.
            if let text = form.text(field) { body[key] = .string(text.count == 16 ? text + ":00Z" : text) }
        }
        let retries = Int(form.text("retry_limit") ?? "0") ?? 0
        body["redial_enabled"] = .bool(retries > 0)
        if retries > 0 {
            var redial: [String: JSONValue] = ["retry_limit": JSONValue(retries)]
            if let minutes = form.text("retry_minutes").flatMap(Double.init) { redial["call_interval_minutes"] = JSONValue(minutes) }
            let on = form.values("retry_on")
            if !on.isEmpty { redial["retry_on"] = .array(on.map(JSONValue.string)) }
            body["redial_config"] = .object(redial)
        }
        var hours: [String: JSONValue] = [:]
        hours["start"] = form.text("hours_start").map(JSONValue.string)
        hours["end"] = form.text("hours_end").map(JSONValue.string)
        let days = form.values("days")
        if !days.isEmpty { hours["days"] = .array(days.map(JSONValue.string)) }
        if !hours.isEmpty { body["calling_hours"] = .object(hours) }
        return body
    }

    private func mapping(_ form: FormFields) throws -> CSVColumnMapping? {
        guard let phone = form.text("phone_column") else { return nil }
        return CSVColumnMapping(phone: phone, fields: Set(form.suffixes(after: "field:")))
    }

    // MARK: The page

    private func render(_ context: SwitchboardContext, form: FormFields, preview: Preview?, error: String?,
                        status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = try context.caller()
        let draft = try context.parameter("draft_id")
        let path = try uploads.path(draft, principal: principal)
        let sample = Self.sample(path)
        let detected = sample.header.first { LeadInput.phoneKeys.contains(CSVLeadParser.fieldName($0)) }
        let phone = CSVLeadParser.fieldName(form.text("phone_column") ?? detected ?? sample.header.first ?? "")
        let chosenFields = form.text("phone_column") == nil ? nil : Set(form.suffixes(after: "field:").map(CSVLeadParser.fieldName))
        struct Column { var name: String; var field: String; var isPhone: Bool; var included: Bool }
        struct Option { var value: String; var label: String; var selected: Bool }
        struct Row { var cells: [String] }
        struct Check { var value: String; var checked: Bool }
        struct Page {
            var draft: String; var columns: [Column]; var rows: [Row]; var agents: [Option]; var numbers: [Option]
            var name: String; var timezone: String; var begin: String; var end: String; var hoursStart: String; var hoursEnd: String
            var days: [Check]; var maxConcurrentCalls: String; var retryLimit: String; var retryMinutes: String; var retryOn: [Check]; var preview: Preview?
            var noAgents: Bool; var noNumbers: Bool; var defaultDays: Int
        }
        let agents = try await api.store.agents(organizationID: principal.organizationID, userID: principal.readScope, type: .voice, limit: 200)
        let numbers = try await api.store.phoneNumbers(organizationID: principal.organizationID, userID: principal.readScope)
        let retryOn = form.text("phone_column") == nil ? RetryPolicy.defaultRetryOn.map(\.rawValue) : form.values("retry_on")
        let days = form.text("phone_column") == nil ? ["mon", "tue", "wed", "thu", "fri"] : form.values("days")
        let page = Page(
            draft: draft,
            columns: sample.header.map { name in
                let field = CSVLeadParser.fieldName(name)
                return Column(name: name, field: field, isPhone: field == phone, included: chosenFields?.contains(field) ?? (field != phone))
            },
            rows: sample.rows.map { Row(cells: $0) },
            agents: agents.map { Option(value: $0.id, label: "\($0.name) (\($0.id))", selected: $0.id == form["agent_id"]) },
            numbers: numbers.map { Option(value: $0.phoneNumber, label: "\($0.phoneNumber) · \($0.provider.rawValue)", selected: $0.phoneNumber == form["from_number"]) },
            name: form["name"] ?? "", timezone: form["timezone"] ?? "UTC", begin: form["begin"] ?? "", end: form["end"] ?? "",
            hoursStart: form["hours_start"] ?? "09:00", hoursEnd: form["hours_end"] ?? "20:00",
            days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map { Check(value: $0, checked: days.contains($0)) },
            maxConcurrentCalls: form["max_concurrent_calls"] ?? "\(CampaignSettings.defaultMaxConcurrentCalls)", retryLimit: form["retry_limit"] ?? "2", retryMinutes: form["retry_minutes"] ?? "60",
            retryOn: ["no_answer", "busy", "voicemail", "failed", "call_declined"].map { Check(value: $0, checked: retryOn.contains($0)) },
            preview: preview, noAgents: agents.isEmpty, noNumbers: numbers.isEmpty,
            defaultDays: Int(CampaignSettings.defaultCampaignLength / 86_400))
        return pages.render("campaign-new", title: "New campaign", context: context, page: page, error: error, status: status)
    }

    /// The header and first rows of the draft, from its first 64 KiB.
    static func sample(_ path: String) -> (header: [String], rows: [[String]]) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return ([], []) }
        defer { try? handle.close() }
        let bytes = (try? handle.read(upToCount: 64 * 1024)).map { Array($0) } ?? []
        return CSVLeadParser.sample(bytes, rows: 5)
    }
}
