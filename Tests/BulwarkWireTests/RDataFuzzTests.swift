import BulwarkTestSupport
import XCTest
@testable import BulwarkWire

/// Mutated rdata never traps, and whatever validates formats to text that parses back to
/// the same octets (so a zone written out by Bulwark reads back identically).
final class RDataFuzzTests: XCTestCase {
    /// RDATA_FUZZ_ITERATIONS and RDATA_FUZZ_SEED run it longer locally.
    static let iterations = Int(ProcessInfo.processInfo.environment["RDATA_FUZZ_ITERATIONS"] ?? "") ?? 400
    /// BULWARK_TEST_SEED (or the older RDATA_FUZZ_SEED) reruns a failure.
    static let seed = TestSeed.value(UInt64(ProcessInfo.processInfo.environment["RDATA_FUZZ_SEED"] ?? "") ?? 42,
                                     test: "RDataFuzzTests")

    func testMutatedRDataRoundTrips() throws {
        var rng = SplitMix64(state: Self.seed)
        var seeds: [(RRType, [UInt8])] = []
        for (type, text, _) in RDataRoundTripTests.cases {
            seeds.append((type, try parseRData(type, text)))
        }
        var accepted = 0, total = 0
        for (type, seed) in seeds {
            for _ in 0..<Self.iterations {
                var r = seed
                for _ in 0..<(1 + rng.below(3)) {
                    switch rng.below(5) {
                    case 0 where !r.isEmpty: r[rng.below(r.count)] = UInt8(truncatingIfNeeded: rng.next())
                    case 1 where !r.isEmpty: r[rng.below(r.count)] ^= UInt8(1) << UInt8(rng.below(8))
                    case 2 where !r.isEmpty: r.remove(at: rng.below(r.count))
                    case 3: r.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(r.count + 1))
                    default: if !r.isEmpty { r.removeLast(rng.below(min(r.count, 4)) + 1) }
                    }
                }
                total += 1
                let text = RDataText.format(type: type, rdata: r)
                _ = RDataWire.embeddedNames(type: type, rdata: r)
                _ = RDataWire.targetName(type: type, rdata: r)
                guard (try? RDataWire.validate(type: type, rdata: r)) != nil else {
                    XCTAssertTrue(text.hasPrefix("\\# "), "\(type) invalid rdata formatted as '\(text)'")
                    continue
                }
                accepted += 1
                do {
                    let back = try parseRData(type, text, origin: .root)
                    XCTAssertEqual(back, r, "\(type) '\(text)'")
                } catch {
                    XCTFail("\(type) valid rdata \(r) formatted as '\(text)' does not parse: \(error)")
                }
                // Reading from a message (names of compressible types go through the decompressor).
                let msg = [UInt8](repeating: 0, count: 12) + r
                let read = msg.withUnsafeBytes { buf in
                    Result { () throws(WireError) -> [UInt8] in
                        var reader = WireReader(buf, offset: 12)
                        return try RDataWire.read(type: type, from: &reader, length: r.count)
                    }
                }
                XCTAssertEqual(try? read.get(), r, "\(type) read")
            }
        }
        print("fuzz: \(accepted) of \(total) mutated rdata valid")
    }

    /// Mutated presentation text never traps, and whatever parses is valid rdata of its type.
    func testMutatedTextParsesToValidRData() {
        var rng = SplitMix64(state: Self.seed &+ 1)
        let alphabet = Array(" .:-\\\"0123456789abcdefABCDEF=,;()@#/!mNSEW".utf8)
        var parsed = 0, total = 0
        for (type, text, _) in RDataRoundTripTests.cases {
            let seed = Array(text.utf8)
            for _ in 0..<Self.iterations {
                var t = seed
                for _ in 0..<(1 + rng.below(3)) {
                    let c = rng.below(4) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[rng.below(alphabet.count)]
                    switch rng.below(3) {
                    case 0 where !t.isEmpty: t[rng.below(t.count)] = c
                    case 1 where !t.isEmpty: t.remove(at: rng.below(t.count))
                    default: t.insert(c, at: rng.below(t.count + 1))
                    }
                }
                total += 1
                let fields = lexFields(String(decoding: t, as: UTF8.self))
                guard let wire = try? RDataText.parse(type: type, fields: fields, origin: testOrigin) else { continue }
                parsed += 1
                XCTAssertNoThrow(try RDataWire.validate(type: type, rdata: wire), "\(type) '\(String(decoding: t, as: UTF8.self))'")
                XCTAssertEqual(try? parseRData(type, RDataText.format(type: type, rdata: wire)), wire,
                               "\(type) '\(String(decoding: t, as: UTF8.self))' -> '\(RDataText.format(type: type, rdata: wire))'")
            }
        }
        print("text fuzz: \(parsed) of \(total) mutated texts parsed")
    }
}
