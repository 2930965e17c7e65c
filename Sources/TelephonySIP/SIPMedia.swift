import Foundation

/// The seam for a call's audio and its agent. RTP with the agent's voice is a later step;
/// today's session offers audio in SDP and holds the line until the call's limit.
public protocol SIPMediaSession: Sendable {
    /// The SDP offer for the INVITE, from the address our media would use.
    func offer(host: String) -> String
    /// The call was answered with this SDP answer. Returns when the agent ends the call; the
    /// call then hangs up with BYE. Cancelled when the callee hangs up or the limit passes.
    func run(answer: String) async
}

/// Offers G.711 and DTMF events, and waits: until the media step, nobody speaks.
public struct HeldLine: SIPMediaSession {
    public init() {}

    public func offer(host: String) -> String {
        let session = UInt32.random(in: 1...UInt32.max)
        return [
            "v=0", "o=switchboard \(session) \(session) IN IP4 \(host)", "s=switchboard", "c=IN IP4 \(host)", "t=0 0",
            "m=audio 40000 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=sendrecv", "",
        ].joined(separator: "\r\n")
    }

    public func run(answer: String) async {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }
}
