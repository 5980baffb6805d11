// swift-tools-version:6.1
// Micro-benchmarks of the query path (parse, lookup, encode, the whole responder), with
// malloc counts. A separate package so that the main build and CI never compile the
// benchmark framework. Run: scripts/bench.sh --micro, or here: swift package benchmark
import PackageDescription

let package = Package(
    name: "BulwarkBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Bulwark", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "QueryPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "BulwarkWire", package: "Bulwark"),
                .product(name: "BulwarkZoneFile", package: "Bulwark"),
                .product(name: "BulwarkZone", package: "Bulwark"),
                .product(name: "BulwarkAuthority", package: "Bulwark"),
                .product(name: "BulwarkDefences", package: "Bulwark"),
                .product(name: "BulwarkPipeline", package: "Bulwark"),
            ],
            path: "Benchmarks/QueryPath",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
