import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardCore
import Workers

public struct WebhookSenderConfiguration: Sendable {
    /// Deliveries sent at once.
    public var batch = 20
    /// A claimed delivery is another sender's after this long (this one died).
    public var lease: TimeInterval = 60
    /// Standard Webhooks asks receivers to answer within 15–30 s.
    public var timeout: TimeInterval = 15
    /// The longest the loop sleeps when nothing is due sooner.
    public var pollInterval: TimeInterval = 1
    /// Whether endpoints may be on loopback, private or link-local addresses.
    public var allowPrivateTargets = false
    /// Real seconds a graceful shutdown waits for the deliveries under way; those still
    /// unanswered then are sent again once their lease runs out.
    public var shutdownDeadline: TimeInterval = 30
    public init() {}
}

/// Sends the outbox: claims due deliveries, posts each signed to its endpoint, and records
/// the answer: delivered on 2xx, the endpoint disabled on 410, otherwise tried again on
/// `WebhookSchedule` (a `Retry-After` pushes the next try later) until no try is left.
public final class WebhookSender: Service, Sendable {
    let store: any WebhookOutbox
    let clock: any WallClock
    let configuration: WebhookSenderConfiguration
    let observer: (any EngineObserver)?
    let logger: Logger
    let worker: LeasedWorker

    public init(store: any WebhookOutbox, clock: any WallClock, configuration: WebhookSenderConfiguration = .init(), passes: WorkerPasses? = nil,
                observer: (any EngineObserver)? = nil, logger: Logger) {
        self.store = store
        self.observer = observer
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        worker = LeasedWorker(name: "webhooks", clock: clock, pollInterval: configuration.pollInterval,
                              shutdownDeadline: configuration.shutdownDeadline, passes: passes, logger: logger)
    }

    /// Why an endpoint URL is refused when it is registered, or nil: not http(s), or an address
    /// literal in the operator's own network while private targets are not allowed. A name is
    /// checked again on the address it resolves to, at each connect.
    public static func refusal(url: String, allowPrivateTargets: Bool) -> String? {
        WebhookTransport.check(url: url, allowPrivate: allowPrivateTargets).map(\.description)
    }

    /// New deliveries: look now instead of at the next poll.
    public func wake() { worker.wake() }

    public func run() async throws {
        // Redirects are failures (Standard Webhooks): never followed. A connection that cannot
        // be made is a failed try, retried on our schedule, not by the client in a loop.
        let http = try WebhookTransport(allowPrivate: configuration.allowPrivateTargets)
        // A graceful shutdown lets the sends under way finish (up to the deadline), so an
        // endpoint that answered is not sent the event again.
        await worker.run { now in
            let due = try await self.store.claimDeliveries(now: now, limit: self.configuration.batch, lease: self.configuration.lease)
            guard !due.isEmpty else { return .idle(nextDue: nil) }
            await withDiscardingTaskGroup { group in
                for delivery in due { group.addTask { await self.send(delivery, over: http) } }
            }
            return .worked
        }
    }

    func send(_ outgoing: OutgoingDelivery, over http: WebhookTransport) async {
        let delivery = outgoing.delivery
        var logger = self.logger
        logger[metadataKey: "webhook_id"] = "\(delivery.messageID)"
        logger[metadataKey: "endpoint_id"] = "\(delivery.endpointID)"
        let timestamp = Int(clock.now().timeIntervalSince1970)
        let headers = [
            ("Content-Type", "application/json"), ("User-Agent", "Switchboard-Webhooks/1"), ("webhook-id", delivery.messageID),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", WebhookSignature.sign(secret: outgoing.secret, messageID: delivery.messageID, timestamp: timestamp, body: delivery.payload)),
        ]
        let result: DeliveryResult
        do {
            let reply = try await http.post(outgoing.url, headers: headers, body: delivery.payload,
                                            timeout: .milliseconds(Int64(configuration.timeout * 1000)))
            result = Self.classify(status: reply.status, retryAfter: reply.retryAfter, attempt: delivery.attempts + 1, now: clock.now())
        } catch {
            if Task.isCancelled { return }  // shutting down: not a try of the endpoint
            result = Self.retryOrFail(attempt: delivery.attempts + 1, status: nil, error: (error as? WebhookTransport.Failure)?.description ?? "could not connect", minimumDelay: 0, now: clock.now())
        }
        observer?.webhookTried(result)
        switch result {
        case .delivered: logger.debug("webhook delivered", metadata: ["event": "\(delivery.eventType)"])
        case .gone: logger.notice("webhook endpoint answered 410 Gone; disabled")
        case .retry(_, let status, let error), .failed(let status, let error):
            logger.info("webhook delivery failed", metadata: ["status": "\(status.map(String.init) ?? "none")", "error": "\(error)",
                                                              "attempt": "\(delivery.attempts + 1)"])
        }
        do {
            try await store.recordDelivery(delivery, result: result, now: clock.now())
        } catch {
            // Its lease runs out and it is sent again: at least once.
            logger.warning("recording a webhook delivery failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    static func classify(status: Int, retryAfter: String?, attempt: Int, now: Date) -> DeliveryResult {
        switch status {
        case 200..<300: return .delivered(status: status)
        case 410: return .gone
        default:
            let wait = Backoff.retryAfter(retryAfter, now: now) ?? 0
            return retryOrFail(attempt: attempt, status: status, error: "HTTP \(status)", minimumDelay: wait, now: now)
        }
    }

    static func retryOrFail(attempt: Int, status: Int?, error: String, minimumDelay: TimeInterval, now: Date) -> DeliveryResult {
        guard let delay = WebhookSchedule.delay(afterAttempt: attempt) else { return .failed(status: status, error: error) }
        return .retry(at: now.addingTimeInterval(max(delay, minimumDelay)), status: status, error: error)
    }
}
