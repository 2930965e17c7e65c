import Crypto
import Foundation
import SwitchboardCore

/// HTTP Digest as SIP uses it (RFC 3261 §22, RFC 8760): answers a 401 `WWW-Authenticate` or
/// 407 `Proxy-Authenticate` challenge with MD5 or SHA-256, `qop=auth` when offered.
public struct SIPDigestChallenge: Sendable, Equatable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case md5 = "MD5"
        case sha256 = "SHA-256"

        func hash(_ text: String) -> String {
            let data = Data(text.utf8)
            switch self {
            case .md5: return Insecure.MD5.hash(data: data).hexString
            case .sha256: return SHA256.hash(data: data).hexString
            }
        }
    }

    public var realm: String
    public var nonce: String
    public var opaque: String?
    public var algorithm: Algorithm
    /// True when the challenge offers `qop=auth` (required by RFC 8760 for SHA-256).
    public var qopAuth: Bool

    /// Reads one challenge header value; nil when it is not Digest or its algorithm is one we
    /// do not support (SHA-512-256, `-sess` variants), so the caller takes the next one.
    public init?(header: String) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("digest ") else { return nil }
        let params = Self.parameters(String(trimmed.dropFirst(7)))
        guard let realm = params["realm"], let nonce = params["nonce"] else { return nil }
        guard let algorithm = Algorithm.allCases.first(where: { $0.rawValue.lowercased() == (params["algorithm"] ?? "MD5").lowercased() })
        else { return nil }
        self.realm = realm
        self.nonce = nonce
        self.opaque = params["opaque"]
        self.algorithm = algorithm
        self.qopAuth = (params["qop"] ?? "").split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "auth" }
    }

    /// The first challenge of the response we can answer, in the server's order of preference
    /// (RFC 8760 §2.4).
    public static func first(in message: SIPMessage) -> (challenge: SIPDigestChallenge, proxy: Bool)? {
        let proxy = message.status == 407
        let headers = message.values(proxy ? "Proxy-Authenticate" : "WWW-Authenticate")
        return headers.lazy.compactMap(SIPDigestChallenge.init(header:)).first.map { ($0, proxy) }
    }

    /// The `Authorization`/`Proxy-Authorization` value for a request.
    public func authorization(method: String, uri: String, username: String, password: String, cnonce: String, nonceCount: Int = 1) -> String {
        let ha1 = algorithm.hash("\(username):\(realm):\(password)")
        let ha2 = algorithm.hash("\(method):\(uri)")
        let nc = String(format: "%08x", nonceCount)
        let response = qopAuth ? algorithm.hash("\(ha1):\(nonce):\(nc):\(cnonce):auth:\(ha2)") : algorithm.hash("\(ha1):\(nonce):\(ha2)")
        var value = "Digest username=\"\(username)\", realm=\"\(realm)\", nonce=\"\(nonce)\", uri=\"\(uri)\", response=\"\(response)\", algorithm=\(algorithm.rawValue)"
        if qopAuth { value += ", qop=auth, nc=\(nc), cnonce=\"\(cnonce)\"" }
        if let opaque { value += ", opaque=\"\(opaque)\"" }
        return value
    }

    /// `a="x, y", b=z` → [a: "x, y", b: "z"]: commas inside quotes do not split.
    static func parameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var key = "", value = "", inKey = true, quoted = false
        func flush() {
            let name = key.trimmingCharacters(in: .whitespaces).lowercased()
            if !name.isEmpty { result[name] = value.trimmingCharacters(in: .whitespaces) }
            key = ""; value = ""; inKey = true
        }
        for ch in text {
            if inKey {
                if ch == "=" { inKey = false } else if ch == "," { flush() } else { key.append(ch) }
            } else if ch == "\"" {
                quoted.toggle()
            } else if ch == "," && !quoted {
                flush()
            } else {
                value.append(ch)
            }
        }
        flush()
        return result
    }
}
