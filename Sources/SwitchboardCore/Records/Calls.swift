import Foundation

// Calls and their attempts: the history the calls API shows.

/// A call: one lead of one campaign, the parent that its attempts (retries) hang on.
public struct CallRecord: Sendable, Equatable {
    public var id: String
    public var organizationID: String
    public var tenantID: String
    public var userID: String
    /// The id the organization knows its campaign by.
    public var campaignID: String
    public var agentID: String?
    public var fromNumber: String
    public var toNumber: String
    public var status: CallStatus
    public var outcome: Outcome?
    public var attempts: Int
    public var duration: Double
    public var detail: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// What the voice agent and the callee said (`[{role, content}]`), and what was extracted.
    public var transcript: [TranscriptTurn] = []
    public var extracted: [String: JSONValue]?
    /// The answered call's recording, from our voice pipeline.
    public var recording: CallMedia.Recording?
    public var turnLatency: CallMedia.Latency?
    /// The language model's reading of the answered call, once made.
    public var analysis: CallAnalysis?
    /// Outbound (we dialled the lead) or inbound (the lead called one of our numbers back).
    public var direction: Direction

    public init(id: String, organizationID: String, tenantID: String, userID: String, campaignID: String, agentID: String? = nil,
                fromNumber: String, toNumber: String, status: CallStatus, outcome: Outcome? = nil, attempts: Int, duration: Double,
                detail: String? = nil, createdAt: Date, updatedAt: Date, transcript: [TranscriptTurn] = [],
                extracted: [String: JSONValue]? = nil, recording: CallMedia.Recording? = nil, turnLatency: CallMedia.Latency? = nil,
                analysis: CallAnalysis? = nil, direction: Direction = .outbound) {
        self.id = id
        self.direction = direction
        self.organizationID = organizationID
        self.tenantID = tenantID
        self.userID = userID
        self.campaignID = campaignID
        self.agentID = agentID
        self.fromNumber = fromNumber
        self.toNumber = toNumber
        self.status = status
        self.outcome = outcome
        self.attempts = attempts
        self.duration = duration
        self.detail = detail
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.transcript = transcript
        self.extracted = extracted
        self.recording = recording
        self.turnLatency = turnLatency
        self.analysis = analysis
    }
}

/// After an answered call: what happened, how the callee felt, and whether the call met the
/// agent's `success_criteria` (nil when it has none).
public struct CallAnalysis: Sendable, Equatable, Codable {
    public enum Sentiment: String, Sendable, Codable, CaseIterable {
        case positive, neutral, negative
    }
    public var summary: String
    public var sentiment: Sentiment
    public var successful: Bool?
    public var reason: String?

    public init(summary: String, sentiment: Sentiment, successful: Bool?, reason: String?) {
        self.summary = summary
        self.sentiment = sentiment
        self.successful = successful
        self.reason = reason
    }
}

/// An answered call waiting for its analysis: which attempt's conversation, and how many
/// tries failed so far.
public struct PendingAnalysis: Sendable, Equatable {
    public var callID: String
    public var attemptID: Int64
    public var organizationID: String
    public var transcript: [TranscriptTurn]
    public var tries: Int
    public init(callID: String, attemptID: Int64, organizationID: String, transcript: [TranscriptTurn], tries: Int) {
        self.callID = callID
        self.attemptID = attemptID
        self.organizationID = organizationID
        self.transcript = transcript
        self.tries = tries
    }
}

/// One turn of a call's conversation: `agent` or `user`.
public struct TranscriptTurn: Sendable, Equatable, Codable {
    public var role: TranscriptRole
    public var content: String
    /// Seconds from the answer to the turn's first word, where our pipeline heard or spoke it.
    public var at: Double?
    /// The callee spoke over the agent: `content` is what was played before it stopped.
    public var interrupted: Bool?
    public init(role: TranscriptRole, content: String, at: Double? = nil, interrupted: Bool? = nil) {
        self.role = role
        self.content = content
        self.at = at
        self.interrupted = interrupted
    }
}

/// One dial of a call.
public struct AttemptRecord: Sendable, Equatable {
    public var id: Int64
    public var attempt: Int
    public var fromNumber: String
    public var toNumber: String
    public var provider: ProviderName
    public var status: AttemptStatus
    public var outcome: Outcome?
    public var detail: String?
    public var providerCallID: String?
    public var dialAt: Date
    public var answeredAt: Date?
    public var endedAt: Date?
    public var duration: Double
    public var inDoubt: Bool
    /// The agent's voicemail message was left on a machine.
    public var voicemailLeft: Bool = false
    /// Outbound (a dial) or inbound (the lead called us back).
    public var direction: Direction = .outbound
    /// Where the agent handed the call, when the carrier took it.
    public var transferredTo: String?

    public init(id: Int64, attempt: Int, fromNumber: String, toNumber: String, provider: ProviderName, status: AttemptStatus,
                outcome: Outcome? = nil, detail: String? = nil, providerCallID: String? = nil, dialAt: Date, answeredAt: Date? = nil,
                endedAt: Date? = nil, duration: Double, inDoubt: Bool, voicemailLeft: Bool = false, direction: Direction = .outbound,
                transferredTo: String? = nil) {
        self.transferredTo = transferredTo
        self.voicemailLeft = voicemailLeft
        self.direction = direction
        self.id = id
        self.attempt = attempt
        self.fromNumber = fromNumber
        self.toNumber = toNumber
        self.provider = provider
        self.status = status
        self.outcome = outcome
        self.detail = detail
        self.providerCallID = providerCallID
        self.dialAt = dialAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.duration = duration
        self.inDoubt = inDoubt
    }
}

/// Where a page of calls (newest first) ended.
public struct CallCursor: Sendable, Equatable {
    public var createdAt: Date
    public var id: String
    public init(createdAt: Date, id: String) {
        self.createdAt = createdAt
        self.id = id
    }
}

public struct CallFilter: Sendable {
    public var userID: String?
    public var campaignID: String?
    public var agentID: String?
    public var status: CallStatus?
    /// The analysis's verdict against the agent's success criteria.
    public var successful: Bool?
    public var limit: Int
    public var offset: Int
    /// Keyset paging (an export): only calls listed after this one (newest first).
    public var after: CallCursor?
    public init(userID: String? = nil, campaignID: String? = nil, agentID: String? = nil, status: CallStatus? = nil, successful: Bool? = nil,
                limit: Int = 100, offset: Int = 0, after: CallCursor? = nil) {
        self.after = after
        self.successful = successful
        self.userID = userID
        self.campaignID = campaignID
        self.agentID = agentID
        self.status = status
        self.limit = limit
        self.offset = offset
    }
}

/// What a call's voice agent is told: its call, the lead's fields and, for a call an SMS agent
/// escalated, the conversation (of the call's organization) it came from.
public struct CallConversation: Sendable {
    public var call: CallRecord
    public var fields: [String: JSONValue]
    public var escalatedFrom: Int64?
    public var escalationReason: String?
    /// On a call-back: what was said on the campaign's call to this lead before.
    public var previousTranscript: [TranscriptTurn]

    public init(call: CallRecord, fields: [String: JSONValue], escalatedFrom: Int64? = nil, escalationReason: String? = nil,
                previousTranscript: [TranscriptTurn] = []) {
        self.call = call
        self.previousTranscript = previousTranscript
        self.fields = fields
        self.escalatedFrom = escalatedFrom
        self.escalationReason = escalationReason
    }
}

/// What our voice pipeline measured and kept of an answered call.
public struct CallMedia: Sendable, Equatable {
    public struct Recording: Sendable, Equatable {
        /// Relative to the recordings directory.
        public var path: String
        public var seconds: Double
        public init(path: String, seconds: Double) {
            self.path = path
            self.seconds = seconds
        }
    }

    /// End of the caller's speech to the agent's first audio, per turn, in milliseconds.
    public struct Latency: Sendable, Equatable {
        public var p50: Double
        public var p95: Double
        public init(p50: Double, p95: Double) {
            self.p50 = p50
            self.p95 = p95
        }

        /// Nearest-rank percentiles; nil without any turn.
        public init?(_ samples: [Double]) {
            guard !samples.isEmpty else { return nil }
            let sorted = samples.sorted()
            func rank(_ p: Double) -> Double { sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))] }
            self.init(p50: rank(0.5), p95: rank(0.95))
        }
    }

    public var recording: Recording?
    public var latency: Latency?
    public init(recording: Recording?, latency: Latency?) {
        self.recording = recording
        self.latency = latency
    }
}
