import Foundation
import Logging

/// `SWITCHBOARD_LOG_FORMAT=text` (the default): swift-log's `StreamLogHandler` line on standard
/// error — `time level label: key=value … [source] message` — with the metadata formatted when a
/// line is written, not whenever it changes. `StreamLogHandler` formats all of its metadata on
/// each change, and every request sets three keys (its id, organization and key) while almost
/// none logs a line: that was 6% of a status read (`bench api`, docs/performance.md).
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String) {
        self.init(label: label) { FileHandle.standardError.write(Data($0.utf8)) }
    }

    init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new })
        if let error = event.error {
            all["error.message"] = "\(error)"
            all["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = Date().formatted(Date.ISO8601FormatStyle(timeZone: .current)) + " \(event.level) \(label):"
        for (key, value) in all.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        line += " [\(event.source)] \(event.message)\n"
        write(line)
    }
}
