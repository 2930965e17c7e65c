import Foundation

extension Schemas {
    /// `Health`.
    struct Health: Encodable, Sendable {
        var status: String
        var error: String?
    }

    /// `Error`: Teli's failure envelope.
    struct Error: Encodable, Sendable {
        var success = false
        var error: String
        var powered_by: String
    }

    /// `BatchError`: the batch-calling API's (FastAPI's) — a list of problems for bad input,
    /// a sentence otherwise.
    enum BatchError: Encodable, Sendable {
        case invalid([Problem])
        case message(String)

        struct Problem: Encodable, Sendable {
            var loc: [String]
            var msg: String
            var type = "value_error"
        }

        private enum Key: String, CodingKey { case detail }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            switch self {
            case .invalid(let problems): try container.encode(problems, forKey: .detail)
            case .message(let message): try container.encode(message, forKey: .detail)
            }
        }
    }
}
