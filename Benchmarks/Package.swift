// swift-tools-version:6.1
// Micro-benchmarks of the query path (parse, lookup, encode, the whole responder), with
// malloc counts, and figures for many zones in one catalog (ZoneSetFigures). A separate
// package so that the main build and CI never compile the benchmark framework.
// Run: scripts/bench.sh --micro, or here: swift package benchmark
import PackageDescription

/// The products of this repository's package, by name.
func bulwark(_ names: String...) -> [Target.Dependency] { names.map { .product(name: $0, package: "Bulwark") } }

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
            dependencies: [.product(name: "Benchmark", package: "benchmark")] + bulwark(
                "BulwarkWire", "BulwarkZoneFile", "BulwarkZone", "BulwarkAuthority", "BulwarkDefences", "BulwarkPipeline"
            ),
            path: "Benchmarks/QueryPath",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Figures for a catalog of many small zones (the zone modules and the ops counters
        // only): the time to build them and publish them at once, memory per zone, one more
        // publish beside them and what a worker's counters do after it, and a lookup's and
        // a whole answer's cost with them all held.
        // Run: swift run -c release ZoneSetFigures [zones]
        .executableTarget(
            name: "ZoneSetFigures",
            dependencies: bulwark("BulwarkWire", "BulwarkZone", "BulwarkAuthority", "BulwarkOps"),
            path: "Benchmarks/ZoneSetFigures"
        ),
    ]
)
