/// Who is calling the API: the organization, tenant and user an API key belongs to.
public struct Principal: Sendable, Equatable {
    public enum Role: String, Sendable, Codable { case admin, member }

    public var keyID: String
    public var organizationID: String
    public var tenantID: String
    public var userID: String
    public var role: Role

    public init(keyID: String, organizationID: String, tenantID: String, userID: String, role: Role) {
        self.keyID = keyID
        self.organizationID = organizationID
        self.tenantID = tenantID
        self.userID = userID
        self.role = role
    }

    public var isAdmin: Bool { role == .admin }

    /// Whether this key may read or act on something a user of its organization owns: its own
    /// user's things, or anything in the organization for an admin.
    public func mayAccess(userID owner: String) -> Bool { isAdmin || owner == userID }

    /// The user whose records this key reads: nil (the whole organization) for an admin.
    public var readScope: String? { isAdmin ? nil : userID }
}
