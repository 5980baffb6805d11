import XCTest
@testable import BulwarkDefences

final class RateLimiterTests: XCTestCase {
    func limiter(rate: Int = 10, window: Int = 5, slip: Int = 2, exempt: [String] = [], size: Int = 1024,
                 burst: Int? = nil) -> RateLimiter {
        var s = RateLimitSettings()
        s.responsesPerSecond = rate
        s.burst = burst
        s.window = window
        s.slip = slip
        s.exempt = exempt.map { try! AddressPrefix(parsing: $0) }
        s.tableSize = size
        return RateLimiter(settings: s, seed: 42)
    }

    let client = ClientAddress("192.0.2.1")!

    func actions(_ l: RateLimiter, _ n: Int, client: ClientAddress? = nil, name: UInt64 = 7, at t: UInt64 = 1000,
                 cost: Int = 1) -> [RateLimiter.Outcome.Action] {
        (0..<n).map { _ in l.account(client: client ?? self.client, kind: .answer, name: name, cost: cost, nowMillis: t).action }
    }

    func testBurstThenLimited() {
        let l = limiter(rate: 10)
        let a = actions(l, 30)
        XCTAssertEqual(a.prefix(10).filter { $0 == .send }.count, 10, "one second's worth at once")
        XCTAssertFalse(a.dropFirst(10).contains(.send))
    }

    func testBurstIsConfigurable() {
        // A burst of 3 at 10/s: three at once, then one per 100 ms.
        let l = limiter(rate: 10, window: 1, burst: 3)
        let a = actions(l, 10, at: 1000)
        XCTAssertEqual(a.prefix(3), [.send, .send, .send])
        XCTAssertFalse(a.dropFirst(3).contains(.send))
        // A second of quiet refills no more than the burst.
        let b = actions(l, 10, at: 3000)
        XCTAssertEqual(b.filter { $0 == .send }.count, 3)
        // A burst larger than the rate: 50 at once at 10/s.
        XCTAssertEqual(actions(limiter(rate: 10, burst: 50), 60).filter { $0 == .send }.count, 50)
    }

    func testSlipSequence() {
        XCTAssertEqual(actions(limiter(rate: 1, slip: 2), 7), [.send, .drop, .slip, .drop, .slip, .drop, .slip])
        XCTAssertEqual(actions(limiter(rate: 1, slip: 3), 7), [.send, .drop, .drop, .slip, .drop, .drop, .slip])
        XCTAssertEqual(actions(limiter(rate: 1, slip: 1), 4), [.send, .slip, .slip, .slip])
        XCTAssertEqual(actions(limiter(rate: 1, slip: 0), 4), [.send, .drop, .drop, .drop])
    }

    func testRefillsAtTheRate() {
        let l = limiter(rate: 10, window: 1)
        _ = actions(l, 10, at: 1000)  // the burst
        XCTAssertEqual(actions(l, 1, at: 1000), [.drop])  // debt: -1 response
        // 10/s: after 100 ms one response's worth, but the debt of the limited one first.
        XCTAssertEqual(actions(l, 1, at: 1100), [.slip])
        XCTAssertEqual(actions(l, 1, at: 1300), [.send])
        // Sustained at the rate: every 100 ms one response, all sent.
        var sent = 0
        for i in 1...50 { sent += actions(l, 1, at: 1300 + UInt64(i) * 100) == [.send] ? 1 : 0 }
        XCTAssertEqual(sent, 50)
    }

    func testWindowBoundsTheDebt() {
        let l = limiter(rate: 10, window: 2)
        _ = actions(l, 10_000, at: 1000)  // a long flood: debt floored at 2 s worth
        XCTAssertEqual(actions(l, 1, at: 1000 + 2000), [.drop])
        XCTAssertEqual(actions(l, 1, at: 1000 + 3200), [.send])
    }

    func testStartAndEndReported() {
        let l = limiter(rate: 1, window: 1)
        let o1 = l.account(client: client, kind: .answer, name: 1, cost: 1, nowMillis: 0)
        let o2 = l.account(client: client, kind: .answer, name: 1, cost: 1, nowMillis: 0)
        let o3 = l.account(client: client, kind: .answer, name: 1, cost: 1, nowMillis: 0)
        XCTAssertEqual(o1, .send)
        XCTAssertTrue(o2.started)
        XCTAssertFalse(o3.started)
        let o4 = l.account(client: client, kind: .answer, name: 1, cost: 1, nowMillis: 5000)
        XCTAssertEqual(o4.action, .send)
        XCTAssertTrue(o4.ended)
    }

    func testPrefixAggregationAndClasses() {
        let l = limiter(rate: 5)
        _ = actions(l, 5, client: ClientAddress("192.0.2.1")!)
        // Same /24: same bucket.
        XCTAssertEqual(actions(l, 1, client: ClientAddress("192.0.2.200")!), [.drop])
        // Another /24, another name, another class: their own buckets.
        XCTAssertEqual(actions(l, 1, client: ClientAddress("192.0.3.1")!), [.send])
        XCTAssertEqual(actions(l, 1, client: ClientAddress("192.0.2.1")!, name: 8), [.send])
        XCTAssertEqual(l.account(client: client, kind: .nxdomain, name: 7, cost: 1, nowMillis: 1000).action, .send)
        // IPv6: /56.
        _ = actions(l, 5, client: ClientAddress("2001:db8:0:100::1")!)
        XCTAssertEqual(actions(l, 1, client: ClientAddress("2001:db8:0:1ff::2")!), [.drop])
        XCTAssertEqual(actions(l, 1, client: ClientAddress("2001:db8:0:200::1")!), [.send])
    }

    func testCostCountsLargeAndANY() {
        XCTAssertEqual(RateLimiter.cost(responseSize: 100, qtype: 1), 1)
        XCTAssertEqual(RateLimiter.cost(responseSize: 512, qtype: 1), 1)
        XCTAssertEqual(RateLimiter.cost(responseSize: 513, qtype: 1), 2)
        XCTAssertEqual(RateLimiter.cost(responseSize: 1232, qtype: 1), 3)
        XCTAssertEqual(RateLimiter.cost(responseSize: 100, qtype: 255), 4)
        let l = limiter(rate: 10)
        XCTAssertEqual(actions(l, 4, cost: 3), [.send, .send, .send, .drop])
    }

    func testExempt() {
        let l = limiter(rate: 1, exempt: ["192.0.2.0/28", "2001:db8::/32"])
        XCTAssertTrue(l.isExempt(ClientAddress("192.0.2.15")!))
        XCTAssertFalse(l.isExempt(ClientAddress("192.0.2.16")!))
        XCTAssertTrue(l.isExempt(ClientAddress("2001:db8:1::1")!))
        XCTAssertFalse(l.isExempt(ClientAddress("2001:db9::1")!))
    }

    func testFixedMemoryUnderAMillionPrefixes() {
        let l = limiter(rate: 1, slip: 0, size: 65536)
        XCTAssertEqual(l.capacity, 65536)
        // A victim prefix being limited...
        let victim = ClientAddress("198.51.100.7")!
        _ = actions(l, 3, client: victim, at: 0)
        // ...then a million spoofed /24s, each new.
        for i in 0..<1_000_000 {
            let a = ClientAddress(ipv4: UInt32(0x0A00_0000 + (i << 8)))
            _ = l.account(client: a, kind: .answer, name: 7, cost: 1, nowMillis: UInt64(1 + i / 1000))
        }
        XCTAssertEqual(l.capacity, 65536, "the table never grows")
        XCTAssertLessThanOrEqual(l.occupied, 65536)
        XCTAssertGreaterThan(l.occupied, 60000)
        // The flood's own buckets: each source seen once is sent (a full bucket).
        XCTAssertEqual(l.limitedCount, 2)
    }

    func testRecentBucketsSurviveEviction() {
        let l = limiter(rate: 2, slip: 0, size: 64)
        // 64 slots, probe 8: fill them with old entries, then a fresh flooder stays limited
        // while older keys are the ones recycled.
        for i in 0..<64 { _ = l.account(client: ClientAddress(ipv4: UInt32(i << 8)), kind: .answer, name: 1, cost: 1, nowMillis: 0) }
        let flooder = ClientAddress("203.0.113.1")!
        _ = actions(l, 10, client: flooder, at: 100)
        for i in 64..<84 {
            _ = l.account(client: ClientAddress(ipv4: UInt32(i << 8)), kind: .answer, name: 1, cost: 1, nowMillis: 200)
        }
        XCTAssertEqual(actions(l, 1, client: flooder, at: 200), [.drop])
    }
}

final class AccessListTests: XCTestCase {
    func p(_ s: String) -> AddressPrefix { try! AddressPrefix(parsing: s) }
    func a(_ s: String) -> ClientAddress { ClientAddress(s)! }

    func testParsing() throws {
        XCTAssertEqual(p("192.0.2.0/24").length, 24)
        XCTAssertEqual(p("192.0.2.1").length, 32)
        XCTAssertEqual(p("2001:db8::/32").length, 32)
        XCTAssertEqual(p("::1").length, 128)
        XCTAssertThrowsError(try AddressPrefix(parsing: "192.0.2.1/24"))
        XCTAssertThrowsError(try AddressPrefix(parsing: "192.0.2.0/33"))
        XCTAssertThrowsError(try AddressPrefix(parsing: "example.com/24"))
        XCTAssertThrowsError(try AddressPrefix(parsing: "2001:db8::/129"))
        XCTAssertEqual(p("0.0.0.0/0").description, "0.0.0.0/0")
        XCTAssertEqual(a("::ffff:192.0.2.1"), a("192.0.2.1"), "IPv4-mapped is IPv4")
    }

    func testEmptyAllowsEveryone() {
        XCTAssertTrue(AccessList().allows(a("192.0.2.1")))
        XCTAssertTrue(AccessList().isEmpty)
    }

    func testDenyOnly() {
        let l = AccessList(deny: [p("192.0.2.0/24")])
        XCTAssertFalse(l.allows(a("192.0.2.9")))
        XCTAssertTrue(l.allows(a("192.0.3.9")))
        XCTAssertTrue(l.allows(a("2001:db8::1")))
    }

    func testAllowMeansOnlyThese() {
        let l = AccessList(allow: [p("10.0.0.0/8"), p("2001:db8::/32")])
        XCTAssertTrue(l.allows(a("10.1.2.3")))
        XCTAssertTrue(l.allows(a("2001:db8::5")))
        XCTAssertFalse(l.allows(a("192.0.2.1")))
        XCTAssertFalse(l.allows(.unknown))
    }

    func testLongestPrefixWins() {
        let l = AccessList(allow: [p("10.0.0.0/8"), p("10.1.2.0/24")], deny: [p("10.1.0.0/16")])
        XCTAssertTrue(l.allows(a("10.2.0.1")))    // /8 allow
        XCTAssertFalse(l.allows(a("10.1.3.1")))   // /16 deny
        XCTAssertTrue(l.allows(a("10.1.2.1")))    // /24 allow inside the denied /16
        // The same prefix in both: deny wins.
        XCTAssertFalse(AccessList(allow: [p("10.0.0.0/8")], deny: [p("10.0.0.0/8")]).allows(a("10.0.0.1")))
        // Everyone but one.
        let m = AccessList(allow: [p("0.0.0.0/0"), p("::/0")], deny: [p("192.0.2.66")])
        XCTAssertFalse(m.allows(a("192.0.2.66")))
        XCTAssertTrue(m.allows(a("192.0.2.67")))
        XCTAssertTrue(m.allows(a("::1")))
    }
}

final class NameHashTests: XCTestCase {
    func testCaseFoldedAndDistinct() {
        let l = RateLimiter(settings: RateLimitSettings(), seed: 7)
        func h(_ s: [UInt8]) -> UInt64 { s.withUnsafeBytes { l.nameHash($0) } }
        let www: [UInt8] = [3] + Array("www".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0]
        let WWW: [UInt8] = [3] + Array("WwW".utf8) + [7] + Array("ExAMPLE".utf8) + [3] + Array("COM".utf8) + [0]
        XCTAssertEqual(h(www), h(WWW))
        // Only A-Z fold: '@' (0x40), '[' (0x5b), and octets with the high bit differ.
        XCTAssertNotEqual(h([1, 0x40, 0]), h([1, 0x60, 0]))
        XCTAssertNotEqual(h([1, 0x5b, 0]), h([1, 0x7b, 0]))
        XCTAssertNotEqual(h([1, 0xC1, 0]), h([1, 0xE1, 0]))
        XCTAssertEqual(h([1, 0x41, 0]), h([1, 0x61, 0]))
        XCTAssertEqual(h([1, 0x5a, 0]), h([1, 0x7a, 0]))
        // Every octet of a long name counts.
        var a = [UInt8](repeating: 0x61, count: 40), b = a
        b[37] = 0x62
        XCTAssertNotEqual(h(a), h(b))
        a[9] = 0x41
        b = a; b[9] = 0x61
        XCTAssertEqual(h(a), h(b))
    }
}
