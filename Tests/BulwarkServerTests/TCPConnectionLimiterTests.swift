import BulwarkDefences
import BulwarkTestSupport
import Foundation
import XCTest
@testable import BulwarkServer

/// The TCP limit bookkeeping, without sockets: admission, the per-client cap, eviction
/// order when full, and the configuration keys that set it.
final class TCPConnectionLimiterTests: XCTestCase {
    let a = ClientAddress(ipv4: 0x7F00_000A)  // 127.0.0.10
    let b = ClientAddress(ipv4: 0x7F01_0042)  // 127.1.0.66
    let c = ClientAddress(ipv4: 0x7F02_0042)  // 127.2.0.66

    func accepted(_ admission: TCPConnectionLimiter.Admission, file: StaticString = #filePath,
                  line: UInt = #line) -> (id: UInt64, evicting: UInt64?) {
        guard case .accept(let id, let evicting) = admission else {
            XCTFail("expected accept, got \(admission)", file: file, line: line)
            return (0, nil)
        }
        return (id, evicting)
    }

    func testAcceptsUpToTheLimitsAndCounts() {
        var l = TCPConnectionLimiter(maxConnections: 4, maxPerClient: 2)
        let first = accepted(l.open(client: a, now: 0))
        XCTAssertNil(first.evicting)
        _ = accepted(l.open(client: a, now: 1))
        _ = accepted(l.open(client: b, now: 2))
        XCTAssertEqual(l.count, 3)
        XCTAssertEqual(l.count(for: a), 2)
        XCTAssertEqual(l.count(for: b), 1)
        XCTAssertEqual(l.count(for: c), 0)
        l.close(first.id)
        XCTAssertEqual(l.count, 2)
        XCTAssertEqual(l.count(for: a), 1)
        l.close(first.id)  // twice: no effect
        XCTAssertEqual(l.count, 2)
        XCTAssertEqual(l.count(for: a), 1)
    }

    func testPerClientLimitEvictsTheClientsOwnIdleConnection() {
        var l = TCPConnectionLimiter(maxConnections: 100, maxPerClient: 2)
        let other = accepted(l.open(client: b, now: 0))  // another client, idle longest
        let old = accepted(l.open(client: a, now: 10))
        let young = accepted(l.open(client: a, now: 20))
        let third = accepted(l.open(client: a, now: 30))
        XCTAssertEqual(third.evicting, old.id, "the client's own longest-idle connection makes room")
        XCTAssertNotEqual(third.evicting, other.id)
        XCTAssertEqual(l.count(for: a), 2)
        XCTAssertNil(l.activity(of: old.id))
        XCTAssertEqual(l.activity(of: young.id), .idle)
    }

    func testPerClientLimitRefusesWhenAllOfThatClientsConnectionsWork() {
        var l = TCPConnectionLimiter(maxConnections: 100, maxPerClient: 2)
        let x = accepted(l.open(client: a, now: 0))
        let y = accepted(l.open(client: a, now: 0))
        l.update(x.id, to: .busy, now: 1)
        l.update(y.id, to: .busy, now: 1)
        XCTAssertEqual(l.open(client: a, now: 2), .refusePerClient)
        XCTAssertEqual(l.count(for: a), 2)
        // Another address is not affected by a's limit.
        XCTAssertNil(accepted(l.open(client: b, now: 3)).evicting)
    }

    func testFullTableEvictsLongestIdleFirstThenOldestHalfReceived() {
        var l = TCPConnectionLimiter(maxConnections: 3, maxPerClient: 10)
        let slow = accepted(l.open(client: b, now: 0))
        let idleLong = accepted(l.open(client: c, now: 5))
        let idleShort = accepted(l.open(client: c, now: 7))
        l.update(slow.id, to: .receiving, now: 1)
        // Idle beats half-received even when the half-received one is older.
        XCTAssertEqual(accepted(l.open(client: a, now: 10)).evicting, idleLong.id)
        l.update(idleShort.id, to: .busy, now: 11)
        // No idle left besides the newcomer a(10)... which is idle: it goes first.
        let next = accepted(l.open(client: a, now: 12))
        XCTAssertNotEqual(next.evicting, slow.id)
        XCTAssertNotEqual(next.evicting, idleShort.id)
        // Now: slow (receiving since 1), idleShort (busy), next (idle since 12).
        l.update(next.id, to: .busy, now: 13)
        XCTAssertEqual(accepted(l.open(client: a, now: 14)).evicting, slow.id,
                       "with nothing idle, the slowest half-sent query goes")
        XCTAssertEqual(l.count, 3)
    }

    func testFullTableOfBusyConnectionsRefusesTheNewcomer() {
        var l = TCPConnectionLimiter(maxConnections: 2, maxPerClient: 10)
        for _ in 0..<2 {
            let x = accepted(l.open(client: b, now: 0))
            l.update(x.id, to: .busy, now: 0)
        }
        XCTAssertEqual(l.open(client: a, now: 1), .refuseFull)
        XCTAssertEqual(l.count, 2)
        XCTAssertEqual(l.count(for: a), 0)
    }

    func testRepeatedActivityKeepsItsStartTime() {
        var l = TCPConnectionLimiter(maxConnections: 2, maxPerClient: 10)
        let early = accepted(l.open(client: b, now: 0))
        let late = accepted(l.open(client: c, now: 0))
        l.update(early.id, to: .receiving, now: 1)
        l.update(late.id, to: .receiving, now: 2)
        l.update(early.id, to: .receiving, now: 3)  // more bytes of the same query
        XCTAssertEqual(l.evictionCandidate(from: nil), early.id)
        // A completed query and a new one restart the clock.
        l.update(early.id, to: .idle, now: 4)
        l.update(early.id, to: .receiving, now: 5)
        XCTAssertEqual(l.evictionCandidate(from: nil), late.id)
    }

    func testSlowlorisFloodFromManyAddressesCannotLockOutAnIdleFreeNewcomer() {
        // 1000 slots filled by trickling connections from 1000 addresses: a legitimate
        // newcomer still gets in (the oldest trickler goes), and again and again.
        var l = TCPConnectionLimiter(maxConnections: 1000, maxPerClient: 10)
        var first: UInt64 = 0
        for i in 0..<1000 {
            let x = accepted(l.open(client: ClientAddress(ipv4: 0x7F03_0000 | UInt32(i)), now: UInt64(i)))
            if i == 0 { first = x.id }
            l.update(x.id, to: .receiving, now: UInt64(i))
        }
        XCTAssertEqual(accepted(l.open(client: a, now: 2000)).evicting, first)
        XCTAssertEqual(l.count, 1000)
    }

    /// Random opens, closes and activity changes on a monotonic clock: the queue-based
    /// choice always equals a scan of the whole table for (idle before receiving, oldest
    /// first), and the queues stay bounded.
    func testEvictionOrderMatchesAFullScan() {
        var rng = TestSeed.generator(128)
        var l = TCPConnectionLimiter(maxConnections: 50, maxPerClient: 5)
        var now: UInt64 = 0
        let clients = (0..<20).map { ClientAddress(ipv4: 0x7F05_0000 | UInt32($0)) }
        func scan(_ l: TCPConnectionLimiter) -> UInt64? {
            l.entries.compactMap { id, e -> (Int, UInt64, UInt64)? in
                switch e.activity {
                case .idle: return (0, e.since, id)
                case .receiving: return (1, e.since, id)
                case .busy: return nil
                }
            }.min { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }?.2
        }
        for _ in 0..<20_000 {
            now += UInt64.random(in: 1...3, using: &rng)
            let ids = Array(l.entries.keys)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<3:
                if l.count == l.maxConnections {
                    let expected = scan(l)
                    let client = clients.randomElement(using: &rng)!
                    if l.count(for: client) < l.maxPerClient {
                        let admission = l.open(client: client, now: now)
                        if let expected {
                            XCTAssertEqual(admission, .accept(l.entries.keys.max()!, evicting: expected))
                        } else {
                            XCTAssertEqual(admission, .refuseFull)
                        }
                    }
                } else {
                    _ = l.open(client: clients.randomElement(using: &rng)!, now: now)
                }
            case 3:
                if let id = ids.randomElement(using: &rng) { l.close(id) }
            default:
                if let id = ids.randomElement(using: &rng) {
                    l.update(id, to: [.idle, .receiving, .busy].randomElement(using: &rng)!, now: now)
                }
            }
            XCTAssertLessThanOrEqual(l.count, l.maxConnections)
            XCTAssertEqual(l.entries.count, l.byClient.values.reduce(0) { $0 + $1.count })
        }
        XCTAssertLessThan(l.queueLengths.reduce(0, +), 4 * l.maxConnections + 1200, "stale entries are dropped")
    }

    func testClientKeys() {
        XCTAssertEqual(a.description, "127.0.0.10")
        var mapped = [UInt8](repeating: 0, count: 16)
        mapped[10] = 0xFF; mapped[11] = 0xFF
        mapped[12] = 127; mapped[15] = 10
        XCTAssertEqual(mapped.withUnsafeBytes { ClientAddress(ipv6: $0.baseAddress!) }, a, "::ffff:127.0.0.10 is the same client as 127.0.0.10")
        var v6 = [UInt8](repeating: 0, count: 16)
        v6[15] = 1
        XCTAssertNotEqual(v6.withUnsafeBytes { ClientAddress(ipv6: $0.baseAddress!) }, a)
    }
}
