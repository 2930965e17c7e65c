import Crypto
import Foundation

/// Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256>` over
/// `"{webhook-id}.{webhook-timestamp}.{body}"`, keyed by the endpoint's secret.
public enum WebhookSignature {
    /// A new endpoint secret: `whsec_` and 32 random bytes in base64.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "whsec_" + Data(bytes).base64EncodedString()
    }

    /// The HMAC key: a `whsec_` secret is base64 after its prefix (as Standard Webhooks'
    /// libraries read it); any other secret is used as its UTF-8 bytes.
    public static func key(_ secret: String) -> SymmetricKey {
        if secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst(6))) { return SymmetricKey(data: data) }
        return SymmetricKey(data: Data(secret.utf8))
    }

    public static func sign(secret: String, messageID: String, timestamp: Int, body: String) -> String {
        let content = Data("\(messageID).\(timestamp).\(body)".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: key(secret))
        return "v1," + Data(mac).base64EncodedString()
    }
}
