#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which addresses a tenant's URL may make this server connect to. Loopback, private,
/// link-local (cloud metadata at 169.254.169.254), shared (CGNAT), unspecified, multicast and
/// reserved ranges are the operator's own network: a webhook pointed there would turn the
/// delivery log into a scanner of it.
public enum NetworkAddress {
    /// The address's bytes (4 or 16), or nil when `text` is not an IP address.
    public static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        if inet_pton(AF_INET6, bare, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Whether `text` (an IPv4 or IPv6 address) is on the public internet.
    public static func isPublic(_ text: String) -> Bool {
        guard let bytes = bytes(text) else { return false }
        return isPublic(bytes)
    }

    public static func isPublic(_ b: [UInt8]) -> Bool {
        if b.count == 4 {
            switch (b[0], b[1]) {
            case (0, _), (10, _), (127, _): return false                      // this network, private, loopback
            case (100, 64...127): return false                                // shared address space (CGNAT)
            case (169, 254): return false                                     // link-local, cloud metadata
            case (172, 16...31), (192, 168): return false                     // private
            case (192, 0) where b[2] == 0 || b[2] == 2: return false          // IETF protocol assignments, TEST-NET-1
            case (198, 18...19): return false                                 // benchmarking
            case (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return false  // TEST-NET-2, -3
            case (224...255, _): return false                                 // multicast, reserved, broadcast
            default: return true
            }
        }
        guard b.count == 16 else { return false }
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) forms are their IPv4 address.
        if b[0..<10].allSatisfy({ $0 == 0 }) && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0)) {
            return isPublic(Array(b[12..<16]))
        }
        if b[0] == 0xff { return false }                                      // multicast
        if b[0] & 0xfe == 0xfc { return false }                               // unique local fc00::/7
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return false }               // link-local fe80::/10
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return false }  // documentation
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b { return isPublic(Array(b[12..<16])) }  // NAT64
        return true
    }
}
