import BulwarkTestSupport
import XCTest
@testable import BulwarkWire

/// Random and mutated messages must never trap the parser: each is dropped or answered.
final class QueryParserFuzzTests: XCTestCase {
    func testRandomAndMutatedMessagesNeverTrap() {
        var rng = TestSeed.generator(42)
        var seed = QueryBuilder(); seed.ar = 1
        seed.rest = QueryBuilder.opt(flags: 0x8000, options: [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8])
        let valid = seed.bytes()
        var counts = [String: Int]()
        for i in 0..<100_000 {
            var msg: [UInt8]
            if i % 2 == 0 {
                msg = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                msg = valid
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 0..<msg.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: msg[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
                    case 1: msg[at] = UInt8.random(in: 0...255, using: &rng)
                    case 2: msg.removeLast(Int.random(in: 0...min(8, msg.count - 1), using: &rng))
                    default: msg[at] = 0xC0
                    }
                    if msg.isEmpty { break }
                }
            }
            switch parse(msg) {
            case .drop: counts["drop", default: 0] += 1
            case .query: counts["query", default: 0] += 1
            case .error(let rc, _, _, let qlen, _):
                counts[rc.description, default: 0] += 1
                XCTAssertLessThanOrEqual(12 + qlen + 4, max(msg.count, 16))
            }
        }
        XCTAssertGreaterThan(counts["query", default: 0], 100)
        XCTAssertGreaterThan(counts["FORMERR", default: 0], 100)
    }
}
