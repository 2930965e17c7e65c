import Foundation

/// The keyword answers, in the words the caller chose.
public struct KeywordAnswers: Sendable {
    public var optOut: String
    public var optIn: String
    public var help: @Sendable (_ campaignName: String?) -> String
    public init(optOut: String, optIn: String, help: @escaping @Sendable (_ campaignName: String?) -> String) {
        self.optOut = optOut
        self.optIn = optIn
        self.help = help
    }
}

/// What a contact's text means, decided without the database from what the store read about
/// the contact: STOP suppresses the number for the organization and is confirmed once; START
/// lifts an opt-out made by text (from a number that never opted out by text it is an
/// ordinary reply); HELP is answered; anything else makes the thread due for the agent's reply
/// (which stops its drips).
public struct InboundPlan: Sendable, Equatable {
    public enum Effect: String, Sendable, Equatable {
        /// The carrier sent the same message twice; nothing new.
        case duplicate
        case optedOut = "opted_out"
        case optedIn = "opted_in"
        case help
        /// Stored; the agent answers it if the conversation is the agent's.
        case message
    }

    /// What the store does, in order.
    public enum Step: Sendable, Equatable {
        /// Suppress the number, end its threads, cancel what is queued to it.
        case optOut(reason: String)
        /// Remove the text opt-out and reopen the threads it ended.
        case optIn
        /// Queue this answer on the thread (a `system` text).
        case answer(String)
        /// Make the thread due for a reply, if it is the agent's.
        case dueForReply
    }

    public var effect: Effect
    public var steps: [Step]

    /// - Parameters:
    ///   - suppressed: the number is on the organization's suppression list already (a second
    ///     STOP is not confirmed again).
    ///   - optedOutByText: that entry came from a text (only such an opt-out is lifted by START).
    public init(keyword: SMSKeyword?, body: String, suppressed: Bool, optedOutByText: Bool, campaignName: String?,
                answers: KeywordAnswers) {
        switch keyword {
        case .optOut?:
            effect = .optedOut
            steps = [.optOut(reason: "SMS opt-out: \(body)")] + (suppressed ? [] : [.answer(answers.optOut)])
        case .optIn? where optedOutByText:
            effect = .optedIn
            steps = [.optIn, .answer(answers.optIn)]
        case .help?:
            effect = .help
            steps = [.answer(answers.help(campaignName))]
        case .optIn?, nil:
            effect = .message
            steps = [.dueForReply]
        }
    }
}
