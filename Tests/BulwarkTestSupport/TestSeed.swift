#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The seed of a randomized test: `BULWARK_TEST_SEED` when set (to rerun a failure),
/// else the test's own default, so runs are reproducible. Printed, with how to rerun.
public enum TestSeed {
    public static func value(_ defaultSeed: UInt64, test: String = #function, file: String = #fileID) -> UInt64 {
        var seed = defaultSeed
        if let text = getenv("BULWARK_TEST_SEED"), let given = UInt64(String(cString: text)) {
            seed = given
        }
        let name = file.split(separator: "/").last.map { String($0.dropLast(6)) } ?? file
        print("\(name).\(test): seed \(seed) (rerun: BULWARK_TEST_SEED=\(seed) swift test --filter \(name))")
        return seed
    }

    /// The seeds of a test that runs several: `BULWARK_TEST_SEED` alone when set, else
    /// `defaults`. Printed, with how to rerun one.
    public static func values(_ defaults: [UInt64], test: String = #function, file: String = #fileID) -> [UInt64] {
        if getenv("BULWARK_TEST_SEED") != nil { return [value(defaults[0], test: test, file: file)] }
        let name = file.split(separator: "/").last.map { String($0.dropLast(6)) } ?? file
        print("\(name).\(test): seeds \(defaults.map(String.init).joined(separator: ", "))"
              + " (rerun one: BULWARK_TEST_SEED=N swift test --filter \(name))")
        return defaults
    }

    /// A generator seeded by `value`.
    public static func generator(_ defaultSeed: UInt64, test: String = #function, file: String = #fileID) -> SplitMix64 {
        SplitMix64(seed: value(defaultSeed, test: test, file: file))
    }
}
