// swift-tools-version:6.2
import PackageDescription

/// Every import a file uses is declared in its own file (SE-0444), so a target's dependencies
/// are what its files say, not what another file happened to import.
let strict: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Tests only: reads openapi.yaml to hold every response against it.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // Domain, decisions and ports: records, states, planners; no NIO, no HTTP, no SQL, no I/O.
        .target(
            name: "SwitchboardCore",
            swiftSettings: strict
        ),
        // What Swift cannot call in sqlite-nio's bundled SQLite (a variadic configuration call).
        .target(
            name: "CSQLiteConfig",
            dependencies: [.product(name: "SQLiteNIO", package: "sqlite-nio")]
        ),
        // The one place that writes SQL, over `any SQLDatabase`; implements the engines' ports.
        .target(
            name: "Store",
            dependencies: [
                "SwitchboardCore",
                "CSQLiteConfig",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TelephonySimulator",
            dependencies: ["SwitchboardCore"],
            swiftSettings: strict
        ),
        // Our SIP user agent over UDP: dials SIP trunks.
        .target(
            name: "TelephonySIP",
            dependencies: [
                "SwitchboardCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The one loop the engines run: passes, chores, waking, a graceful shutdown deadline.
        .target(
            name: "Workers",
            dependencies: [
                "SwitchboardCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The dialer: claims through the DialQueue port, dials, writes outcomes, reaps expired
        // claims; and the relay that hands carrier reports received by other processes to this
        // one's dials (through the store).
        .target(
            name: "Dialer",
            dependencies: [
                "SwitchboardCore", "Store", "Workers",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // What the HTTP carriers share: a REST client that backs off on 429, and the wait for
        // a call's callbacks.
        .target(
            name: "TelephonyHTTP",
            dependencies: [
                "SwitchboardCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Twilio Programmable Voice and Messaging: REST calls and texts, signed callbacks.
        .target(
            name: "TelephonyTwilio",
            dependencies: [
                "SwitchboardCore", "TelephonyHTTP",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Vobiz (Plivo-compatible): make call, signed answer/hang-up callbacks.
        .target(
            name: "TelephonyVobiz",
            dependencies: [
                "SwitchboardCore", "TelephonyHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The agent runtime, one for SMS and voice: an OpenAI-compatible chat client, message
        // templates, tools and extraction.
        .target(
            name: "Agents",
            dependencies: [
                "SwitchboardCore", "TelephonyHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The voice pipeline: 20 ms frames in and out over any transport, endpointing, barge-in,
        // speech services (OpenAI-compatible, or espeak-ng), the turn loop and the recording.
        .target(
            name: "Voice",
            dependencies: [
                "SwitchboardCore", "Agents", "Workers",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The SMS engine: conversations (starting messages, drips, agent replies) and the paced
        // outbox that sends them.
        .target(
            name: "Messaging",
            dependencies: [
                "SwitchboardCore", "Agents", "Workers",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The outbox's sender: signed deliveries of webhook events, retried on a schedule, over
        // connections of its own to public addresses only (unless the operator allows more).
        .target(
            name: "Webhooks",
            dependencies: [
                "SwitchboardCore", "Workers",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The contract: openapi.yaml, served at /openapi.yaml; the generator checks it and
        // produces the types the tests may decode responses with.
        .target(
            name: "SwitchboardAPI",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            resources: [.copy("openapi.yaml")],
            swiftSettings: [.unsafeFlags(["-suppress-warnings"])],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // Composition root: buildApplication(config), used by main and by the tests.
        .target(
            name: "SwitchboardServer",
            dependencies: [
                "SwitchboardCore", "Store", "Dialer", "TelephonySimulator", "TelephonySIP", "TelephonyTwilio", "TelephonyVobiz", "SwitchboardAPI", "Webhooks",
                "Agents", "Messaging", "Voice",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The web console's templates, stylesheet and script, served by the binary.
            resources: [.copy("Console/Templates"), .copy("Console/Assets")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "SwitchboardServer", "Store", "SwitchboardCore", "Dialer", "TelephonySimulator", "Messaging", "TelephonySIP", "Voice", "Agents",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SwitchboardCoreTests",
            dependencies: ["SwitchboardCore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SwitchboardTests",
            dependencies: [
                "SwitchboardServer", "Store", "Dialer", "TelephonySimulator", "TelephonySIP", "TelephonyTwilio", "TelephonyVobiz", "SwitchboardCore", "SwitchboardAPI", "Webhooks",
                "Agents", "Messaging", "Workers", "Voice",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Yams", package: "Yams"),
            ],
            // The SIPp scenario the SIP trunk tests run.
            resources: [.copy("SIPp")],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
