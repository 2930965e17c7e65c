import SwitchboardCore
import Testing

/// G.711 against the values of the ITU-T reference implementation.
@Suite struct G711Tests {
    @Test func muLawMatchesTheReferenceAndRoundTrips() {
        #expect(G711.MuLaw.encode(0) == 0xFF)
        #expect(G711.MuLaw.encode(32_767) == 0x80)
        #expect(G711.MuLaw.encode(-32_768) == 0x00)
        #expect(G711.MuLaw.decode(0x80) == 32_124)
        #expect(G711.MuLaw.decode(0x00) == -32_124)
        #expect(G711.MuLaw.decode(0xFF) == 0)
        // Every code decodes to a sample that encodes back to it, but for negative zero (0x7F),
        // which μ-law writes as positive zero.
        for code in UInt8.min...UInt8.max where code != 0x7F {
            #expect(G711.MuLaw.encode(G711.MuLaw.decode(code)) == code, "\(code)")
        }
        #expect(G711.MuLaw.encode(G711.MuLaw.decode(0x7F)) == 0xFF)
    }

    @Test func aLawMatchesTheReferenceAndRoundTrips() {
        #expect(G711.ALaw.encode(0) == 0xD5)
        #expect(G711.ALaw.decode(0xD5) == 8)
        #expect(G711.ALaw.decode(0x55) == -8)
        #expect(G711.ALaw.decode(0xAA) == 32_256)
        #expect(G711.ALaw.decode(0x2A) == -32_256)
        for code in UInt8.min...UInt8.max {
            #expect(G711.ALaw.encode(G711.ALaw.decode(code)) == code, "\(code)")
        }
    }

    @Test func compandingKeepsSamplesClose() {
        for sample in stride(from: -32_000, through: 32_000, by: 997).map(Int16.init) {
            let mu = Int(G711.MuLaw.decode(G711.MuLaw.encode(sample)))
            let a = Int(G711.ALaw.decode(G711.ALaw.encode(sample)))
            // The step grows with the magnitude: within about 3% plus the smallest step.
            let tolerance = abs(Int(sample)) / 32 + 16
            #expect(abs(mu - Int(sample)) <= tolerance, "μ-law \(sample) → \(mu)")
            #expect(abs(a - Int(sample)) <= tolerance, "A-law \(sample) → \(a)")
        }
    }
}
