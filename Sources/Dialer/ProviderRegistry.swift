import SwitchboardCore

/// The carriers this process can dial through, by the name a phone number records.
public struct ProviderRegistry: Sendable {
    private let providers: [ProviderName: any TelephonyProvider]

    public init(_ providers: [any TelephonyProvider]) {
        self.providers = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func provider(named name: ProviderName) -> (any TelephonyProvider)? { providers[name] }
    public var names: [String] { providers.keys.sorted().map(\.rawValue) }
}
