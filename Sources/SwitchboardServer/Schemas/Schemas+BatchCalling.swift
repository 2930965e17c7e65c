import Foundation
import Store
import SwitchboardCore

extension Schemas {
    /// `BatchCallResponse`: a batch (a voice campaign seen through the batch-calling API);
    /// with `submitted` set, `BatchCallSubmitResponse`.
    struct BatchCall: Encodable, Sendable {
        var id: String
        var name: String
        var agent_id: String
        var agent_name: String
        var created_at_unix: Int
        var scheduled_time_unix: Int
        var last_updated_at_unix: Int
        var timezone: String
        var status: String
        @Nullable var phone_number_id: String?
        @Nullable var phone_provider: ProviderName?
        @Nullable var whatsapp_params: JSONValue?
        @Nullable var branch_id: JSONValue?
        @Nullable var environment: JSONValue?
        var total_calls_dispatched: Int
        var total_calls_scheduled: Int
        var total_calls_finished: Int
        var retry_count: Int
        var target_concurrency_limit: Int
        var telephony_call_config: [String: JSONValue]
        /// Extensions: why the batch stands as it does (what paused it, or why nothing is
        /// dialing now: `calling_hours`, `waiting_retries`, …, with when the next dial is due),
        /// and its outcomes so far.
        @Nullable var status_reason: String?
        @Nullable var next_dial_at_unix: Int?
        var outcomes: [String: Int]
        /// Only when just submitted: what was left out.
        var invalid_recipients_count: Int?
        var duplicate_recipients_count: Int?
        var invalid_recipients: [InvalidLead]?

        init(_ batch: CampaignRecord, _ progress: CampaignProgress, agent: AgentRecord?, number: PhoneNumberRecord?, now: Date) {
            let status = BatchStatus(campaign: batch.status, recipients: progress.total, dispatched: progress.dialed,
                                     finalOutcomes: progress.outcomes)
            let settings = batch.settings
            let waiting = VoiceCampaignsController.dialingState(batch, progress, now: now)
            var telephony: [String: JSONValue] = [:]
            if case .object(let given)? = settings.extra["telephony_call_config"] { telephony = given }
            telephony["ringing_timeout_secs"] = JSONValue(Int(settings.ringTimeout))
            id = batch.id
            name = settings.name ?? batch.id
            agent_id = settings.agentID
            agent_name = agent?.name ?? ""
            created_at_unix = Self.unix(batch.createdAt)
            scheduled_time_unix = Self.unix(batch.beginAt)
            last_updated_at_unix = Self.unix(max(batch.updatedAt, progress.lastCallUpdateAt ?? batch.updatedAt))
            timezone = settings.timeZone
            self.status = status.rawValue
            phone_number_id = number?.id
            phone_provider = number?.provider
            whatsapp_params = settings.extra["whatsapp_params"]
            branch_id = settings.extra["branch_id"]
            environment = settings.extra["environment"]
            total_calls_dispatched = progress.dialed
            total_calls_scheduled = progress.total
            total_calls_finished = progress.completed + progress.failed
            retry_count = batch.retryCount
            target_concurrency_limit = settings.maxConcurrentCalls
            telephony_call_config = telephony
            status_reason = batch.statusReason ?? waiting.waitingReason
            next_dial_at_unix = waiting.nextDialAt.map(Self.unix)
            outcomes = progress.outcomes
        }

        static func unix(_ date: Date) -> Int { Int(date.timeIntervalSince1970) }
    }

    /// `BatchCallList`: ElevenLabs' page, without Teli's envelope.
    struct BatchCallList: Encodable, Sendable {
        var batch_calls: [BatchCall]
        @Nullable var next_doc: String?
        var has_more: Bool
    }

    /// `BatchRecipient`: one recipient and how its call stands.
    struct BatchRecipient: Encodable, Sendable {
        var id: String
        var phone_number: String
        @Nullable var whatsapp_user_id: String?
        var status: String
        var created_at_unix: Int
        var updated_at_unix: Int
        @Nullable var conversation_id: String?
        var conversation_initiation_client_data: JSONValue
        /// Extensions: the outcome behind `failed`, and how many dials so far.
        @Nullable var outcome: Outcome?
        var attempts: Int

        init(_ lead: RecipientRecord, batch: CampaignRecord, now: Date) {
            var variables = lead.fields
            let clientData = variables.removeValue(forKey: "conversation_initiation_client_data")
            id = variables.removeValue(forKey: "id")?.text ?? "rcpt_\(lead.leadID)"
            phone_number = lead.phoneNumber
            status = RecipientStatus(state: lead.state, lastOutcome: lead.lastOutcome, dialAt: lead.dialAt, now: now).rawValue
            created_at_unix = BatchCall.unix(batch.createdAt)
            updated_at_unix = BatchCall.unix(lead.callUpdatedAt ?? batch.createdAt)
            conversation_id = lead.callID
            conversation_initiation_client_data = clientData ?? ["dynamic_variables": .object(variables)]
            outcome = lead.lastOutcome
            attempts = lead.attempts
        }
    }
}
