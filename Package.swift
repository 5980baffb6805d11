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
        .library(name: "BulwarkControl", targets: ["BulwarkControl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        // Control plane (issue 6): HTTP API and its embedded SQLite store.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        // --- operations (issue 7): metrics, Prometheus (the ops endpoint uses Hummingbird too) ---
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // --- end operations ---
        // Control plane on PostgreSQL (issue 6): several API nodes on one database.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Wire format: names, messages, record data, EDNS. No networking, no Foundation on the parsing path.
        .target(name: "BulwarkWire"),
        // Zones: zone-file reader, checker, in-memory zone, authoritative lookup. Pure and deterministic.
        .target(name: "BulwarkZone", dependencies: ["BulwarkWire", "CBulwarkLinux"]),
        // Defences: response rate limiting, DNS cookies, access lists. Pure logic, no I/O.
        .target(name: "BulwarkDefences"),
        // Transfers: AXFR/IXFR (RFC 5936, RFC 1995), NOTIFY (RFC 1996), TSIG (RFC 8945),
        // the per-zone journal and zone differences.
        .target(
            name: "BulwarkTransfer",
            dependencies: ["BulwarkWire", "BulwarkZone", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // --- operations (issue 7) ---
        // Ops: per-worker query counters (allocation-free), heavy-hitter sketches and the
        // query-insight view, the log rate limiter, the Prometheus publisher. No sockets.
        .target(
            name: "BulwarkOps",
            dependencies: [
                "BulwarkDefences",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The ops HTTP endpoint (Hummingbird): /metrics, /insight, /status, /dashboard.
        .target(
            name: "BulwarkOpsHTTP",
            dependencies: [
                "BulwarkOps", "BulwarkServer", "BulwarkZone", "BulwarkWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // --- end operations ---
        // Server: query pipeline, transports, configuration, reload.
        .target(
            name: "BulwarkServer",
            dependencies: [
                "BulwarkWire", "BulwarkZone", "BulwarkDefences", "BulwarkTransfer", "CBulwarkLinux",
                "BulwarkOps",  // operations (issue 7)
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
        // Control plane (issue 6): HTTP API (tenants, keys, zones, RRsets, history), its
        // storage protocol and the SQLite store; publishes zones through ZoneCatalog.
        .target(
            name: "BulwarkControl",
            dependencies: [
                "BulwarkWire", "BulwarkZone", "BulwarkServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "BulwarkControlTests",
            dependencies: [
                "BulwarkControl", "BulwarkServer", "BulwarkZone", "BulwarkWire",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "bulwark",
            dependencies: [
                "BulwarkWire", "BulwarkZone", "BulwarkServer", "BulwarkControl",
                "BulwarkOps", "BulwarkOpsHTTP",  // operations (issue 7)
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The Linux calls, structs and macros Swift's Glibc module hides (recvmmsg, sendmmsg,
        // cmsg, in6_pktinfo, SO_ATTACH_REUSEPORT_CBPF, pthread_setname_np, malloc_trim).
        .target(name: "CBulwarkLinux"),
        // Counts this thread's mallocs (interposes malloc/free): linked into tests only.
        .target(name: "CMallocCounter", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .testTarget(name: "BulwarkWireTests", dependencies: ["BulwarkWire"]),
        .testTarget(name: "BulwarkZoneTests", dependencies: ["BulwarkZone", "BulwarkWire"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BulwarkDefencesTests", dependencies: ["BulwarkDefences"]),
        // Vectors/: the dnspython script that wrote TSIGVectors.swift.
        .testTarget(name: "BulwarkTransferTests", dependencies: ["BulwarkTransfer", "BulwarkZone", "BulwarkWire"], exclude: ["Vectors"]),
        .testTarget(name: "BulwarkOpsTests", dependencies: ["BulwarkOps"]),  // operations (issue 7)
        .testTarget(
            name: "BulwarkServerTests",
            dependencies: [
                "BulwarkServer", "BulwarkZone", "BulwarkWire", "BulwarkDefences", "CMallocCounter",
                "BulwarkOps",  // operations (issue 7)
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
