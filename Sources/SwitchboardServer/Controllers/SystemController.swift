import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import Store
import SwitchboardAPI
import SwitchboardCore

/// `/health`, `/health/live`, `/health/ready`, `/openapi.yaml` and `/docs` (the API reference):
/// open to anyone; `/metrics`
/// to a scraper with the operator's token.
struct SystemController {
    let store: Store
    let metrics: AppMetrics
    let metricsToken: String?
    let clock: any WallClock

    func register(on router: some RouterMethods<SwitchboardContext>) {
        // The process answers: for a supervisor deciding whether to restart it.
        router.get("health/live") { _, _ -> JSONBody<Schemas.Health> in JSONBody(body: Schemas.Health(status: "ok")) }
        // The database answers and has every migration this build needs: for a load balancer.
        router.get("health/ready") { _, _ -> JSONBody<Schemas.Health> in
            do {
                guard try await store.schemaIsCurrent() else {
                    return JSONBody(body: Schemas.Health(status: "unavailable", error: "database migrations not applied"), status: .serviceUnavailable)
                }
                return JSONBody(body: Schemas.Health(status: "ok"))
            } catch {
                return JSONBody(body: Schemas.Health(status: "unavailable", error: "database not answering"), status: .serviceUnavailable)
            }
        }
        router.get("metrics") { request, _ -> Response in
            guard let metricsToken else { throw APIError.notFound("Metrics (set SWITCHBOARD_METRICS_TOKEN to turn them on)") }
            let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
            guard constantTimeEquals(given, metricsToken) else { throw APIError(.unauthorized, "the metrics token is missing or wrong") }
            let text = try await metrics.scrape(store: store, now: clock.now())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("health") { _, _ -> JSONBody<Schemas.Health> in
            do {
                try await store.ping()
                return JSONBody(body: Schemas.Health(status: "ok"))
            } catch {
                return JSONBody(body: Schemas.Health(status: "unavailable", error: "database not answering"), status: .serviceUnavailable)
            }
        }
        // The API reference, made once from the document this binary carries.
        let reference = Result { try APIReference.html() }
        router.get("docs") { _, _ -> Response in
            let html = try reference.get()
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        router.get("openapi.yaml") { _, _ -> Response in
            let yaml = try OpenAPIDocument.yaml()
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(data: yaml)))
        }
    }
}
