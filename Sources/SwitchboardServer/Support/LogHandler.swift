import Foundation
import Logging

/// Our log lines on standard error, in the format `SWITCHBOARD_LOG_FORMAT` names:
/// - `text` (the default): swift-log's `StreamLogHandler` line, `time level label: key=value …
///   [source] message`, with the time in ISO 8601;
/// - `json`: one object per line — `time`, `level`, `label`, `message`, `source` and the
///   metadata's keys — for a log shipper to read without a parser of its own.
///
/// Metadata is formatted only when a line is written. `StreamLogHandler` formats all of it on
/// each change, and every request sets three keys (its id, organization and key) while almost
/// none logs a line: that was 6% of a status read (`bench api`, docs/performance.md).
public struct SwitchboardLogHandler: LogHandler {
    public enum Format: String, Sendable { case text, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let format: Format
    private let write: @Sendable (String) -> Void

    public init(label: String, format: Format) {
        self.init(label: label, format: format) { FileHandle.standardError.write(Data($0.utf8)) }
    }

    init(label: String, format: Format, write: @escaping @Sendable (String) -> Void) {
        (self.label, self.format, self.write) = (label, format, write)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new })
        if let error = event.error { all["error"] = "\(error)" }
        switch format {
        case .text:
            var line = Date().formatted(Date.ISO8601FormatStyle(timeZone: .current)) + " \(event.level) \(label):"
            for (key, value) in all.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
            write(line + " [\(event.source)] \(event.message)\n")
        case .json:
            var object = all.mapValues { "\($0)" }
            object["time"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            object["level"] = event.level.rawValue
            object["label"] = label
            object["message"] = event.message.description
            object["source"] = event.source
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
            write(String(decoding: data, as: UTF8.self) + "\n")
        }
    }
}
