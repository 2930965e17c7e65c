/// Where an SMS conversation left its lead, as the extractions API reports it.
public enum LeadOutcome: String, Sendable, Codable, CaseIterable {
    case qualified
    case notInterested = "not_interested"
    case dnc
    case transferred
    case pending
}
