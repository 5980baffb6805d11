// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Bulwark",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bulwark", targets: ["bulwark"]),
        .library(name: "BulwarkWire", targets: ["BulwarkWire"]),
        .library(name: "BulwarkZone", targets: ["BulwarkZone"]),
        .library(name: "BulwarkDefences", targets: ["BulwarkDefences"]),
        .library(name: "BulwarkTransfer", targets: ["BulwarkTransfer"]),
        .library(name: "BulwarkServer", targets: ["BulwarkServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // Wire format: names, messages, record data, EDNS. No networking, no Foundation on the parsing path.
        .target(name: "BulwarkWire"),
        // Zones: zone-file reader, checker, in-memory zone, authoritative lookup. Pure and deterministic.
        .target(name: "BulwarkZone", dependencies: ["BulwarkWire"]),
        // Defences: response rate limiting, DNS cookies, access lists. Pure logic, no I/O.
        .target(name: "BulwarkDefences"),
        // Transfers: AXFR/IXFR (RFC 5936, RFC 1995), NOTIFY (RFC 1996), TSIG (RFC 8945),
        // the per-zone journal and zone differences.
        .target(
            name: "BulwarkTransfer",
            dependencies: ["BulwarkWire", "BulwarkZone", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Server: query pipeline, transports, configuration, reload.
        .target(
            name: "BulwarkServer",
            dependencies: [
                "BulwarkWire", "BulwarkZone", "BulwarkDefences", "BulwarkTransfer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "bulwark",
            dependencies: [
                "BulwarkWire", "BulwarkZone", "BulwarkServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Counts this thread's mallocs (interposes malloc/free): linked into tests only.
        .target(name: "CMallocCounter", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .testTarget(name: "BulwarkWireTests", dependencies: ["BulwarkWire"]),
        .testTarget(name: "BulwarkZoneTests", dependencies: ["BulwarkZone", "BulwarkWire"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BulwarkDefencesTests", dependencies: ["BulwarkDefences"]),
        // Vectors/: the dnspython script that wrote TSIGVectors.swift.
        .testTarget(name: "BulwarkTransferTests", dependencies: ["BulwarkTransfer", "BulwarkZone", "BulwarkWire"], exclude: ["Vectors"]),
        .testTarget(
            name: "BulwarkServerTests",
            dependencies: [
                "BulwarkServer", "BulwarkZone", "BulwarkWire", "BulwarkDefences", "CMallocCounter",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
