/// One lead as a client sent it: a phone number (maybe malformed) and any other fields.
public struct LeadInput: Sendable, Equatable {
    public var phone: String?
    /// Everything but the phone number: template variables (`first_name`), the simulator's
    /// `simulate`, a batch recipient's `id`.
    public var fields: [String: JSONValue]

    public init(phone: String?, fields: [String: JSONValue] = [:]) {
        self.phone = phone
        self.fields = fields
    }

    /// Column or key names accepted for the phone number, in order of preference.
    public static let phoneKeys = ["phone_number", "phone", "to_number", "contact_number", "number"]

    /// The phone number is the first of `phoneKeys` the object has (with a value that reads
    /// as text); no phone key is kept as a field.
    public init(object: [String: JSONValue]) {
        // The object's few keys compared with the phone keys, rather than each phone key
        // looked up (hashed) in the object: five hashes a lead were 8% of a JSON upload.
        var present = 0
        for key in object.keys {
            if let rank = Self.phoneKeys.firstIndex(of: key) { present |= 1 << rank }
        }
        var fields = object
        var phone: String?
        for (rank, key) in Self.phoneKeys.enumerated() where present & 1 << rank != 0 {
            if let value = fields.removeValue(forKey: key), phone == nil { phone = value.text }
        }
        self.init(phone: phone, fields: fields)
    }

    public init(json: JSONValue) {
        switch json {
        case .object(let object): self.init(object: object)
        case .string(let phone): self.init(phone: phone)
        default: self.init(phone: json.text)
        }
    }
}

/// A lead that passed validation: its number in E.164.
public struct ValidLead: Sendable, Equatable {
    public var phone: PhoneNumber
    public var fields: [String: JSONValue]

    public init(phone: PhoneNumber, fields: [String: JSONValue] = [:]) {
        self.phone = phone
        self.fields = fields
    }
}

/// A lead that did not, with its 0-based position in the request and why.
public struct InvalidLead: Error, Sendable, Equatable, Codable {
    public var index: Int
    public var phoneNumber: String?
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case index, reason
        case phoneNumber = "phone_number"
    }
}

extension LeadInput {
    /// Validates the number; duplicates are the store's to find (a unique index), so one rule
    /// covers a single request and a million-row stream alike.
    public func validated(index: Int, defaultCountryCode: String = "1") -> Result<ValidLead, InvalidLead> {
        do {
            let number = try PhoneNumber(parsing: phone ?? "", defaultCountryCode: defaultCountryCode)
            return .success(ValidLead(phone: number, fields: fields))
        } catch {
            return .failure(InvalidLead(index: index, phoneNumber: phone, reason: error.description))
        }
    }
}

extension Sequence where Element == LeadInput {
    /// The leads that validate, and the others with their 0-based position and why: one
    /// split for every request that carries leads (voice campaigns, SMS contacts, batch
    /// recipients).
    public func validated() -> (valid: [ValidLead], invalid: [InvalidLead]) {
        var valid: [ValidLead] = []
        var invalid: [InvalidLead] = []
        for (index, input) in enumerated() {
            switch input.validated(index: index) {
            case .success(let lead): valid.append(lead)
            case .failure(let problem): invalid.append(problem)
            }
        }
        return (valid, invalid)
    }
}
