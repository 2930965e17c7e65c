import Foundation
import Hummingbird
import Logging
import Store
import SwitchboardCore

/// The organization's suppression list: numbers and prefixes never called or texted. Checked
/// when each call is claimed, so an entry added now stops the next dial. Any key of the
/// organization may add; only an admin key may remove (it re-allows calls).
struct SuppressionsController {
    let api: APIEnvironment

    func register(on router: some RouterMethods<SwitchboardContext>) {
        router.post("v1/suppressions", use: add)
        router.get("v1/suppressions", use: list)
        router.delete("v1/suppressions/:value", use: remove)
        router.post("v1/suppressions/import", use: importCSV)
    }

    @Sendable func add(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SuppressionCreated>> {
        let principal = try context.caller()
        let body = try await JSONObjectReader.read(request, limit: api.maxBodyBytes)
        let entry: Suppression
        let now = api.clock.now()
        let reason = try body.string("reason")
        if let raw = try body.string("phone_number") {
            let number = try PhoneNumber(raw, field: "phone_number")
            entry = Suppression(value: number.e164, kind: .number, reason: reason, source: .api, createdAt: now)
        } else if let prefix = try body.string("prefix") {
            entry = Suppression(value: try Self.prefix(prefix), kind: .prefix, reason: reason, source: .api, createdAt: now)
        } else {
            throw APIError.badRequest("phone_number or prefix required", field: "phone_number")
        }
        let added = try await api.store.suppress([entry], organizationID: principal.organizationID, announce: true)
        context.logger.info("suppression added", metadata: ["value": "\(entry.value)", "new": "\(added > 0)"])
        return api.teli(Schemas.SuppressionCreated(suppression: Schemas.Suppression(entry), created: added > 0))
    }

    @Sendable func list(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SuppressionList>> {
        let principal = try context.caller()
        let limit = try request.query.int("limit", in: 1...1000) ?? 100
        let page = try await api.store.suppressions(organizationID: principal.organizationID, after: request.query.string("after"), limit: limit)
        return api.teli(Schemas.SuppressionList(count: page.count, suppressions: page.map(Schemas.Suppression.init),
                                                next_after: page.count == limit ? page.last?.value : nil))
    }

    @Sendable func remove(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SuppressionRemoved>> {
        let principal = try context.caller()
        guard principal.isAdmin else { throw APIError.forbidden("only an admin key may remove a suppression") }
        let raw = try context.parameter("value").removingPercentEncoding ?? ""
        // A number in any spelling, or a prefix as it was added.
        let value = (try? PhoneNumber(parsing: raw).e164) ?? raw
        guard try await api.store.unsuppress(value, organizationID: principal.organizationID) else { throw APIError.notFound("Suppression") }
        context.logger.info("suppression removed", metadata: ["value": "\(value)"])
        return api.teli(Schemas.SuppressionRemoved(phone_number: value))
    }

    /// A CSV with a `phone_number` column (and optionally `reason`), read as it streams in and
    /// added in chunks; entries already listed are kept as they were.
    @Sendable func importCSV(_ request: Request, context: SwitchboardContext) async throws -> JSONBody<Teli<Schemas.SuppressionImport>> {
        let principal = try context.caller()
        var parser = CSVLeadParser()
        var received = 0, added = 0, invalid: [InvalidLead] = [], invalidCount = 0
        var pending: [Suppression] = []
        func take(_ inputs: [LeadInput]) async throws {
            for input in inputs {
                switch input.validated(index: received) {
                case .success(let lead):
                    pending.append(Suppression(value: lead.phone.e164, kind: .number, reason: lead.fields["reason"]?.text,
                                               source: .import, createdAt: api.clock.now()))
                case .failure(let problem):
                    invalidCount += 1
                    if invalid.count < 1_000 { invalid.append(problem) }
                }
                received += 1
            }
            if pending.count >= 5_000 {
                added += try await api.store.suppress(pending, organizationID: principal.organizationID)
                pending.removeAll(keepingCapacity: true)
            }
        }
        do {
            for try await buffer in api.upload(request) {
                try await take(try parser.feed(buffer.readableBytesView))
            }
            try await take(try parser.finish())
        } catch let problem as LeadStreamError {
            throw APIError.badRequest(problem.description)
        }
        added += try await api.store.suppress(pending, organizationID: principal.organizationID)
        context.logger.info("suppressions imported", metadata: ["received": "\(received)", "added": "\(added)"])
        return api.teli(Schemas.SuppressionImport(received: received, added_count: added, already_listed_count: received - invalidCount - added,
                                                  invalid_count: invalidCount, invalid: invalid.map(Schemas.InvalidLead.init)))
    }

    /// `+1900`: a plus and 1 to 14 digits.
    static func prefix(_ raw: String) throws -> String {
        let digits = raw.hasPrefix("+") ? raw.dropFirst() : Substring(raw)
        guard (1...14).contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            throw APIError.badRequest("prefix must be a + and 1 to 14 digits (e.g. +1900)", field: "prefix")
        }
        return "+" + digits
    }
}
