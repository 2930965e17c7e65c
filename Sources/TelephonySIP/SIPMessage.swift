import Foundation

/// A SIP request or response (RFC 3261 §7), as text on the wire. Header names keep their
/// order and repeats (Via, challenges); lookups ignore case and accept the compact forms.
public struct SIPMessage: Sendable, Equatable {
    public enum StartLine: Sendable, Equatable {
        case request(method: String, uri: String)
        case response(status: Int, reason: String)
    }

    public var startLine: StartLine
    public var headers: [(name: String, value: String)]
    public var body: String

    public init(_ startLine: StartLine, headers: [(name: String, value: String)], body: String = "") {
        self.startLine = startLine
        self.headers = headers
        self.body = body
    }

    public static func == (a: SIPMessage, b: SIPMessage) -> Bool {
        a.startLine == b.startLine && a.body == b.body && a.headers.map { "\($0.name):\($0.value)" } == b.headers.map { "\($0.name):\($0.value)" }
    }

    public var status: Int? { if case .response(let status, _) = startLine { status } else { nil } }
    public var reason: String { if case .response(_, let reason) = startLine { reason } else { "" } }
    public var method: String? { if case .request(let method, _) = startLine { method } else { nil } }

    static let compactForms = ["v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
                               "c": "content-type", "k": "supported"]

    /// `Call-ID`, `call-id` and `i` are one header.
    static func canonical(_ name: String) -> String {
        let lower = name.lowercased()
        return compactForms[lower] ?? lower
    }

    public subscript(name: String) -> String? { values(name).first }

    public func values(_ name: String) -> [String] {
        let wanted = Self.canonical(name)
        return headers.filter { Self.canonical($0.name) == wanted }.map(\.value)
    }

    public var callID: String? { self["Call-ID"] }

    /// The number and method of `CSeq: 2 INVITE`.
    public var cseq: (number: Int, method: String)? {
        guard let parts = self["CSeq"]?.split(separator: " ", omittingEmptySubsequences: true), parts.count == 2,
              let number = Int(parts[0]) else { return nil }
        return (number, String(parts[1]))
    }

    /// A header parameter: `tag` of `<sip:a@b>;tag=x`, `branch` of a Via.
    public static func parameter(_ name: String, in value: String) -> String? {
        // Parameters follow the closing `>` of a name-addr, or the URI itself.
        let tail = value.lastIndex(of: ">").map { value[value.index(after: $0)...] } ?? value[...]
        for part in tail.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.first?.trimmingCharacters(in: .whitespaces).lowercased() == name.lowercased() {
                return pair.count == 2 ? pair[1].trimmingCharacters(in: .whitespaces) : ""
            }
        }
        return nil
    }

    /// The URI inside `<…>` of a Contact, From or To value.
    public static func uri(in value: String) -> String {
        if let open = value.firstIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
            return String(value[value.index(after: open)..<close])
        }
        return String(value.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces)
    }

    public func serialized() -> String {
        var text: String
        switch startLine {
        case .request(let method, let uri): text = "\(method) \(uri) SIP/2.0\r\n"
        case .response(let status, let reason): text = "SIP/2.0 \(status) \(reason)\r\n"
        }
        for header in headers where Self.canonical(header.name) != "content-length" {
            text += "\(header.name): \(header.value)\r\n"
        }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n"
        text += body
        return text
    }

    /// Parses one datagram; nil when it is not a SIP message (keep-alive CRLFs, garbage).
    public init?(parsing text: String) {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        guard let split = normalized.range(of: "\n\n") ?? (normalized.hasSuffix("\n") ? normalized.range(of: "\n", options: .backwards) : nil)
        else { return nil }
        let head = normalized[..<split.lowerBound]
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return nil }
        let first = lines.removeFirst().trimmingCharacters(in: .whitespaces)
        if first.hasPrefix("SIP/2.0 ") {
            let parts = first.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, let status = Int(parts[1]), (100...699).contains(status) else { return nil }
            startLine = .response(status: status, reason: parts.count == 3 ? String(parts[2]) : "")
        } else {
            let parts = first.split(separator: " ")
            guard parts.count == 3, parts[2] == "SIP/2.0" else { return nil }
            startLine = .request(method: String(parts[0]), uri: String(parts[1]))
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            // A line starting with whitespace continues the previous header (RFC 3261 §7.3.1).
            if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((name, value))
        }
        self.headers = headers
        body = String(normalized[split.upperBound...])
    }
}
