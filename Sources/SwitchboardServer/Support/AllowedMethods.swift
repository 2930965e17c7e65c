import HTTPTypes
import Hummingbird
import SwitchboardCore

/// Which methods each routed path answers, read from the router once its routes are in: a
/// request for a known path with another method is 405 with `Allow` (RFC 9110 §15.5.6), not a
/// 404 that says the path does not exist.
final class AllowedMethods: Sendable {
    private let table = Locked<[(template: [Substring], methods: [HTTPRequest.Method])]>([])

    func learn(_ routes: [Router<SwitchboardContext>.RouteDescription]) {
        var byPath: [String: [HTTPRequest.Method]] = [:]
        for route in routes { byPath[route.path.description, default: []].append(route.method) }
        table.withLock { table in
            table = byPath.map { (template: $0.key.split(separator: "/"), methods: $0.value.sorted { $0.rawValue < $1.rawValue }) }
        }
    }

    /// The methods `path` answers, or nil when no route has that path.
    func methods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        return table.withLock { table in
            table.first { Self.matches($0.template, segments) }?.methods
        }
    }

    private static func matches(_ template: [Substring], _ segments: [Substring]) -> Bool {
        if template.last == "**" { return segments.count >= template.count - 1 && zip(template.dropLast(), segments).allSatisfy(matches) }
        return template.count == segments.count && zip(template, segments).allSatisfy(matches)
    }

    private static func matches(_ part: Substring, _ segment: Substring) -> Bool {
        part == segment || part.hasPrefix("{") || part == "*"
    }
}
