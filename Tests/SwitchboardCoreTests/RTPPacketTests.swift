import SwitchboardCore
import Testing

@Suite struct RTPPacketTests {
    @Test func writesAndReadsTheFixedHeader() throws {
        let packet = RTPPacket(payloadType: 0, marker: true, sequenceNumber: 0xBEEF, timestamp: 160_000, ssrc: 0x1234_5678,
                               payload: Array(repeating: 0xFF, count: 160))
        let bytes = packet.bytes
        #expect(bytes.count == 172)
        #expect(Array(bytes.prefix(12)) == [0x80, 0x80, 0xBE, 0xEF, 0x00, 0x02, 0x71, 0x00, 0x12, 0x34, 0x56, 0x78])
        #expect(try RTPPacket(parsing: bytes) == packet)
    }

    @Test func skipsCSRCsTheExtensionAndPadding() throws {
        // V=2, P=1, X=1, CC=1; PT 8; then one CSRC, a one-word extension, 2 payload bytes, 2 of padding.
        let bytes: [UInt8] = [0xB1, 0x08, 0x00, 0x01, 0, 0, 0, 160, 0, 0, 0, 7,
                              0xAA, 0xBB, 0xCC, 0xDD,
                              0xBE, 0xDE, 0x00, 0x01, 1, 2, 3, 4,
                              0xD5, 0x55,
                              0x00, 0x02]
        let packet = try RTPPacket(parsing: bytes)
        #expect(packet.payloadType == 8)
        #expect(packet.sequenceNumber == 1)
        #expect(packet.timestamp == 160)
        #expect(packet.ssrc == 7)
        #expect(packet.payload == [0xD5, 0x55])
    }

    @Test func refusesWhatIsNotRTP() {
        #expect(throws: RTPPacket.ParseError.tooShort) { try RTPPacket(parsing: [0x80, 0x00]) }
        #expect(throws: RTPPacket.ParseError.notVersion2) { try RTPPacket(parsing: [UInt8](repeating: 0, count: 12)) }
        #expect(throws: RTPPacket.ParseError.badPadding) { try RTPPacket(parsing: [0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]) }
    }
}
