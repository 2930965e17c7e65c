import Foundation
import SwitchboardAPI
import SwitchboardCore
import Yams

/// `GET /docs`: the API reference, rendered on the server from `openapi.yaml` once, as one
/// page with its own style sheet and no script: every operation by tag (method, path, what it
/// does, parameters, body, responses), then every schema's fields.
enum APIReference {
    static func html() throws -> String {
        guard let document = try Yams.load(yaml: String(decoding: try OpenAPIDocument.yaml(), as: UTF8.self)) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        let info = document["info"] as? [String: Any] ?? [:]
        let paths = document["paths"] as? [String: Any] ?? [:]
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        var byTag: [String: [String]] = [:]
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            guard let item = item as? [String: Any] else { continue }
            for method in ["get", "post", "put", "patch", "delete"] {
                guard let operation = item[method] as? [String: Any] else { continue }
                let tag = (operation["tags"] as? [String])?.first ?? "other"
                let parameters = ((item["parameters"] as? [Any]) ?? []) + ((operation["parameters"] as? [Any]) ?? [])
                byTag[tag, default: []].append(Self.operation(method: method, path: path, operation, parameters: parameters))
            }
        }
        var body = "<h1>\((info["title"] as? String ?? "Switchboard API").escaped)</h1>"
        body += "<p>\(Self.prose(info["description"] as? String ?? ""))</p><nav>"
        body += byTag.keys.sorted().map { "<a href=\"#tag-\($0.escaped)\">\($0.escaped)</a>" }.joined(separator: " · ")
        body += " · <a href=\"#schemas\">schemas</a> · <a href=\"/openapi.yaml\">openapi.yaml</a></nav>"
        for tag in byTag.keys.sorted() {
            body += "<h2 id=\"tag-\(tag.escaped)\">\(tag.escaped)</h2>" + (byTag[tag] ?? []).joined()
        }
        body += "<h2 id=\"schemas\">Schemas</h2>"
        for (name, schema) in schemas.sorted(by: { $0.key < $1.key }) {
            body += "<section id=\"schema-\(name.escaped)\"><h3>\(name.escaped)</h3>\(Self.fields(schema as? [String: Any] ?? [:]))</section>"
        }
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard API</title>
            <meta name="viewport" content="width=device-width, initial-scale=1"><style>\(style)</style></head><body>\(body)</body></html>
            """
    }

    private static func operation(method: String, path: String, _ operation: [String: Any], parameters: [Any]) -> String {
        var html = "<section class=\"op\"><h3><span class=\"m \(method)\">\(method.uppercased())</span> <code>\(path.escaped)</code>"
        if let id = operation["operationId"] as? String { html += " <small>\(id.escaped)</small>" }
        html += "</h3>"
        if let text = operation["description"] as? String { html += "<p>\(prose(text))</p>" }
        let rows = parameters.compactMap { $0 as? [String: Any] }.compactMap { parameter -> String? in
            guard let name = parameter["name"] as? String else { return nil }
            let schema = parameter["schema"] as? [String: Any] ?? [:]
            return "<tr><td><code>\(name.escaped)</code></td><td>\((parameter["in"] as? String ?? "").escaped)</td><td>\(type(schema))</td>"
                + "<td>\(prose(parameter["description"] as? String ?? ""))</td></tr>"
        }
        if !rows.isEmpty { html += "<table><tr><th>parameter</th><th>in</th><th>type</th><th></th></tr>\(rows.joined())</table>" }
        if let content = (operation["requestBody"] as? [String: Any])?["content"] as? [String: Any] {
            html += "<p>Body: " + content.keys.sorted().map { type in
                "<code>\(type.escaped)</code> " + Self.type((content[type] as? [String: Any])?["schema"] as? [String: Any] ?? [:])
            }.joined(separator: "; ") + "</p>"
        }
        if let responses = operation["responses"] as? [String: Any] {
            html += "<p>Responses: " + responses.sorted { $0.key < $1.key }.map { code, value -> String in
                let content = (value as? [String: Any])?["content"] as? [String: Any]
                let schema = (content?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
                return "<code>\(code.escaped)</code>" + (schema.map { " " + type($0) } ?? "")
            }.joined(separator: "; ") + "</p>"
        }
        return html + "</section>"
    }

    private static func fields(_ schema: [String: Any]) -> String {
        var html = (schema["description"] as? String).map { "<p>\(prose($0))</p>" } ?? ""
        if let parts = schema["allOf"] as? [Any] {
            html += "<p>All of: " + parts.compactMap { $0 as? [String: Any] }.map(type).joined(separator: ", ") + "</p>"
            for part in parts.compactMap({ $0 as? [String: Any] }) where part["properties"] != nil { html += fields(part) }
            return html
        }
        guard let properties = schema["properties"] as? [String: Any] else { return html + "<p>\(type(schema))</p>" }
        let required = Set(schema["required"] as? [String] ?? [])
        let rows = properties.sorted { $0.key < $1.key }.map { name, value -> String in
            let property = value as? [String: Any] ?? [:]
            return "<tr><td><code>\(name.escaped)</code>\(required.contains(name) ? " *" : "")</td><td>\(type(property))</td>"
                + "<td>\(prose(property["description"] as? String ?? ""))</td></tr>"
        }
        return html + "<table><tr><th>field</th><th>type</th><th></th></tr>\(rows.joined())</table>"
    }

    /// `string`, `integer | null`, `array of Call`, a link for a reference.
    private static func type(_ schema: [String: Any]) -> String {
        if let reference = schema["$ref"] as? String {
            let name = String(reference.split(separator: "/").last ?? "")
            return "<a href=\"#schema-\(name.escaped)\">\(name.escaped)</a>"
        }
        if (schema["type"] as? String) == "array" || (schema["type"] as? [String])?.contains("array") == true {
            return "array of " + type(schema["items"] as? [String: Any] ?? [:])
        }
        var text = (schema["type"] as? String) ?? (schema["type"] as? [String])?.joined(separator: " | ") ?? (schema["allOf"] != nil ? "object" : "any")
        if let values = schema["enum"] as? [Any] { text += ": " + values.map { "\($0)" }.joined(separator: ", ") }
        return text.escaped
    }

    /// Prose with `code` spans, escaped.
    private static func prose(_ text: String) -> String {
        text.escaped.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset % 2 == 1 ? "<code>\($0.element)</code>" : String($0.element) }.joined()
    }

    private static let style = """
        body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d232a}
        h2{border-bottom:1px solid #d5dae0;margin-top:2.5rem}h3{font-size:1rem;margin:1.2rem 0 .3rem}
        code{font:13px ui-monospace,monospace;background:#f2f4f7;padding:0 .2rem;border-radius:3px}small{color:#69737d}
        .m{font:600 12px ui-monospace,monospace;padding:.1rem .35rem;border-radius:3px;color:#fff;background:#69737d}
        .get{background:#2f7d4f}.post{background:#2c5e9e}.delete{background:#a33a32}.patch,.put{background:#8a5a12}
        table{border-collapse:collapse;width:100%;font-size:14px}td,th{text-align:left;vertical-align:top;padding:.2rem .5rem;border-bottom:1px solid #eceff2}
        nav{margin:1rem 0}section.op{margin-bottom:1rem}
        """
}

private extension String {
    var escaped: String { xmlEscaped }
}
