import SwitchboardCore

extension KeywordAnswers {
    /// The one confirmation an opt-out gets, the re-subscription notice, and the HELP answer.
    public static let standard = KeywordAnswers(
        optOut: "You have been unsubscribed and will receive no more messages. Reply START to resubscribe.",
        optIn: "You have been resubscribed. Reply STOP to unsubscribe.",
        help: { campaign in
            (campaign.map { "\($0): " } ?? "") + "automated messages. Reply STOP to unsubscribe, START to resubscribe. Msg & data rates may apply."
        })
}
