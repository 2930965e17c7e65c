import Crypto
import Foundation
import SwitchboardCore

/// `X-Twilio-Signature`, as Twilio computes it: Base64 of HMAC-SHA1, keyed with the auth
/// token, over the full URL followed by every POST parameter as name then value, sorted by
/// name (then value), without separators.
public enum TwilioSignature {
    public static func compute(url: String, parameters: [(String, String)], authToken: String) -> String {
        let sorted = parameters.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        let message = url + sorted.map { $0.0 + $0.1 }.joined()
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Checks a signature in constant time, against the URL as given and with its default
    /// port added or removed (proxies differ in which one Twilio saw, as Twilio's own helpers
    /// allow).
    public static func isValid(_ signature: String, url: String, parameters: [(String, String)], authToken: String) -> Bool {
        urlVariants(url).contains { constantTimeEquals(compute(url: $0, parameters: parameters, authToken: authToken), signature) }
    }

    static func urlVariants(_ url: String) -> [String] {
        guard var components = URLComponents(string: url), let scheme = components.scheme else { return [url] }
        let defaultPort = scheme == "https" ? 443 : 80
        if components.port == nil {
            components.port = defaultPort
        } else if components.port == defaultPort {
            components.port = nil
        } else {
            return [url]
        }
        return [url, components.string ?? url]
    }
}
