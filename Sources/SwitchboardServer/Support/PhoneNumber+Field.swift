import SwitchboardCore

extension PhoneNumber {
    /// A number the client sent in `field`, or 400 naming the field.
    init(_ raw: String, field: String) throws {
        do { try self.init(parsing: raw) } catch { throw APIError.badRequest("\(field) is not a valid phone number", field: field) }
    }
}
