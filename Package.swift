// swift-tools-version:6.1
import PackageDescription

// The modules follow the data path, and each imports only modules above it in this
// file. The allowed graph is written once, in docs/ARCHITECTURE.md, and checked by
// scripts/check-imports.py (part of scripts/test).
let package = Package(
    name: "Bulwark",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bulwark", targets: ["bulwark"]),
        .executable(name: "bulwark-fuzz", targets: ["bulwark-fuzz"]),
        .executable(name: "bulwark-fuzz-api", targets: ["bulwark-fuzz-api"]),
        .library(name: "BulwarkWire", targets: ["BulwarkWire"]),
        .library(name: "BulwarkZoneFile", targets: ["BulwarkZoneFile"]),
        .library(name: "BulwarkZone", targets: ["BulwarkZone"]),
        .library(name: "BulwarkAuthority", targets: ["BulwarkAuthority"]),
        .library(name: "BulwarkDefences", targets: ["BulwarkDefences"]),
        .library(name: "BulwarkTransfer", targets: ["BulwarkTransfer"]),
        .library(name: "BulwarkPipeline", targets: ["BulwarkPipeline"]),
        .library(name: "BulwarkOps", targets: ["BulwarkOps"]),
        .library(name: "BulwarkServer", targets: ["BulwarkServer"]),
        .library(name: "BulwarkControl", targets: ["BulwarkControl"]),
        .library(name: "BulwarkConfig", targets: ["BulwarkConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The Linux calls, structs and macros Swift's Glibc module hides (recvmmsg, sendmmsg,
        // cmsg, in6_pktinfo, SO_ATTACH_REUSEPORT_CBPF, pthread_setname_np, malloc_trim).
        .target(name: "CBulwarkLinux"),
        // Wire format: names, messages, record data, EDNS. No networking, no Foundation on the parsing path.
        .target(name: "BulwarkWire"),
        // The vocabulary of every module's settings: listen addresses and ConfigError.
        .target(name: "BulwarkSettings"),
        // Zone files: the lexer, the reader (sequential and parallel) and the zone checker.
        .target(name: "BulwarkZoneFile", dependencies: ["BulwarkWire"]),
        // Zone data: immutable zones and zone sets, the store readers load atomically, and
        // the catalog every source of zones publishes through.
        .target(name: "BulwarkZone", dependencies: ["BulwarkWire", "CBulwarkLinux"]),
        // Authority: the RFC 1034 §4.3.2 lookup over a zone set and the response encoder. Pure.
        .target(name: "BulwarkAuthority", dependencies: ["BulwarkWire", "BulwarkZone"]),
        // Defences: response rate limiting, DNS cookies, access lists. Pure logic, no I/O.
        .target(name: "BulwarkDefences", dependencies: ["BulwarkWire"]),
        // Transfers: AXFR/IXFR (RFC 5936, RFC 1995), NOTIFY (RFC 1996), TSIG (RFC 8945),
        // the per-zone journal and zone differences. No sockets.
        .target(
            name: "BulwarkTransfer",
            dependencies: ["BulwarkWire", "BulwarkZone", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Pipeline: one worker's query path, bytes → parsed query → policy → lookup → rate
        // limiting → bytes, and the hand-off of TSIG, transfers and NOTIFY to the slow path.
        // Pure: no sockets, no threads; counting goes through the QueryObserver protocol.
        .target(
            name: "BulwarkPipeline",
            dependencies: [
                "BulwarkWire", "BulwarkZone", "BulwarkAuthority", "BulwarkDefences", "BulwarkTransfer",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Ops: per-worker query counters (allocation-free), heavy-hitter sketches and the
        // query-insight view, the log rate limiter, the Prometheus publisher. No sockets.
        .target(
            name: "BulwarkOps",
            dependencies: [
                "BulwarkDefences", "BulwarkZone", "BulwarkPipeline", "BulwarkSettings",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Server: the I/O. UDP workers and fair queues, TCP, zone loading and reload, transfers
        // out, the journal and NOTIFY, secondary zones; DNSServer ties them together.
        .target(
            name: "BulwarkServer",
            dependencies: [
                "BulwarkWire", "BulwarkZoneFile", "BulwarkZone", "BulwarkAuthority", "BulwarkDefences",
                "BulwarkTransfer", "BulwarkPipeline", "BulwarkOps", "BulwarkSettings", "CBulwarkLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The ops HTTP endpoint (Hummingbird): /metrics, /insight, /status, /dashboard. Reads
        // the server through the ServerStatusSource protocol.
        .target(
            name: "BulwarkOpsHTTP",
            dependencies: [
                "BulwarkOps", "BulwarkSettings",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Control plane: HTTP API (tenants, keys, zones, RRsets, history), its storage
        // protocol and the SQLite and PostgreSQL stores; publishes zones through ZoneCatalog.
        .target(
            name: "BulwarkControl",
            dependencies: [
                "BulwarkWire", "BulwarkZoneFile", "BulwarkZone", "BulwarkSettings",
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
        // Configuration: reads the YAML file and the flags into each module's settings.
        .target(
            name: "BulwarkConfig",
            dependencies: [
                "BulwarkSettings", "BulwarkWire", "BulwarkDefences", "BulwarkTransfer", "BulwarkOps",
                "BulwarkServer", "BulwarkControl",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "bulwark",
            dependencies: [
                "BulwarkWire", "BulwarkZoneFile", "BulwarkZone", "BulwarkServer", "BulwarkControl",
                "BulwarkOps", "BulwarkOpsHTTP", "BulwarkConfig", "BulwarkSettings",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Counts this thread's mallocs (interposes malloc/free): linked into tests only.
        // Fuzzing: the targets (each part that reads untrusted input, with the invariants
        // its output must keep) and the libFuzzer entry point (scripts/fuzz).
        .target(
            name: "BulwarkFuzzTargets",
            dependencies: [
                "BulwarkWire", "BulwarkZoneFile", "BulwarkZone", "BulwarkAuthority", "BulwarkDefences",
                "BulwarkTransfer", "BulwarkPipeline", "CLibFuzzer",
            ],
            exclude: ["Zones"]
        ),
        .target(name: "CLibFuzzer"),
        .executableTarget(name: "bulwark-fuzz", dependencies: ["BulwarkFuzzTargets"]),
        // The API's target apart: it brings the HTTP and SQL stacks into its build.
        .target(
            name: "BulwarkFuzzAPITargets",
            dependencies: [
                "BulwarkFuzzTargets", "BulwarkWire", "BulwarkZone", "BulwarkControl",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "bulwark-fuzz-api", dependencies: ["BulwarkFuzzAPITargets", "BulwarkFuzzTargets"]),
        .target(name: "CMallocCounter", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // What several test targets share: DNS message builders and a response reader, a
        // seeded random generator.
        .target(name: "BulwarkTestSupport", dependencies: ["BulwarkWire"], path: "Tests/BulwarkTestSupport"),
        .testTarget(name: "BulwarkWireTests", dependencies: ["BulwarkWire", "BulwarkTestSupport"]),
        .testTarget(name: "BulwarkFuzzTargetsTests", dependencies: ["BulwarkFuzzTargets", "BulwarkFuzzAPITargets"]),
        .testTarget(
            name: "BulwarkZoneFileTests", dependencies: ["BulwarkZoneFile", "BulwarkWire", "BulwarkTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "BulwarkZoneTests", dependencies: ["BulwarkZone", "BulwarkZoneFile", "BulwarkWire", "BulwarkTestSupport"]),
        .testTarget(
            name: "BulwarkAuthorityTests",
            dependencies: ["BulwarkAuthority", "BulwarkZone", "BulwarkZoneFile", "BulwarkWire", "BulwarkTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "BulwarkDefencesTests", dependencies: ["BulwarkDefences", "BulwarkWire"]),
        // Vectors/: the dnspython script that wrote TSIGVectors.swift.
        .testTarget(
            name: "BulwarkTransferTests",
            dependencies: ["BulwarkTransfer", "BulwarkZoneFile", "BulwarkZone", "BulwarkWire"],
            exclude: ["Vectors"]
        ),
        .testTarget(name: "BulwarkOpsTests", dependencies: ["BulwarkOps", "BulwarkZone", "BulwarkWire", "BulwarkTestSupport"]),
        .testTarget(
            name: "BulwarkPipelineTests",
            dependencies: [
                "BulwarkPipeline", "BulwarkAuthority", "BulwarkZone", "BulwarkZoneFile", "BulwarkWire",
                "BulwarkDefences", "BulwarkTransfer", "BulwarkOps", "BulwarkTestSupport", "CMallocCounter",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BulwarkServerTests",
            dependencies: [
                "BulwarkServer", "BulwarkZoneFile", "BulwarkZone", "BulwarkAuthority", "BulwarkWire",
                "BulwarkDefences", "BulwarkTransfer", "BulwarkPipeline", "BulwarkOps", "BulwarkSettings", "BulwarkConfig",
                "BulwarkTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "BulwarkConfigTests",
            dependencies: [
                "BulwarkConfig", "BulwarkServer", "BulwarkControl", "BulwarkOps", "BulwarkDefences",
                "BulwarkTransfer", "BulwarkSettings", "BulwarkWire",
            ]
        ),
        .testTarget(
            name: "BulwarkControlTests",
            dependencies: [
                "BulwarkControl", "BulwarkZoneFile", "BulwarkZone", "BulwarkWire", "BulwarkSettings", "BulwarkConfig",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
    ]
)
