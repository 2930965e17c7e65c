/// ITU-T G.711: the two 8 kHz, 8-bit companded codecs every SIP trunk and Twilio's media
/// streams speak (PCMU, payload type 0; PCMA, payload type 8), to and from 16-bit linear PCM.
public enum G711 {
    /// μ-law (PCMU), as North America and Japan use it.
    public enum MuLaw {
        static let bias: Int32 = 0x84
        static let clip: Int32 = 32_635

        public static func encode(_ sample: Int16) -> UInt8 {
            var value = Int32(sample)
            let sign: Int32 = value < 0 ? 0x80 : 0
            if value < 0 { value = -value }
            value = min(value, clip) + bias
            var exponent: Int32 = 7
            var mask: Int32 = 0x4000
            while exponent > 0, value & mask == 0 {
                exponent -= 1
                mask >>= 1
            }
            let mantissa = (value >> (exponent + 3)) & 0x0F
            return UInt8(truncatingIfNeeded: ~(sign | (exponent << 4) | mantissa))
        }

        public static func decode(_ code: UInt8) -> Int16 {
            let value = Int32(~code & 0xFF)
            let exponent = (value >> 4) & 0x07
            let magnitude = (((value & 0x0F) << 3) + bias) << exponent
            return Int16(value & 0x80 != 0 ? bias - magnitude : magnitude - bias)
        }
    }

    /// A-law (PCMA), as Europe and most of the world use it.
    public enum ALaw {
        public static func encode(_ sample: Int16) -> UInt8 {
            var value = Int32(sample) >> 3  // 13-bit magnitude
            let sign: Int32 = value >= 0 ? 0x80 : 0
            if value < 0 { value = -value - 1 }
            value = min(value, 0xFFF)
            var code: Int32
            if value < 32 {
                code = value >> 1
            } else {
                var exponent: Int32 = 1
                while value >> (exponent + 5) > 0 { exponent += 1 }
                code = (exponent << 4) | ((value >> exponent) & 0x0F)
            }
            return UInt8(truncatingIfNeeded: (code | sign) ^ 0x55)
        }

        public static func decode(_ code: UInt8) -> Int16 {
            let value = Int32(code ^ 0x55)
            let exponent = (value >> 4) & 0x07
            var magnitude = ((value & 0x0F) << 4) + 8
            if exponent > 0 { magnitude = (magnitude + 0x100) << (exponent - 1) }
            return Int16(value & 0x80 != 0 ? magnitude : -magnitude)
        }
    }
}
