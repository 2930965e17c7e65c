import Foundation
import SwitchboardCore

/// Message templates: `{{first_name}}` is replaced by the lead's field of that name. Teli's
/// documentation shows the same placeholders in their escaped form
/// (`{'{'}{'{'}}first_name{'}'}{'}'}`), and clients paste them as they read them, so both
/// spellings work. A field the lead lacks renders as nothing rather than as its placeholder.
public enum Template {
    public static func render(_ template: String, fields: [String: JSONValue]) -> String {
        let text = unescapeTeli(template)
        var out = ""
        out.reserveCapacity(text.count)
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            var cursor = open.upperBound
            // Teli's escaped form unescapes to `{{}name}}}`: one stray brace on each side.
            let stray = cursor < rest.endIndex && rest[cursor] == "}"
            if stray { cursor = rest.index(after: cursor) }
            let nameStart = cursor
            while cursor < rest.endIndex, rest[cursor].isLetter || rest[cursor].isNumber || "_.-".contains(rest[cursor]) || rest[cursor] == " " {
                cursor = rest.index(after: cursor)
            }
            let name = rest[nameStart..<cursor].trimmingSpaces
            guard !name.isEmpty, rest[cursor...].hasPrefix("}}") else {
                out += "{{"
                rest = rest[open.upperBound...]
                continue
            }
            cursor = rest.index(cursor, offsetBy: 2)
            if stray, cursor < rest.endIndex, rest[cursor] == "}" { cursor = rest.index(after: cursor) }
            out += fields[String(name)]?.text ?? ""
            rest = rest[cursor...]
        }
        out += rest
        return out
    }

    static func unescapeTeli(_ text: String) -> String {
        guard text.contains("{'") else { return text }
        return text.replacingOccurrences(of: "{'{'}", with: "{").replacingOccurrences(of: "{'}'}", with: "}")
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
