import Crypto
import Foundation
import SwitchboardCore

/// Vobiz signs callbacks as Plivo's V3 does (`X-Vobiz-Signature-V3` with
/// `X-Vobiz-Signature-V3-Nonce`): Base64 of HMAC-SHA256, keyed with the auth token, over the
/// URL, then `?` and every POST parameter as name then value sorted by name (when there are
/// any), then `.` and the nonce. The header may list several signatures, comma-separated.
public enum VobizSignature {
    public static func compute(url: String, parameters: [(String, String)], nonce: String, authToken: String) -> String {
        let sorted = parameters.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        let message = url + (sorted.isEmpty ? "" : "?" + sorted.map { $0.0 + $0.1 }.joined()) + "." + nonce
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    public static func isValid(_ header: String, url: String, parameters: [(String, String)], nonce: String, authToken: String) -> Bool {
        let expected = compute(url: url, parameters: parameters, nonce: nonce, authToken: authToken)
        return header.split(separator: ",").contains { constantTimeEquals($0.trimmingCharacters(in: .whitespaces), expected) }
    }
}

extension VobizSignature {
    /// The token in a call's stream URL: Vobiz does not sign its WebSocket, so the URL our
    /// answer XML gives it carries an HMAC of the attempt keyed with the number's auth token.
    public static func streamToken(attemptID: Int64, authToken: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("stream:\(attemptID)".utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return mac.hexString
    }

    /// The answer XML of a call our voice pipeline holds: a bidirectional μ-law stream to us,
    /// alone on the call (`keepCallAlive`): when the socket closes, the call ends.
    public static func streamXML(attemptID: Int64, authToken: String, webSocketBase: String) -> String {
        let url = "\(webSocketBase)/v1/telephony/vobiz/stream/\(attemptID)/\(streamToken(attemptID: attemptID, authToken: authToken))"
        return "<Response><Stream bidirectional=\"true\" keepCallAlive=\"true\" contentType=\"audio/x-mulaw;rate=8000\">\(url)</Stream></Response>"
    }
}
