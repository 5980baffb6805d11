import BulwarkFuzzTargets
import Foundation
import XCTest

/// Every committed input of the fuzz targets, run through them as the fuzzer runs them:
/// the seed corpora (Fuzz/corpus/<target>/) and the inputs that once broke something
/// (Fuzz/regressions/<target>/, one file per crash found). A broken invariant stops the
/// test process, naming the input.
final class FuzzCorpusTests: XCTestCase {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    func inputs(_ kind: String, _ target: FuzzTarget) throws -> [(String, Data)] {
        let dir = Self.fuzz.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return try names.sorted().map { ($0, try Data(contentsOf: dir.appendingPathComponent($0))) }
    }

    func testEveryTargetHasASeedCorpus() throws {
        for target in FuzzTarget.allCases {
            XCTAssertFalse(try inputs("corpus", target).isEmpty, "no seeds for \(target)")
        }
    }

    func testSeedsAndRegressionsRunClean() throws {
        for target in FuzzTarget.allCases {
            for kind in ["corpus", "regressions"] {
                for (name, data) in try inputs(kind, target) {
                    data.withUnsafeBytes { target.run($0) }
                    _ = name
                }
            }
        }
    }
}
