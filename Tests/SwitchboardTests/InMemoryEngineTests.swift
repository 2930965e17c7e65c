import Dialer
import Foundation
import Logging
import ServiceLifecycle
import SwitchboardCore
import TelephonySimulator
import Testing

/// The dialer's loop on its port in memory: what it does between claims and outcomes, with no
/// database to set up (the store's own tests hold the SQL).
@Suite struct InMemoryEngineTests {
    static let start = Date(timeIntervalSince1970: 1_768_489_200)

    static func campaign(redial: Bool) -> CampaignRecord {
        let settings = CampaignSettings(agentID: "a", outboundNumber: "+15175550100", numbers: ["+15175550100"], redialEnabled: redial,
                                        retry: RetryPolicy(maxAttempts: 3, interval: 0),
                                        callingHours: CallingHours(start: 0, end: 1_440, timeZone: "UTC"), maxConcurrentCalls: 2)
        return CampaignRecord(id: "c1", organizationID: "o", tenantID: "t", userID: "u", settings: settings, beginAt: start,
                              endAt: start.addingTimeInterval(86_400), createdAt: start, updatedAt: start)
    }

    /// Runs `dialer` as a service until `body` returns, then shuts it down gracefully.
    static func running(_ dialer: Dialer, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: [.init(service: dialer)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func busyLeadsAreRetriedAndTheCampaignCompletes() async throws {
        let clock = ManualClock(Self.start)
        let queue = InMemoryDialQueue(Self.campaign(redial: true), phones: ["+15550000001", "+15550000002", "+15550000003"],
                                      fields: ["simulate": "busy,completed"])
        let dialer = Dialer(store: queue, providers: ProviderRegistry([SimulatorProvider(timeScale: 0, clock: clock, log: SimulatorDialLog())]),
                            clock: clock, configuration: DialerConfiguration(pollInterval: 0.05), logger: Logger(label: "test"))
        try await Self.running(dialer) {
            try await until { await queue.campaigns["o/c1"]?.status == .completed }
        }
        let leads = await queue.leads.values
        #expect(leads.map(\.attempts) == [2, 2, 2])
        #expect(leads.allSatisfy { $0.state == .done && $0.lastOutcome == .completed })
        // Never more than the campaign's two lines at once: every attempt was written back.
        #expect(await queue.attempts.values.allSatisfy { $0.status == .ended })
    }

    @Test func shutdownLeavesLongCallsToReconciliationAtItsDeadline() async throws {
        let clock = ManualClock(Self.start)
        let queue = InMemoryDialQueue(Self.campaign(redial: false), phones: ["+15550000001"])
        let carrier = HardeningTests.EndlessCarrier()
        let dialer = Dialer(store: queue, providers: ProviderRegistry([carrier]), clock: clock,
                            configuration: DialerConfiguration(pollInterval: 0.05, shutdownDeadline: 0.5), logger: Logger(label: "test"))
        let asked = Locked(ContinuousClock.now)
        try await Self.running(dialer) {
            try await until { await queue.lead("+15550000001")?.state == .dialing }
            asked.withLock { $0 = ContinuousClock.now }
        }
        // Within the deadline and a little more, not the hour the call would take.
        #expect(ContinuousClock.now - asked.withLock { $0 } < .seconds(5))
        // Left as a crash leaves it: still dialing under its lease, for the reaper.
        #expect(await queue.lead("+15550000001")?.state == .dialing)
        #expect(await queue.attempts.values.map(\.status) == [.dialing])
        #expect(carrier.endedByItself.withLock { !$0 })
    }
}
