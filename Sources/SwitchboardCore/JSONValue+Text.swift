/// Compact JSON text for a value, written directly: per-lead fields and streamed exports
/// are written millions of times, where `JSONEncoder`'s generic machinery costs more than the
/// database insert itself.
extension JSONValue {
    public var jsonText: String {
        var out = ""
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        switch self {
        case .string(let value): Self.writeString(value, to: &out)
        case .number(let value):
            if value.isNaN || value.isInfinite { out += "null" }
            else if let integer = JSONValue.integer(value) { out += String(integer) }
            else { out += String(value) }
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let values):
            out += "["
            for (i, value) in values.enumerated() {
                if i > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .object(let object):
            Self.writeObject(object, to: &out)
        }
    }

    /// Keys sorted, so equal objects are equal text.
    public static func writeObject(_ object: [String: JSONValue], to out: inout String) {
        out += "{"
        for (i, key) in object.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            writeString(key, to: &out)
            out += ":"
            object[key]!.write(to: &out)
        }
        out += "}"
    }

    static func writeString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension ValidLead {
    /// The lead's fields as stored: compact JSON, or nil when there are none.
    public var fieldsJSON: String? {
        guard !fields.isEmpty else { return nil }
        var out = ""
        JSONValue.writeObject(fields, to: &out)
        return out
    }
}
