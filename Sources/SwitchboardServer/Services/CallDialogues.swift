import Agents
import Foundation
import Logging
import Store
import SwitchboardCore

/// Builds a call's agent from the database, one way for every voice transport: the agent's
/// prompt and greeting, the lead's fields, and the text thread when the SMS agent escalated
/// the lead to this call. Read within the call's organization.
struct CallDialogues: Sendable {
    let store: Store
    let agent: ConversationAgent?

    /// The agent of the call an analysis is for.
    func dialogue(for job: PendingAnalysis) async throws -> CallDialogue? {
        try await store.callConversation(attemptID: job.attemptID).asyncMap { try await dialogue($0) } ?? nil
    }

    /// Stores a call's conversation and, when an agent can analyse it (a model, and the callee
    /// said something), queues its analysis; `wake` tells this process's analyst. A call-back
    /// ends here too: nothing but its conversation tells when it is over.
    func save(_ transcript: [TranscriptTurn], call: CallRecord, attemptID: Int64, end: ConversationEnd, now: Date,
              wake: @Sendable () -> Void) async throws {
        let spoke = transcript.contains { $0.role == .user }
        let analyze = agent != nil && spoke
        try await store.saveCallConversation(callID: call.id, transcript: transcript, extracted: nil, analyzeAttempt: analyze ? attemptID : nil, now: now)
        if call.direction == .inbound {
            // The lead may have been the campaign's last: it completes now, not at the dialer's next due time.
            if let campaign = try await store.closeInboundCall(attemptID: attemptID, outcome: end.transferredTo == nil ? .completed : .transferred,
                                                               detail: end.reason, transferredTo: end.transferredTo, callerSpoke: spoke, now: now) {
                _ = try await store.completeCampaignIfDone(id: campaign, now: now)
            }
        }
        if analyze { wake() }
    }

    func dialogue(_ conversation: CallConversation) async throws -> CallDialogue {
        let call = conversation.call
        var lead = conversation.fields
        lead["phone_number"] = .string(call.toNumber)
        let record = try await call.agentID.asyncMap { try await store.agent(id: $0, organizationID: call.organizationID) } ?? nil
        var objective = record?.body["objective_prompt"]?.stringValue
        if let conversationID = conversation.escalatedFrom {
            let reason = conversation.escalationReason ?? "the lead asked for a call"
            lead["sms_campaign_id"] = nil
            let thread = try await store.conversationMessages(conversationID, organizationID: call.organizationID, limit: 40)
                .map { ($0.direction == .inbound ? "Lead: " : "Agent: ") + $0.body }.joined(separator: "\n")
            objective = [objective, "This call follows a text conversation (\(reason)):\n\(thread)"].compactMap { $0 }.joined(separator: "\n\n")
        }
        if call.direction == .inbound {
            let before = conversation.previousTranscript.map { ($0.role == .user ? "Lead: " : "Agent: ") + $0.content }.joined(separator: "\n")
            let callBack = before.isEmpty ? "The lead is calling us back." : "The lead is calling us back after this call:\n\(before)"
            objective = [objective, callBack].compactMap { $0 }.joined(separator: "\n\n")
        }
        let profile = AgentProfile(name: record?.name ?? "Assistant", channel: .voice, prompt: record?.body["prompt"]?.stringValue ?? "",
                                   objective: objective,
                                   extractionFields: AgentProfile.fields(record?.body["extraction_fields"]),
                                   successCriteria: record?.body["success_criteria"]?.stringValue,
                                   transferNumber: (record?.body["transfer_number"]?.stringValue).flatMap { try? PhoneNumber(parsing: $0) }?.e164,
                                   warmTransfer: record?.body["transfer_mode"]?.stringValue == "warm")
        // A call-back is answered with the agent's `inbound_message` when it has one.
        let opening = call.direction == .inbound ? record?.body["inbound_message"]?.stringValue ?? record?.body["starting_message"]?.stringValue
            : record?.body["starting_message"]?.stringValue
        let greeting = opening.map { Template.render($0, fields: lead) }
        // Per-agent speech settings, over the server's.
        let speech = SpeechOptions(sttModel: record?.body["stt_model"]?.stringValue, ttsModel: record?.body["tts_model"]?.stringValue,
                                   voice: record?.body["voice"]?.stringValue ?? record?.body["voice_id"]?.stringValue)
        let voicemail = (record?.body["voicemail_message"]?.stringValue).map { Template.render($0, fields: lead) }
        return CallDialogue(agent: agent, profile: profile, lead: lead, greeting: greeting, voicemailMessage: voicemail, speech: speech)
    }
}
