import Foundation
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import SwitchboardCore

/// Reads a JSON object body field by field, so every bad input gets a message that names the
/// field (`voice_agent_id required`, `redial_config.retry_limit must be an integer`).
struct JSONObjectReader: Sendable {
    let object: [String: JSONValue]
    /// Prefix for nested field names in messages (`redial_config.`).
    let path: String

    init(object: [String: JSONValue], path: String = "") {
        self.object = object
        self.path = path
    }

    /// Collects and parses the request body, refusing bodies over `limit` (413).
    static func read(_ request: Request, limit: Int) async throws -> JSONObjectReader {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("request body must be a JSON object") }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: buffer)) }
        catch { throw APIError.badRequest("malformed JSON body") }
        guard case .object(let object) = value else { throw APIError.badRequest("request body must be a JSON object") }
        return JSONObjectReader(object: object)
    }

    func name(_ key: String) -> String { path + key }

    func has(_ key: String) -> Bool {
        if let value = object[key], value != .null { return true }
        return false
    }

    /// A string field. Ids (`…_id`) and names (`…name`) are checked here, for every route:
    /// an id must be readable back in a URL path and neither may hold control characters,
    /// which would forge log lines. An empty id is no id.
    func string(_ key: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?:
            if key.hasSuffix("_id"), value.isEmpty { return nil }
            if key.hasSuffix("_id"), let problem = ClientID.problem(value) {
                throw APIError.badRequest("\(name(key)) \(problem)", field: name(key))
            }
            if key.hasSuffix("name"), let problem = ClientID.nameProblem(value) {
                throw APIError.badRequest("\(name(key)) \(problem)", field: name(key))
            }
            return value
        default: throw APIError.badRequest("\(name(key)) must be a string", field: name(key))
        }
    }

    /// A required string; `message` is the exact text compatible clients expect.
    func requiredString(_ key: String, message: String? = nil) throws -> String {
        guard let value = try string(key), !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIError.badRequest(message ?? "\(name(key)) required", field: name(key))
        }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw APIError.badRequest("\(name(key)) must be a boolean", field: name(key))
        }
    }

    func number(_ key: String) throws -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let value)? where value.isFinite: return value
        default: throw APIError.badRequest("\(name(key)) must be a number", field: name(key))
        }
    }

    func int(_ key: String, in range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let value = try number(key) else { return nil }
        guard JSONValue.integer(value) != nil else { throw APIError.badRequest("\(name(key)) must be an integer", field: name(key)) }
        if let range, !range.contains(Int(value)) {
            throw APIError.badRequest("\(name(key)) must be between \(range.lowerBound) and \(range.upperBound)", field: name(key))
        }
        return Int(value)
    }

    func array(_ key: String) throws -> [JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let value)?: return value
        default: throw APIError.badRequest("\(name(key)) must be an array", field: name(key))
        }
    }

    func object(_ key: String) throws -> JSONObjectReader? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let value)?: return JSONObjectReader(object: value, path: name(key) + ".")
        default: throw APIError.badRequest("\(name(key)) must be an object", field: name(key))
        }
    }

    /// An ISO 8601 timestamp or Unix seconds, from 1970 to the end of 9999.
    func timestamp(_ key: String) throws -> Date? {
        let date: Date
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?:
            guard let parsed = Timestamps.parse(text) else {
                throw APIError.badRequest("\(name(key)) must be an ISO 8601 timestamp (e.g. 2025-11-21T21:40:13Z)", field: name(key))
            }
            date = parsed
        case .number(let seconds)?: date = Date(timeIntervalSince1970: seconds)
        default: throw APIError.badRequest("\(name(key)) must be an ISO 8601 timestamp", field: name(key))
        }
        guard (0...Self.lastSecond).contains(date.timeIntervalSince1970) else {
            throw APIError.badRequest("\(name(key)) must be between 1970 and 9999", field: name(key))
        }
        return date
    }

    /// 9999-12-31T23:59:59Z.
    static let lastSecond: TimeInterval = 253_402_300_799
}
