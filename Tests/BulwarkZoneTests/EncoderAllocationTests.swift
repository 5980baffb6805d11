#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import BulwarkZone

/// The query path allocates nothing once warm. Needs a malloc counter preloaded
/// (a library exporting `bulwark_malloc_count`, e.g. LD_PRELOAD=libcount.so); skipped otherwise.
final class EncoderAllocationTests: XCTestCase {
    func testRespondAllocatesNothingWhenWarm() throws {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "bulwark_malloc_count") else {
            throw XCTSkip("no malloc counter preloaded")
        }
        typealias Counter = @convention(c) () -> Int
        let count = unsafeBitCast(symbol, to: Counter.self)
        let set = AuthorityFixtures.set
        let names: [(String, RRType)] = [
            ("web.example.com.", .a), ("nx.example.com.", .a), ("x.deleg.example.com.", .a), ("www.example.com.", .a),
            ("ext.example.com.", .a), ("www.d.example.com.", .a), ("x.wild.example.com.", .mx), ("example.com.", .any),
            ("big.example.com.", .txt), ("x.manyns.example.com.", .a), ("foo.org.", .a), ("loop1.example.com.", .a),
            ("child.example.com.", .ds), ("b.c.example.com.", .a),
        ]
        var messages: [[UInt8]] = []
        var queries: [ParsedQuery] = []
        for (n, t) in names {
            let m = try TestWire.query(n, t, edns: 1232)
            messages.append(m)
            guard case .query(let q) = m.withUnsafeBytes({ QueryParser.parse($0) }) else { return XCTFail() }
            queries.append(q)
        }
        // DNSSEC answers (DO) from the NSEC zone.
        let secure = ZoneSet(zones: [try AuthorityFixtures.zone("sec.test.")])
        let secureFrom = messages.count
        for (n, t) in [("a.sec.test.", RRType.a), ("b.sec.test.", .a), ("x.w.sec.test.", .txt), ("x.u.sec.test.", .a)] {
            let m = try TestWire.query(n, t, edns: 1232, dnssecOK: true)
            messages.append(m)
            guard case .query(let q) = m.withUnsafeBytes({ QueryParser.parse($0) }) else { return XCTFail() }
            queries.append(q)
        }
        var scratch = AnswerScratch()
        var out = [UInt8](repeating: 0, count: 65535)
        var total = 0
        func run() {
            out.withUnsafeMutableBytes { o in
                for i in messages.indices {
                    messages[i].withUnsafeBytes { m in
                        total &+= (i < secureFrom ? set : secure).respond(
                            to: queries[i], message: m, into: o, maxSize: 1232, ourPayloadSize: 1232, scratch: &scratch)
                    }
                }
            }
        }
        run()
        let before = count()
        for _ in 0..<100 { run() }
        let after = count()
        XCTAssertEqual(after - before, 0, "allocations in 100 rounds of responses")
        if after != before {
            // Which queries allocate.
            out.withUnsafeMutableBytes { o in
                for i in messages.indices {
                    let b = count()
                    messages[i].withUnsafeBytes { m in
                        total &+= (i < secureFrom ? set : secure).respond(
                            to: queries[i], message: m, into: o, maxSize: 1232, ourPayloadSize: 1232, scratch: &scratch)
                    }
                    print("allocations: query \(i): \(count() - b)")
                }
            }
        }
        XCTAssertGreaterThan(total, 0)
        #else
        throw XCTSkip("Linux only")
        #endif
    }

    /// Responses per second on one core for a mix of answers ($BULWARK_BENCH=1; use a release build).
    func testThroughput() throws {
        guard ProcessInfo.processInfo.environment["BULWARK_BENCH"] != nil else { throw XCTSkip("BULWARK_BENCH not set") }
        let set = AuthorityFixtures.set
        let names: [(String, RRType)] = [
            ("web.example.com.", .a), ("nx.example.com.", .a), ("x.deleg.example.com.", .a), ("www.example.com.", .a),
            ("x.wild.example.com.", .mx), ("example.com.", .ns), ("b.c.example.com.", .a), ("host3.example.", .mx),
        ]
        var messages: [[UInt8]] = []
        var queries: [ParsedQuery] = []
        for (n, t) in names {
            let m = try TestWire.query(n, t, edns: 1232)
            messages.append(m)
            guard case .query(let q) = m.withUnsafeBytes({ QueryParser.parse($0) }) else { return XCTFail() }
            queries.append(q)
        }
        var scratch = AnswerScratch()
        var out = [UInt8](repeating: 0, count: 65535)
        var total = 0
        let rounds = 200_000
        let start = DispatchTime.now().uptimeNanoseconds
        out.withUnsafeMutableBytes { o in
            for _ in 0..<rounds {
                for i in messages.indices {
                    messages[i].withUnsafeBytes { m in
                        total &+= set.respond(to: queries[i], message: m, into: o, maxSize: 1232, ourPayloadSize: 1232,
                                              scratch: &scratch)
                    }
                }
            }
        }
        let ns = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(rounds * messages.count)
        print("respond: \(String(format: "%.0f", ns)) ns per response (\(total) bytes)")
    }
}
