import Foundation

// Who dials with what: agents, numbers, idempotent requests.

/// An agent as stored: the fields Switchboard reads, and the client's whole body to echo.
public struct AgentRecord: Sendable, Equatable {
    public var id: String
    public var organizationID: String
    public var tenantID: String
    public var userID: String
    public var type: AgentType
    public var name: String
    public var body: [String: JSONValue]
    public var createdAt: Date

    public init(id: String, organizationID: String, tenantID: String, userID: String, type: AgentType, name: String,
                body: [String: JSONValue], createdAt: Date) {
        self.id = id
        self.organizationID = organizationID
        self.tenantID = tenantID
        self.userID = userID
        self.type = type
        self.name = name
        self.body = body
        self.createdAt = createdAt
    }
}

/// An outbound number and the carrier that dials it.
public struct PhoneNumberRecord: Sendable, Equatable {
    public var id: String
    public var phoneNumber: String
    public var organizationID: String
    public var tenantID: String
    public var userID: String
    public var provider: ProviderName
    public var capabilities: [Capability]
    public var nickname: String?
    public var areaCode: String?
    /// Provider settings, secrets included: never returned by the API.
    public var settings: [String: JSONValue]
    public var maxConcurrentCalls: Int
    public var callsPerSecond: Double
    public var createdAt: Date
    /// The agent that answers a caller no campaign has called (call-backs from a campaign's
    /// leads go to that campaign's agent).
    public var inboundAgentID: String?

    public init(id: String, phoneNumber: String, organizationID: String, tenantID: String, userID: String, provider: ProviderName,
                capabilities: [Capability], nickname: String?, areaCode: String?, settings: [String: JSONValue],
                maxConcurrentCalls: Int, callsPerSecond: Double, createdAt: Date, inboundAgentID: String? = nil) {
        self.inboundAgentID = inboundAgentID
        self.id = id
        self.phoneNumber = phoneNumber
        self.organizationID = organizationID
        self.tenantID = tenantID
        self.userID = userID
        self.provider = provider
        self.capabilities = capabilities
        self.nickname = nickname
        self.areaCode = areaCode
        self.settings = settings
        self.maxConcurrentCalls = maxConcurrentCalls
        self.callsPerSecond = callsPerSecond
        self.createdAt = createdAt
    }
}

/// Where an `Idempotency-Key` stands for an organization.
public enum IdempotencyState: Sendable, Equatable {
    /// New (or expired, or abandoned by a process that died): this request runs, and its
    /// response is recorded by `finishIdempotentRequest`.
    case started
    /// Another request with the key is running.
    case inFlight
    /// The first request's fingerprint and response, to replay.
    case done(fingerprint: String, status: Int, body: String)
}
