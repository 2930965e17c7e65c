import Foundation

/// The contract, as served at `/openapi.yaml`. The generator plugin reads the same file and
/// produces `Components.Schemas.*`, which the tests decode real responses into.
public enum OpenAPIDocument {
    public static func yaml() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }
}
