import Foundation
import HTTPTypes
import SwitchboardAPI
import SwitchboardCore
import Yams

/// `openapi.yaml`, parsed once, checking real responses: every reply the suite's `Client`
/// receives is held against the operation's documented response, so a server that drifts from
/// its contract fails the test that saw it.
///
/// It implements the part of JSON Schema the document uses for responses: `$ref`, `allOf`,
/// `oneOf`/`anyOf`, `type` (a name or a list with `"null"`), `enum`, `required`, `properties`,
/// `additionalProperties`, `items`, `minimum`/`maximum`, `minLength`.
struct ResponseContract: Sendable {
    static let shared: ResponseContract = {
        do { return try ResponseContract(yaml: String(decoding: OpenAPIDocument.yaml(), as: UTF8.self)) }
        catch { fatalError("openapi.yaml does not parse: \(error)") }
    }()

    let document: JSONValue

    init(yaml: String) throws {
        document = Self.json(try Yams.load(yaml: yaml) as Any)
    }

    /// Every `(method, template)` the document describes, e.g. `get /v1/agents/{agent_id}`.
    var operations: Set<String> {
        var found: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in ["get", "post", "put", "patch", "delete"] where item[method] != nil { found.insert("\(method) \(path)") }
        }
        return found
    }

    /// What is wrong with one reply, or nothing. `path` is the request's URI, query included.
    /// Requests the contract does not describe (an unknown path, a method a path lacks) are
    /// not checked here: `ContractTests` holds the routes and the document to the same set.
    func problems(method: HTTPRequest.Method, path: String, status: Int, contentType: String?, body: Data) -> [String] {
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        guard let template = template(for: route), let operation = document["paths"]?[template]?[method.rawValue.lowercased()] else {
            return []
        }
        let responses = operation["responses"]?.objectValue ?? [:]
        guard var response = responses[String(status)] ?? responses["\(status / 100)XX"] ?? responses["default"] else {
            return ["\(method) \(template): status \(status) is not documented"]
        }
        response = resolve(response)
        let media = (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard let content = response["content"]?.objectValue, !content.isEmpty else {
            return body.isEmpty ? [] : ["\(method) \(template) \(status): a body where the contract has none"]
        }
        guard let described = content[media] else {
            return ["\(method) \(template) \(status): content type \(media.isEmpty ? "(none)" : media) is not one of \(content.keys.sorted())"]
        }
        guard media.hasSuffix("json"), let schema = described["schema"] else { return [] }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            return ["\(method) \(template) \(status): the body is not JSON"]
        }
        return validate(value, against: schema, at: "$").map { "\(method) \(template) \(status): \($0)" }
    }

    /// The document's path template a concrete path matches; literal segments win over
    /// parameters (`/v1/voice/campaigns/import` before `/v1/voice/campaigns/{id}`).
    func template(for path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var best: (template: String, literals: Int)?
        for template in (document["paths"]?.objectValue ?? [:]).keys {
            let parts = template.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard parts.count == segments.count else { continue }
            var literals = 0
            var matches = true
            for (part, segment) in zip(parts, segments) {
                if part.hasPrefix("{") { if segment.isEmpty { matches = false; break } }
                else if part == segment { literals += 1 }
                else { matches = false; break }
            }
            if matches, literals > (best?.literals ?? -1) { best = (template, literals) }
        }
        return best?.template
    }

    func validate(_ value: JSONValue, against raw: JSONValue, at location: String) -> [String] {
        let schema = resolve(raw)
        var problems: [String] = []
        if let parts = schema["allOf"]?.arrayValue {
            for part in parts { problems += validate(value, against: part, at: location) }
        }
        for key in ["oneOf", "anyOf"] {
            if let options = schema[key]?.arrayValue, !options.contains(where: { validate(value, against: $0, at: location).isEmpty }) {
                problems.append("\(location): matches none of \(key)")
            }
        }
        if let types = schema["type"].map({ $0.arrayValue.isEmpty ? [$0] : $0.arrayValue }).map({ $0.compactMap(\.stringValue) }) {
            let nullable = schema["nullable"] == .bool(true)
            guard types.contains(where: { Self.value(value, is: $0) }) || (nullable && value == .null) else {
                return problems + ["\(location): \(Self.describe(value)) where the contract says \(types.joined(separator: " or "))"]
            }
        }
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) {
            problems.append("\(location): \(Self.describe(value)) is not one of \(allowed.compactMap(\.text))")
        }
        switch value {
        case .object(let object):
            let properties = schema["properties"]?.objectValue ?? [:]
            for name in schema["required"]?.arrayValue.compactMap(\.stringValue) ?? [] where object[name] == nil {
                problems.append("\(location): required \(name) is missing")
            }
            for (name, field) in object {
                if let property = properties[name] {
                    problems += validate(field, against: property, at: "\(location).\(name)")
                } else if let extra = schema["additionalProperties"] {
                    if extra == .bool(false) { problems.append("\(location): \(name) is not in the contract") }
                    else if extra.objectValue != nil { problems += validate(field, against: extra, at: "\(location).\(name)") }
                }
            }
        case .array(let items):
            if let item = schema["items"] {
                for (index, element) in items.enumerated() { problems += validate(element, against: item, at: "\(location)[\(index)]") }
            }
        case .number(let number):
            if let minimum = schema["minimum"]?.doubleValue, number < minimum { problems.append("\(location): \(number) < minimum \(minimum)") }
            if let maximum = schema["maximum"]?.doubleValue, number > maximum { problems.append("\(location): \(number) > maximum \(maximum)") }
        case .string(let string):
            if let minimum = schema["minLength"]?.doubleValue, Double(string.count) < minimum { problems.append("\(location): shorter than \(Int(minimum))") }
        case .bool, .null:
            break
        }
        return problems
    }

    /// Follows `$ref`s within the document.
    func resolve(_ schema: JSONValue) -> JSONValue {
        guard let reference = schema["$ref"]?.stringValue, reference.hasPrefix("#/") else { return schema }
        var node = document
        for part in reference.dropFirst(2).split(separator: "/") { node = node[String(part)] ?? .null }
        return resolve(node)
    }

    static func value(_ value: JSONValue, is type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("number", .number): true
        case ("integer", .number(let number)): number.rounded() == number
        default: false
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): "boolean \(b)"
        case .number(let n): "number \(n)"
        case .string(let s): "string \"\(s.prefix(40))\""
        case .array: "an array"
        case .object: "an object"
        }
    }

    static func json(_ any: Any) -> JSONValue {
        switch any {
        case let value as [String: Any]: .object(value.mapValues(json))
        case let value as [Any]: .array(value.map(json))
        case let value as Bool: .bool(value)
        case let value as Int: .number(Double(value))
        case let value as Double: .number(value)
        case let value as String: .string(value)
        default: .null
        }
    }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    var doubleValue: Double? { if case .number(let n) = self { n } else { nil } }
}
