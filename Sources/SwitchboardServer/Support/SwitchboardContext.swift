import Hummingbird
import Logging
import SwitchboardCore

/// Per-request state: who is calling (set by `AuthMiddleware`).
public struct SwitchboardContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// The authenticated caller; routes behind `AuthMiddleware` always have one.
    func caller() throws -> Principal {
        guard let principal else { throw APIError(.unauthorized, "API key required") }
        return principal
    }
}
