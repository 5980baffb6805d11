import BulwarkFuzzAPITargets
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

    /// Every target: name and how to run it.
    static let targets: [(String, @Sendable (UnsafeRawBufferPointer) -> Void)] =
        FuzzTarget.allCases.map { t in (t.rawValue, { t.run($0) }) } + FuzzAPITarget.allCases.map { t in (t.rawValue, { t.run($0) }) }

    func inputs(_ kind: String, _ target: String) throws -> [(String, Data)] {
        let dir = Self.fuzz.appendingPathComponent(kind).appendingPathComponent(target)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return try names.sorted().map { ($0, try Data(contentsOf: dir.appendingPathComponent($0))) }
    }

    func testEveryTargetHasASeedCorpus() throws {
        for (target, _) in Self.targets {
            XCTAssertFalse(try inputs("corpus", target).isEmpty, "no seeds for \(target)")
        }
    }

    func testSeedsAndRegressionsRunClean() throws {
        for (target, run) in Self.targets {
            for kind in ["corpus", "regressions"] {
                for (_, data) in try inputs(kind, target) {
                    data.withUnsafeBytes { run($0) }
                }
            }
        }
    }
}
