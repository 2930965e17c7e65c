/// The compliance keywords of an inbound text. Only a message that is the keyword alone (any
/// case, surrounding spaces and punctuation ignored) counts, as carriers apply them; natural
/// language ("please stop texting me") is the agent's to recognise.
public enum SMSKeyword: Sendable, Equatable {
    case optOut
    case optIn
    case help

    /// Twilio's default list plus the FCC's additions (REVOKE, OPT OUT).
    static let optOutWords: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT", "OPTOUT"]
    // Not YES: a lead answering a question would re-subscribe by accident.
    static let optInWords: Set<String> = ["START", "UNSTOP"]
    static let helpWords: Set<String> = ["HELP", "INFO"]

    public init?(message: String) {
        let letters = message.uppercased().map { $0.isLetter ? $0 : " " }
        let word = String(letters).split(separator: " ").joined(separator: " ")
        if Self.optOutWords.contains(word) { self = .optOut }
        else if Self.optInWords.contains(word) { self = .optIn }
        else if Self.helpWords.contains(word) { self = .help }
        else { return nil }
    }
}
