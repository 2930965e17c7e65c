import Hummingbird
import Store
import SwitchboardCore

/// api.md's identity rules, in one place.
extension Principal {
    /// The owner a create request names: ids omitted default to the key's; another
    /// organization (or tenant) is 403; another user only for an admin key.
    func owner(_ body: JSONObjectReader) throws -> (organizationID: String, tenantID: String, userID: String) {
        let organizationID = try body.string("organization_id") ?? self.organizationID
        guard organizationID == self.organizationID else { throw APIError.forbidden("organization_id does not match your API key") }
        let tenantID = try body.string("tenant_id") ?? self.tenantID
        guard tenantID == self.tenantID || isAdmin else { throw APIError.forbidden("tenant_id does not match your API key") }
        let userID = try body.string("user_id") ?? self.userID
        guard mayAccess(userID: userID) else { throw APIError.forbidden("only an admin key may act for another user") }
        return (organizationID, tenantID, userID)
    }

    /// Which user's records a list shows: `nil` for the whole organization (`is_admin=true`
    /// with an admin key), otherwise one user's.
    func listScope(_ query: Query) throws -> String? {
        if let organizationID = query.string("organization_id"), organizationID != self.organizationID {
            throw APIError.forbidden("organization_id does not match your API key")
        }
        let wantsAll = try query.bool("is_admin") ?? false
        if wantsAll && !isAdmin { throw APIError.forbidden("is_admin=true requires an admin API key") }
        let userID = query.string("user_id")
        if let userID, !mayAccess(userID: userID) { throw APIError.forbidden("only an admin key may list another user's records") }
        if wantsAll && userID == nil { return nil }
        return userID ?? self.userID
    }

    /// A record of this organization owned by `owner`: a member key may only touch its own.
    func authorize(owner: String) throws {
        guard mayAccess(userID: owner) else { throw APIError.forbidden("this API key cannot access another user's records") }
    }
}

/// A record that belongs to one user of its organization.
protocol OwnedRecord: Sendable {
    var userID: String { get }
}

extension CampaignRecord: OwnedRecord {}
extension SMSCampaignRecord: OwnedRecord {}
extension AgentRecord: OwnedRecord {}
extension CallRecord: OwnedRecord {}

extension SwitchboardContext {
    /// What `load` finds in the caller's organization, when this key may see it: 404 (`what`
    /// not found) when there is none, another organization's included; 403 for another user's
    /// record under a member key. The one way a route loads a record by id.
    func owned<Record: OwnedRecord>(_ what: String, _ load: (_ organizationID: String) async throws -> Record?) async throws -> Record {
        let principal = try caller()
        guard let record = try await load(principal.organizationID) else { throw APIError.notFound(what) }
        try principal.authorize(owner: record.userID)
        return record
    }

    /// The caller, who must hold an admin key for this (403 saying `why` otherwise).
    func admin(_ why: String) throws -> Principal {
        let principal = try caller()
        guard principal.isAdmin else { throw APIError.forbidden(why) }
        return principal
    }
}

/// Query parameters with clear errors for bad values.
struct Query {
    let request: Request

    func string(_ name: String) -> String? {
        guard let value = request.uri.queryParameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = string(name) else { return nil }
        switch value.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw APIError.badRequest("\(name) must be true or false", field: name)
        }
    }

    /// One of `allowed`, or nil when absent; anything else is 400.
    func choice(_ name: String, _ allowed: [String]) throws -> String? {
        guard let value = string(name) else { return nil }
        guard allowed.contains(value) else {
            throw APIError.badRequest("\(name) must be one of \(allowed.joined(separator: ", "))", field: name)
        }
        return value
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = string(name) else { return nil }
        guard let number = Int(value), range.contains(number) else {
            throw APIError(.badRequest, "\(name) must be an integer between \(range.lowerBound) and \(range.upperBound)", location: ["query", name])
        }
        return number
    }
}

extension Request {
    var query: Query { Query(request: self) }
}

extension SwitchboardContext {
    func parameter(_ name: String) throws -> String {
        guard let value = parameters.get(name) else { throw APIError.badRequest("\(name) required") }
        return value
    }
}
