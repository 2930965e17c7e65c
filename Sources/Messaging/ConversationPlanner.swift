import Agents
import Foundation
import Logging
import SwitchboardCore

/// Decides a claimed conversation's turn: the starting message, a drip, or the agent's reply
/// (and what the agent did: call, callback, end, extraction). Without a language model only
/// scripted texts go out; replies are kept for a person and never answered with made-up words.
struct ConversationPlanner: Sendable {
    let store: any TextQueue
    let agent: ConversationAgent?
    let logger: Logger

    enum Decision: Sendable {
        case turn(ConversationTurn)
        /// The model failed: try again later, nothing written.
        case retry(after: TimeInterval)
        /// Quiet hours: a start or a drip waits for the contact's calling hours.
        case wait(until: Date)
    }

    func decide(_ conversation: ConversationRecord, plan: SMSCampaignPlan, now: Date) async -> Decision {
        var lead = conversation.fields
        lead["phone_number"] = .string(conversation.phoneNumber)
        // A reply to a contact who wrote in goes at once; what they did not ask for waits.
        if let kind = conversation.dueKind {
            let opening = plan.schedule.nextSendable(kind: kind.messageKind, to: conversation.phoneNumber, now: now)
            if opening > now { return .wait(until: opening) }
        }
        var turn = ConversationTurn()
        switch conversation.dueKind {
        case .start:
            let text = Template.render(plan.startingMessage, fields: lead).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { turn.messages = [text] }
            turn.kind = .start
            turn.mediaURL = plan.mediaURL
            turn.state = .open
            turn.startedAt = now
            turn.dripIndex = 0
            turn.next = plan.dripDue(0, startedAt: now, now: now).map { ($0, .drip) }
        case .drip:
            let index = conversation.dripIndex
            turn.kind = .drip
            turn.dripIndex = index + 1
            turn.next = plan.dripDue(index + 1, startedAt: conversation.startedAt ?? now, now: now).map { ($0, .drip) }
            guard plan.drips.indices.contains(index) else { break }
            let step = plan.drips[index]
            if step.kind == .custom, let message = step.message {
                turn.messages = [Template.render(message, fields: lead)]
            } else if let agent {
                do {
                    let history = try await history(conversation) + [ChatMessage(.system,
                        "The lead has not replied. Write one short, friendly follow-up message that moves toward the objective.")]
                    if let reply = try await agent.respond(plan.profile, lead: lead, history: history, now: now).reply { turn.messages = [reply] }
                } catch {
                    logger.warning("agent follow-up failed", metadata: ["conversation_id": "\(conversation.id)", "error": "\(error)"])
                    return .retry(after: 60)
                }
            } else if let followUp = plan.customFollowUp {
                turn.messages = [Template.render(followUp, fields: lead)]
            }
        case .reply:
            turn.next = nil
            guard let agent else { break }
            do {
                let history = try await history(conversation)
                let response = try await agent.respond(plan.profile, lead: lead, history: history, now: now)
                turn.messages = response.reply.map { [$0] } ?? []
                apply(response.actions, to: &turn, plan: plan, now: now)
                if !plan.profile.extractionFields.isEmpty || turn.outcome == nil {
                    let full = history + turn.messages.map { ChatMessage(.assistant, $0) }
                    do {
                        let extraction = try await agent.extract(plan.profile, lead: lead, history: full)
                        turn.extracted = extraction.values.filter { $0.value != .null }
                        if turn.outcome == nil, let outcome = extraction.outcome, outcome != .transferred { turn.outcome = outcome }
                    } catch {
                        // The reply still goes out; the fields wait for the next exchange.
                        logger.notice("extraction failed", metadata: ["conversation_id": "\(conversation.id)", "error": "\(error)"])
                    }
                }
            } catch {
                logger.warning("agent reply failed", metadata: ["conversation_id": "\(conversation.id)", "error": "\(error)"])
                return .retry(after: 60)
            }
        default:
            break
        }
        return .turn(turn)
    }

    func apply(_ actions: [AgentAction], to turn: inout ConversationTurn, plan: SMSCampaignPlan, now: Date) {
        for action in actions {
            switch action {
            case .startVoiceCall(let reason):
                guard let voice = plan.voice else { continue }
                turn.voiceCall = VoiceEscalation(at: now, agentID: voice.agentID, outboundNumber: voice.outboundNumber,
                                                 reason: reason ?? "the lead asked for a call")
                turn.outcome = .transferred
            case .scheduleCallback(let at, let note):
                guard let voice = plan.voice else { continue }
                turn.voiceCall = VoiceEscalation(at: max(at, now), agentID: voice.agentID, outboundNumber: voice.outboundNumber,
                                                 reason: note ?? "callback the lead asked for")
                turn.extracted = (turn.extracted ?? [:]).merging(["callback_at": .string(ISO8601DateFormatter().string(from: at))]) { _, new in new }
                turn.outcome = .transferred
            case .transferCall:
                continue // a voice tool; texts are not offered it
            case .endConversation(let outcome, _):
                turn.state = .ended
                turn.next = nil
                if let outcome { turn.outcome = outcome }
                if outcome == .dnc { turn.optOut = true }
            }
        }
    }

    /// The thread as the model reads it: the contact speaks as `user`, we as `assistant`.
    func history(_ conversation: ConversationRecord) async throws -> [ChatMessage] {
        try await store.conversationMessages(conversation.id, organizationID: conversation.organizationID, limit: 200).compactMap { message in
            if message.direction == .inbound { return ChatMessage(.user, message.body) }
            guard message.status != .failed, message.kind != .system else { return nil }
            return ChatMessage(.assistant, message.body)
        }
    }
}
