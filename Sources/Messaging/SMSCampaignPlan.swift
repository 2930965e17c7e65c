import Agents
import Foundation
import SwitchboardCore

/// An SMS campaign's conversation settings, read once from its stored fields.
struct SMSCampaignPlan: Sendable {
    var startingMessage: String
    var mediaURL: String?
    var drips: [DripStep]
    var customFollowUp: String?
    var profile: AgentProfile
    /// SMS → voice: the voice agent and the number it calls from.
    var voice: (agentID: String, outboundNumber: String)?
    /// Quiet hours: when starting messages and drips may go out.
    var schedule: TextSchedule

    init(_ campaign: SMSCampaignRecord, agent: AgentRecord?) {
        let body = campaign.body
        schedule = campaign.schedule
        startingMessage = body["starting_message"]?.stringValue ?? ""
        mediaURL = body["mms_media_url"]?.stringValue
        drips = (try? DripStep.schedule(body["drip_schedule"])) ?? []
        customFollowUp = body["custom_follow_up"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        if body["enable_sms_to_voice"] == .bool(true), let agentID = body["voice_agent_id"]?.stringValue,
           let number = body["outbound_number"]?.stringValue {
            voice = (agentID, number)
        }
        profile = AgentProfile(
            name: agent?.name ?? "Assistant", channel: .sms,
            prompt: agent?.body["prompt"]?.stringValue ?? "",
            objective: body["objective_prompt"]?.stringValue,
            extractionFields: AgentProfile.fields(body["extraction_fields"]),
            canCall: voice != nil)
    }

    /// When drip `index` is due: its delay after the starting message, never before `now`.
    func dripDue(_ index: Int, startedAt: Date, now: Date) -> Date? {
        guard drips.indices.contains(index) else { return nil }
        return max(startedAt.addingTimeInterval(drips[index].delay), now)
    }
}
