import Logging
import SwitchboardCore
@testable import SwitchboardServer
import Testing

/// The default log line: swift-log's stream format, its metadata formatted only when a line is
/// written.
@Suite struct LogHandlerTests {
    @Test func aTextLineCarriesTheMetadataSetBeforeItSortedAndTheEventsOwnOverIt() {
        let lines = Locked<[String]>([])
        var logger = Logger(label: "switchboard.test") { label in TextLogHandler(label: label) { line in lines.withLock { $0.append(line) } } }
        logger[metadataKey: "organization_id"] = "org_1"
        logger[metadataKey: "key_id"] = "key_1"
        logger.debug("below the level")
        logger.warning("dial failed", metadata: ["key_id": "key_2", "call_id": "call_9"], source: "Dialer")
        logger[metadataKey: "organization_id"] = nil
        logger.error("gone")

        let written = lines.withLock { $0 }
        #expect(written.count == 2)
        #expect(written.first?.hasSuffix(" warning switchboard.test: call_id=call_9 key_id=key_2 organization_id=org_1 [Dialer] dial failed\n") == true,
                "\(written)")
        #expect(written.last?.contains(" error switchboard.test: key_id=key_1 [") == true, "\(written)")
        #expect(written.last?.hasSuffix("] gone\n") == true)
    }
}
