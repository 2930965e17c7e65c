import Hummingbird
import Logging
import SwitchboardCore

/// Per-request state: who is calling (set by `AuthMiddleware`, or `ConsoleSessionMiddleware`
/// from the console's cookie).
public struct SwitchboardContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    /// In the web console: the signed-in session's CSRF token, and the form posted (checked
    /// against it by `ConsoleSessionMiddleware`).
    var csrf: String?
    var form = FormFields()

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// The authenticated caller; routes behind `AuthMiddleware` always have one.
    func caller() throws -> Principal {
        guard let principal else { throw APIError(.unauthorized, "API key required") }
        return principal
    }
}
