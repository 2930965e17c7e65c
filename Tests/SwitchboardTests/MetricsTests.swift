import Foundation
import HTTPTypes
import SwitchboardCore
import SwitchboardServer
import Testing

/// `/metrics` for a Prometheus scrape (behind the operator's token) and the health probes.
@Suite struct MetricsTests {
    static func scrape(_ client: Client, token: String?) async throws -> Client.Reply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.request(.get, "/metrics", key: nil, headers: headers)
    }

    /// The value of one sample line (`name{labels} value`), 0 when absent.
    static func sample(_ text: String, _ series: String) -> Double {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    @Test func aScrapeCountsTheCampaignsDialsByOutcome() async throws {
        let harness = Harness(.sqlite) { $0.metricsToken = "scrape-token" }
        try await harness.runWithAgentAndNumber { client, key, agent, number in
            let campaign = try await client.campaign(key: key, agent: agent, number: number, leads: [
                ["phone_number": "+15550000001", "simulate": "completed"],
                ["phone_number": "+15550000002", "simulate": "completed"],
                ["phone_number": "+15550000003", "simulate": "busy"],
                ["phone_number": "+15550000004", "simulate": "no_answer"],
            ])
            let done = try await client.eventually("/v1/voice/campaigns/\(campaign)", key: key) { $0.status_ == "completed" }
            #expect(done.outcomes == ["completed": 2, "busy": 1, "no_answer": 1])

            #expect(try await Self.scrape(client, token: nil).status == .unauthorized)
            #expect(try await Self.scrape(client, token: "wrong").status == .unauthorized)
            let scraped = try await Self.scrape(client, token: "scrape-token")
            #expect(scraped.status == .ok)
            #expect(scraped.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = scraped.text
            // The dials match the campaign's outcomes.
            #expect(Self.sample(text, #"switchboard_dials_started_total{carrier="simulator"}"#) == 4, "\(text)")
            #expect(Self.sample(text, #"switchboard_dials_ended_total{carrier="simulator",outcome="completed"}"#) == 2)
            #expect(Self.sample(text, #"switchboard_dials_ended_total{carrier="simulator",outcome="busy"}"#) == 1)
            #expect(Self.sample(text, #"switchboard_dials_ended_total{carrier="simulator",outcome="no_answer"}"#) == 1)
            #expect(Self.sample(text, "switchboard_calls_in_flight") == 0)
            #expect(Self.sample(text, "switchboard_queue_due_leads") == 0)
            // Every lead was claimed once; each claim transaction was timed.
            #expect(Self.sample(text, "switchboard_leads_claimed_total") == 4)
            #expect(Self.sample(text, "switchboard_claim_duration_seconds_count") >= 1)
            // SQLite: one writer and two readers, none busy or waited for between requests.
            #expect(Self.sample(text, "switchboard_database_connections_max") == 3)
            #expect(text.contains("\nswitchboard_database_connections_waiting 0"), "\(text)")
            // Requests by route (the pattern, not the path) and status, with their latency.
            #expect(Self.sample(text, #"switchboard_http_requests_total{route="/v1/voice/campaigns",method="POST",status="200"}"#) == 1)
            #expect(Self.sample(text, #"switchboard_http_requests_total{route="/v1/voice/campaigns/{campaign_id}",method="GET",status="200"}"#) >= 1)
            #expect(text.contains(#"switchboard_http_request_duration_seconds_bucket{route="/v1/voice/campaigns",method="POST",status="200",le="#))

            #expect(try await client.get("/health/live", key: nil).status == .ok)
            let ready = try await client.get("/health/ready", key: nil)
            #expect(ready.status == .ok && ready.text.contains(#""status":"ok""#))
        }
    }

    /// `/docs`: the reference made from openapi.yaml, every operation and schema, its prose escaped.
    @Test func theAPIReferenceIsServed() async throws {
        let harness = Harness(.sqlite)
        try await harness.run { client in
            let page = try await client.get("/docs", key: nil)
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            let html = page.text
            #expect(html.contains(#"<span class="m post">POST</span> <code>/v1/voice/campaigns</code> <small>createVoiceCampaign</small>"#))
            #expect(html.contains(##"<a href="#schema-CallList">CallList</a>"##) && html.contains(#"<section id="schema-CallList">"#))
            // The document's `<Dial>` is text on the page, not markup.
            #expect(html.contains("<code>&lt;Dial&gt;</code>") && !html.contains("<Dial>"))
            #expect(!html.contains("<script"))
        }
    }

    @Test func metricsAreOffWithoutAToken() async throws {
        let harness = Harness(.sqlite)
        try await harness.run { client in
            let reply = try await Self.scrape(client, token: "anything")
            #expect(reply.status == .notFound)
        }
    }
}
