import Foundation
import SwitchboardCore
import Testing

@Suite struct IdentifierTests {
    @Test func orderedIdsSortByTimeAndDifferWithin() {
        // Half a millisecond in, so no instant rounds down to the millisecond before.
        let start = Date(timeIntervalSince1970: 1_764_633_600.1235)
        let ids = (0..<1_000).map { Identifier.ordered("call_", at: start.addingTimeInterval(Double($0) * 0.002)) }
        #expect(ids == ids.sorted())
        #expect(ids.allSatisfy { $0.count == 5 + 28 && $0.dropFirst(5).allSatisfy(\.isHexDigit) })
        // The first twelve digits are the time, the same for ids of one instant.
        #expect(ids[0].dropFirst(5).prefix(12) == String(UInt64(1_764_633_600_123), radix: 16).leftPadded(to: 12))
        let sameInstant = Set((0..<1_000).map { _ in Identifier.ordered("call_", at: start) })
        #expect(sameInstant.count == 1_000)
    }
}

private extension String {
    func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
