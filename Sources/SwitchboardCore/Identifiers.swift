/// Random identifiers in the shapes the compatible APIs use (`voice_campaign_4491036864fc`).
public enum Identifier {
    public static func make(_ prefix: String, bytes: Int = 6) -> String {
        var generator = SystemRandomNumberGenerator()
        var out = prefix
        for _ in 0..<bytes {
            let byte = UInt8.random(in: 0...255, using: &generator)
            out += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }
        return out
    }
}
