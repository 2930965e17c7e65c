import Foundation

/// A voice campaign's dialing configuration, as the engine reads it. Stored as one JSON value.
public struct CampaignSettings: Sendable, Codable, Equatable {
    public var name: String?
    public var agentID: String
    /// The default outbound number (E.164).
    public var outboundNumber: String
    /// Numbers to rotate, the outbound number included, in E.164.
    public var numbers: [String]
    public var redialEnabled: Bool
    public var retry: RetryPolicy
    public var callingHours: CallingHours
    /// The zone for numbers whose own zone is unknown, and for fixed schedules.
    public var timeZone: String
    public var maxConcurrentCalls: Int
    /// Per outbound number; `nil` keeps each number's own rate.
    public var callsPerSecond: Double?
    public var ringTimeout: TimeInterval
    public var maxCallDuration: TimeInterval
    /// `nil`: `CircuitBreaker.default`.
    public var circuitBreaker: CircuitBreaker?
    /// Whatever else the client sent that we keep and echo (batch `scheduled_time_unix`, …).
    public var extra: [String: JSONValue]

    public init(name: String? = nil, agentID: String, outboundNumber: String, numbers: [String], redialEnabled: Bool,
                retry: RetryPolicy, callingHours: CallingHours = .default, timeZone: String = "UTC",
                maxConcurrentCalls: Int = Self.defaultMaxConcurrentCalls, callsPerSecond: Double? = nil,
                ringTimeout: TimeInterval = Self.defaultRingTimeout, maxCallDuration: TimeInterval = Self.defaultMaxCallDuration,
                circuitBreaker: CircuitBreaker? = nil, extra: [String: JSONValue] = [:]) {
        self.name = name
        self.agentID = agentID
        self.outboundNumber = outboundNumber
        self.numbers = numbers
        self.redialEnabled = redialEnabled
        self.retry = retry
        self.callingHours = callingHours
        self.timeZone = timeZone
        self.maxConcurrentCalls = maxConcurrentCalls
        self.callsPerSecond = callsPerSecond
        self.ringTimeout = ringTimeout
        self.maxCallDuration = maxCallDuration
        self.circuitBreaker = circuitBreaker
        self.extra = extra
    }

    public static let defaultMaxConcurrentCalls = 10
    /// Regulators' floor is 15 s or four rings; carriers commonly give up at 60.
    public static let defaultRingTimeout: TimeInterval = 30
    public static let defaultMaxCallDuration: TimeInterval = 600
    /// Teli's default window: a week from the start.
    public static let defaultCampaignLength: TimeInterval = 7 * 86_400

    /// The policy the planner applies: none unless redial is enabled.
    public var effectiveRetry: RetryPolicy { redialEnabled ? retry : .noRetries }
    public var breaker: CircuitBreaker { circuitBreaker ?? .default }
}
