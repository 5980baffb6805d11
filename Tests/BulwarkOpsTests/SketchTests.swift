import XCTest
@testable import BulwarkOps

final class SpaceSavingTests: XCTestCase {
    /// A deterministic generator (tests must not depend on the run).
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func key(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// A skewed stream (Zipf-like: name i asked about 1/i as often) over 5,000 names: the
    /// heaviest names come out on top, in order, with counts inside the error bound.
    func testFindsHeavyHittersInASkewedStream() {
        var rng = SplitMix(state: 42)
        var sketch = SpaceSaving(capacity: 64, keyCapacity: 255)
        var truth: [String: UInt64] = [:]
        // Cumulative weights 1/i.
        let n = 5000
        var cumulative: [Double] = []
        var sum = 0.0
        for i in 1...n { sum += 1 / Double(i); cumulative.append(sum) }
        for _ in 0..<200_000 {
            let u = Double(rng.next() % 1_000_000) / 1_000_000 * sum
            var lo = 0, hi = n - 1
            while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] < u { lo = mid + 1 } else { hi = mid } }
            let name = "name\(lo + 1).example."
            truth[name, default: 0] += 1
            sketch.add(key(name))
        }
        let top = sketch.top(5)
        XCTAssertEqual(top.map { String(decoding: $0.key, as: UTF8.self) },
                       (1...5).map { "name\($0).example." })
        for item in sketch.top() {
            let t = truth[String(decoding: item.key, as: UTF8.self)] ?? 0
            XCTAssertLessThanOrEqual(item.count - item.error, t, "lower bound")
            XCTAssertGreaterThanOrEqual(item.count, t, "upper bound")
        }
        // Every name with frequency > N/k is monitored (the Space-Saving guarantee).
        let threshold = UInt64(200_000 / 64)
        let monitored = Set(sketch.top().map { String(decoding: $0.key, as: UTF8.self) })
        for (name, c) in truth where c > threshold { XCTAssertTrue(monitored.contains(name), name) }
        XCTAssertEqual(sketch.total, 200_000)
    }

    /// A random-subdomain flood (every name new) beside one real heavy name: memory does not
    /// grow, at most k keys are held, and the heavy name stays on top.
    func testBoundedMemoryUnderRandomSubdomains() {
        var rng = SplitMix(state: 7)
        var sketch = SpaceSaving(capacity: 256, keyCapacity: 255)
        let before = sketch.memoryBytes
        for i in 0..<300_000 {
            if i % 10 == 0 {
                sketch.add(key("www.example.com."))
            } else {
                sketch.add(key(String(rng.next(), radix: 36) + ".victim.example."))
            }
        }
        XCTAssertEqual(sketch.memoryBytes, before, "the sketch grew")
        XCTAssertLessThanOrEqual(sketch.monitored, 256)
        XCTAssertEqual(String(decoding: sketch.top(1)[0].key, as: UTF8.self), "www.example.com.")
        XCTAssertGreaterThanOrEqual(sketch.top(1)[0].count, 30_000)
    }

    /// Keys that replace each other keep the index consistent (backward-shift deletion).
    func testReplacementKeepsLookupsConsistent() {
        var sketch = SpaceSaving(capacity: 4, keyCapacity: 16)
        for round in 0..<1000 {
            sketch.add(key("k\(round % 7)"))
            sketch.add(key("hot"))
        }
        XCTAssertEqual(String(decoding: sketch.top(1)[0].key, as: UTF8.self), "hot")
        XCTAssertEqual(sketch.top(1)[0].error, 0, "the hot key was never evicted")
        XCTAssertEqual(sketch.top(1)[0].count, 1000)
        XCTAssertEqual(Set(sketch.top().map(\.key)).count, sketch.monitored, "a key is held twice")
    }

    func testMergeAddsCounts() {
        var a = SpaceSaving(capacity: 8, keyCapacity: 16), b = SpaceSaving(capacity: 8, keyCapacity: 16)
        for _ in 0..<5 { a.add(key("x")) }
        for _ in 0..<7 { b.add(key("x")); b.add(key("y")) }
        a.merge(b)
        XCTAssertEqual(a.top(2).map(\.count), [12, 7])
        // Errors carry over: a key that entered a slice by eviction stays uncertain.
        var full = SpaceSaving(capacity: 1, keyCapacity: 16)
        full.add(key("old"))
        full.add(key("old"))
        full.add(key("new"))  // evicts: count 3, error 2
        var merged = SpaceSaving(capacity: 4, keyCapacity: 16)
        merged.merge(full)
        XCTAssertEqual(merged.top(1)[0].count, 3)
        XCTAssertEqual(merged.top(1)[0].error, 2)
    }
}

final class SampleRingTests: XCTestCase {
    func testPushDrainAndFull() {
        let ring = SampleRing(capacity: 4)
        let name: [UInt8] = [3, 0x77, 0x77, 0x77, 0]
        name.withUnsafeBytes { n in
            for i in 0..<4 {
                XCTAssertTrue(ring.push(name: n, qtype: UInt16(i), rcode: 3, family: 4, tcp: false, high: 0xC000_0201 << 32, low: 0))
            }
            XCTAssertFalse(ring.push(name: n, qtype: 9, rcode: 0, family: 4, tcp: false, high: 0, low: 0), "full")
        }
        var got: [QuerySample] = []
        XCTAssertEqual(ring.drain { got.append($0) }, 4)
        XCTAssertEqual(got.map(\.qtype), [0, 1, 2, 3])
        XCTAssertEqual(got[0].name, name)
        XCTAssertEqual(got[0].rcode, 3)
        XCTAssertEqual(ring.drain { _ in }, 0)
        name.withUnsafeBytes { n in
            XCTAssertTrue(ring.push(name: n, qtype: 5, rcode: 0, family: 6, tcp: true, high: 1, low: 2), "room again")
        }
    }
}
