import Foundation
import Store
import SwitchboardCore

extension Schemas {
    /// `SMSPhoneNumber`: an SMS-capable number and the campaign it is assigned to, if any.
    struct SMSPhoneNumber: Encodable, Sendable {
        var id: String
        var phone_number: String
        var pretty_phone_number: String
        @Nullable var nickname: String?
        var provider: ProviderName
        var capabilities: [Capability]
        var is_available: Bool
        @Nullable var assigned_to: Assignment?
        @Nullable var assigned_at: String?
        var created_at: String

        struct Assignment: Encodable, Sendable {
            var user_id: String
            @Nullable var email: String?
            @Nullable var name: String?
            var campaign_id: String
        }

        init(_ number: PhoneNumberRecord, assignedTo campaign: SMSCampaignRecord?) {
            id = number.id
            phone_number = number.phoneNumber
            pretty_phone_number = PhoneNumber.pretty(number.phoneNumber)
            nickname = number.nickname
            provider = number.provider
            capabilities = number.capabilities
            is_available = campaign == nil
            assigned_to = campaign.map { Assignment(user_id: $0.userID, campaign_id: $0.id) }
            assigned_at = campaign.map { Timestamps.teli($0.createdAt) }
            created_at = Timestamps.teli(number.createdAt)
        }
    }

    /// `SMSMessage`: one text of a thread.
    struct SMSMessage: Encodable, Sendable {
        var message_id: String
        @Nullable var campaign_id: String?
        @Nullable var conversation_id: String?
        var direction: Direction
        var from: String
        var to: String
        var body: String
        @Nullable var media_url: String?
        var kind: MessageKind
        var status: String
        @Nullable var error: String?
        @Nullable var provider_message_id: String?
        var created_at: String
        @Nullable var sent_at: String?
        var updated_at: String

        init(_ message: MessageRecord) {
            message_id = "\(message.id)"
            campaign_id = message.campaignID.map(ScopedID.publicID)
            conversation_id = message.conversationID.map { "\($0)" }
            direction = message.direction
            from = message.from
            to = message.to
            body = message.body
            media_url = message.mediaURL
            kind = message.kind
            status = message.status.rawValue
            error = message.error
            provider_message_id = message.providerMessageID
            created_at = Timestamps.teli(message.createdAt)
            sent_at = message.sentAt.map(Timestamps.teli)
            updated_at = Timestamps.teli(message.updatedAt)
        }
    }

    /// `SMSMessageList`'s payload.
    struct SMSMessageList: Encodable, Sendable {
        var count: Int
        var messages: [SMSMessage]
        @Nullable var next_after: Int?
    }

    /// `SMSSendResponse`'s payload.
    struct SMSSent: Encodable, Sendable {
        var message = "Message queued"
        var sms: SMSMessage
        var message_id: String
        var status: String
    }

    /// `SMSExtractions`'s payload: what the agents drew from each conversation with a number.
    struct SMSExtractions: Encodable, Sendable {
        var phone_number: String
        var lead_outcome: String
        var extracted_fields: [String: JSONValue]
        var count: Int
        var extractions: [Extraction]

        struct Extraction: Encodable, Sendable {
            var campaign_id: String
            var conversation_id: String
            var extracted_fields: [String: JSONValue]
            var lead_outcome: String
            var conversation_state: ConversationState
            @Nullable var voice_campaign_id: String?
            @Nullable var voice_call_id: String?
            var updated_at: String
        }
    }

    /// What the simulator's inbound text did.
    struct SimulatedInbound: Encodable, Sendable {
        @Nullable var message_id: String?
        @Nullable var conversation_id: String?
        var effect: String
    }
}
