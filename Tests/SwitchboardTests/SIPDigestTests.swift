import Foundation
import Testing
import TelephonySIP

/// Digest answers checked against RFC 7616 §3.9.1's published example (the same computation
/// SIP uses, RFC 8760), for both algorithms; SIPp checks MD5 on the wire as well.
@Suite struct SIPDigestTests {
    static let challenge = #"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=ALG, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#

    @Test(arguments: [("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
                      ("MD5", "8ca523f5e9506fed4657c9700eebdbec")])
    func answersTheRFCExample(algorithm: String, response: String) throws {
        let challenge = try #require(SIPDigestChallenge(header: Self.challenge.replacingOccurrences(of: "ALG", with: algorithm)))
        let header = challenge.authorization(method: "GET", uri: "/dir/index.html", username: "Mufasa", password: "Circle of Life",
                                             cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
        #expect(header.contains("response=\"\(response)\""))
        #expect(header.contains("qop=auth, nc=00000001"))
        #expect(header.contains("opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""))
    }

    @Test func takesTheFirstChallengeItSupports() throws {
        let response = try #require(SIPMessage(parsing: """
            SIP/2.0 407 Proxy Authentication Required\r
            Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r
            Proxy-Authenticate: Digest realm="a", nonce="n", qop="auth", algorithm=SHA-512-256\r
            Proxy-Authenticate: Digest realm="a", nonce="n", qop="auth", algorithm=SHA-256\r
            Proxy-Authenticate: Digest realm="a", nonce="n", algorithm=MD5\r
            CSeq: 1 INVITE\r
            Content-Length: 0\r
            \r

            """))
        let (challenge, proxy) = try #require(SIPDigestChallenge.first(in: response))
        #expect(proxy)
        #expect(challenge.algorithm == .sha256)
        #expect(response.cseq?.number == 1 && response.cseq?.method == "INVITE")
    }
}
