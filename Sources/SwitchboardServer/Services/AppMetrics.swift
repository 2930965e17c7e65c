import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import Store
import SwitchboardCore

/// The process's metrics in Prometheus's text format, on a registry of the app's own (one per
/// app built, so a test reads its own): HTTP requests by route and status with their latency,
/// dials started and ended by carrier and outcome, calls in flight, claim batches and their
/// latency, texts sent by carrier and status, webhook deliveries tried by result; the database
/// connections in use and waited for; and, read from the database at each scrape, the queue's
/// depth and how late its oldest due lead is, and the webhook backlog.
final class AppMetrics: EngineObserver, Sendable {
    let registry = PrometheusCollectorRegistry()
    private let inFlight: Gauge

    init() {
        inFlight = registry.makeGauge(descriptor: Self.name("calls_in_flight", unit: "", help: "Dials placed by this process and not yet ended."))
    }

    static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "switchboard", metricName: metric, unitName: unit, helpText: help)
    }

    // MARK: dials

    func dialStarted(carrier: ProviderName) {
        registry.makeCounter(descriptor: Self.name("dials_started", unit: "total", help: "Dials placed, by carrier."),
                             labels: [("carrier", carrier.rawValue)]).increment()
        inFlight.increment()
    }

    func dialEnded(carrier: ProviderName, outcome: Outcome) {
        registry.makeCounter(descriptor: Self.name("dials_ended", unit: "total", help: "Dials ended, by carrier and outcome."),
                             labels: [("carrier", carrier.rawValue), ("outcome", outcome.rawValue)]).increment()
        inFlight.decrement()
    }

    static let claimBuckets: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                           .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                           .seconds(1), .seconds(2.5)]

    func claimed(count: Int, duration: Duration) {
        registry.makeDurationHistogram(descriptor: Self.name("claim_duration", unit: "seconds", help: "A campaign's claim transaction, dials or none."),
                                       buckets: Self.claimBuckets).record(duration)
        registry.makeCounter(descriptor: Self.name("leads_claimed", unit: "total", help: "Leads claimed for a dial.")).increment(by: Int64(count))
    }

    // MARK: texts and webhooks

    func textSent(carrier: ProviderName, status: SMSStatus) {
        registry.makeCounter(descriptor: Self.name("texts_sent", unit: "total", help: "Texts handed to a carrier, by carrier and the status it answered."),
                             labels: [("carrier", carrier.rawValue), ("status", status.rawValue)]).increment()
    }

    func webhookTried(_ result: DeliveryResult) {
        let name = switch result {
        case .delivered: "delivered"
        case .retry: "retry"
        case .failed: "failed"
        case .gone: "gone"
        }
        registry.makeCounter(descriptor: Self.name("webhook_deliveries", unit: "total",
                                                   help: "Webhook deliveries tried, by result (retry: failed this time, tried again later)."),
                             labels: [("result", name)]).increment()
    }

    // MARK: HTTP

    static let latencyBuckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                             .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                             .seconds(2.5), .seconds(5), .seconds(10)]

    /// Each route, method and status's counter and histogram, made once: making them through
    /// the registry builds their names and labels and takes its lock, 2% of a status read.
    private let requestMetrics = Locked<[RequestKey: (Counter, DurationHistogram)]>([:])
    private struct RequestKey: Hashable { var route: String; var method: HTTPRequest.Method; var status: Int }

    func request(route: String, method: HTTPRequest.Method, status: HTTPResponse.Status, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status.code)
        let (counter, histogram) = requestMetrics.withLock { made in
            if let pair = made[key] { return pair }
            let labels = [("route", route), ("method", method.rawValue), ("status", "\(status.code)")]
            let pair = (registry.makeCounter(descriptor: Self.name("http_requests", unit: "total", help: "HTTP requests, by route, method and status."),
                                             labels: labels),
                        registry.makeDurationHistogram(descriptor: Self.name("http_request_duration", unit: "seconds",
                                                                             help: "HTTP request latency, to the response's head."),
                                                       labels: labels, buckets: Self.latencyBuckets))
            made[key] = pair
            return pair
        }
        counter.increment()
        histogram.record(duration)
    }

    // MARK: the scrape

    /// The text exposition, with the database's gauges read now.
    func scrape(store: Store, now: Date) async throws -> String {
        let queue = try await store.queueHealth(now: now)
        registry.makeGauge(descriptor: Self.name("queue_due_leads", unit: "", help: "Queued leads due now, over every live campaign."))
            .set(Double(queue.due))
        registry.makeGauge(descriptor: Self.name("queue_next_due_lag", unit: "seconds", help: "How late the oldest due lead is (0 when none is)."))
            .set(queue.lag)
        registry.makeGauge(descriptor: Self.name("webhook_backlog", unit: "", help: "Webhook deliveries waiting to be sent."))
            .set(Double(queue.webhookBacklog))
        let usage = store.database.usage
        registry.makeGauge(descriptor: Self.name("database_connections_active", unit: "", help: "Database operations holding a connection now."))
            .set(Double(usage.active))
        registry.makeGauge(descriptor: Self.name("database_connections_waiting", unit: "", help: "Database operations waiting for a connection now."))
            .set(Double(usage.waiting))
        registry.makeGauge(descriptor: Self.name("database_connections_max", unit: "", help: "Connections this process may open."))
            .set(Double(usage.capacity))
        return registry.emitToString()
    }
}

/// Counts each request once its route is known, timed to the response's head.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: AppMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method, status: response.status,
                            duration: ContinuousClock.now - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method, status: status, duration: ContinuousClock.now - started)
            throw error
        }
    }
}
