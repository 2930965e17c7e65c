import Foundation
import Logging
import SwitchboardCore
@testable import SwitchboardServer
import Testing

/// Our log lines, text and JSON: the metadata set before a line and the event's own over it,
/// formatted only when a line is written.
@Suite struct LogHandlerTests {
    func logged(_ format: SwitchboardLogHandler.Format) -> [String] {
        let lines = Locked<[String]>([])
        var logger = Logger(label: "switchboard.test") { label in
            SwitchboardLogHandler(label: label, format: format) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "organization_id"] = "org_1"
        logger[metadataKey: "key_id"] = "key_1"
        logger.debug("below the level")
        logger.warning("dial failed", metadata: ["key_id": "key_2", "call_id": "call_9"], source: "Dialer")
        logger[metadataKey: "organization_id"] = nil
        logger.error("gone")
        return lines.withLock { $0 }
    }

    @Test func aTextLineCarriesTheMetadataSetBeforeItSortedAndTheEventsOwnOverIt() {
        let written = logged(.text)
        #expect(written.count == 2)
        #expect(written.first?.hasSuffix(" warning switchboard.test: call_id=call_9 key_id=key_2 organization_id=org_1 [Dialer] dial failed\n") == true,
                "\(written)")
        #expect(written.last?.contains(" error switchboard.test: key_id=key_1 [") == true, "\(written)")
        #expect(written.last?.hasSuffix("] gone\n") == true)
    }

    @Test func aJSONLineIsOneObjectWithTheSameFields() throws {
        let written = logged(.json)
        #expect(written.count == 2)
        #expect(written.allSatisfy { $0.hasSuffix("}\n") && !$0.dropLast().contains("\n") }, "\(written)")
        let first = try JSONDecoder().decode([String: String].self, from: Data(written[0].utf8))
        #expect(first["level"] == "warning" && first["label"] == "switchboard.test" && first["message"] == "dial failed" && first["source"] == "Dialer")
        #expect(first["call_id"] == "call_9" && first["key_id"] == "key_2" && first["organization_id"] == "org_1")
        #expect(first["time"].flatMap { try? Date($0, strategy: .iso8601) } != nil, "\(first)")
        let last = try JSONDecoder().decode([String: String].self, from: Data(written[1].utf8))
        #expect(last["organization_id"] == nil && last["key_id"] == "key_1" && last["message"] == "gone")
    }
}
