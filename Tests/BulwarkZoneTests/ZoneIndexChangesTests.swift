import BulwarkTestSupport
import BulwarkWire
import XCTest
@testable import BulwarkZone

final class ZoneIndexChangesTests: XCTestCase {
    static func zone(_ origin: String, serial: UInt32 = 1) -> Zone {
        try! Zone(origin: try! DNSName(origin), records: SmallZone.records(try! DNSName(origin), serial: serial))
    }

    /// The indices `changes` lists, as (index, from) pairs, sorted.
    static func arrived(_ changes: ZoneIndexChanges) -> [[Int]] {
        changes.arrived.map { [$0.index.value, $0.from?.value ?? -1] }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    func testAddReplaceRemove() throws {
        let store = ZoneStore(ZoneSet(zones: []))
        let catalog = ZoneCatalog(store: store)
        _ = catalog.publish(["a.test.", "b.test.", "c.test."].map { Self.zone($0) }, from: .api)
        let s0 = store.current
        XCTAssertTrue(s0.indexChanges(since: s0).arrived.isEmpty)

        try catalog.publish(Self.zone("b.test.", serial: 2), from: .api)
        let s1 = store.current
        let replaced = s1.indexChanges(since: s0)
        XCTAssertTrue(replaced.arrived.isEmpty, "a new version of a zone keeps its index")
        XCTAssertTrue(replaced.departed.isEmpty)

        XCTAssertNotNil(catalog.remove(try DNSName("a.test."), from: .api))
        let s2 = store.current
        let removed = s2.indexChanges(since: s1)
        XCTAssertEqual(Self.arrived(removed), [[0, 2]], "c.test. moved from the last index into the hole")
        XCTAssertEqual(removed.departed.map(\.value), [0])

        try catalog.publish(Self.zone("d.test."), from: .api)
        let s3 = store.current
        XCTAssertEqual(Self.arrived(s3.indexChanges(since: s2)), [[2, -1]])
        XCTAssertTrue(s3.indexChanges(since: s2).departed.isEmpty)

        // Versions skipped: a.test. went, c.test. moved, d.test. came into c's old index.
        let skipped = s3.indexChanges(since: s0)
        XCTAssertEqual(Self.arrived(skipped), [[0, 2], [2, -1]])
        XCTAssertEqual(skipped.departed.map(\.value), [0])
        // Backwards too: from s3 to s0, a.test. arrives and d.test. departs.
        let back = s0.indexChanges(since: s3)
        XCTAssertEqual(Self.arrived(back), [[0, -1], [2, 0]])
        XCTAssertEqual(back.departed.map(\.value), [2])
    }

    /// Random adds, replaces and removes beside a thousand zones (several pages, most of
    /// them shared from version to version): between any two versions, the changes listed
    /// turn the older version's origins by index into the newer one's.
    func testChangesMapEveryVersionToALaterOne() throws {
        let store = ZoneStore(ZoneSet(zones: []))
        let catalog = ZoneCatalog(store: store)
        let pool = (0..<1200).map { "z\($0).test." }
        _ = catalog.publish(pool[0..<1000].map { Self.zone($0) }, from: .api)
        var random = TestSeed.generator(20261211)
        var old = store.current
        var serial: UInt32 = 1
        for step in 0..<600 {
            let origin = try DNSName(pool[random.below(pool.count)])
            serial += 1
            if store.current.index(ofOrigin: origin) != nil && random.below(2) == 0 {
                XCTAssertNotNil(catalog.remove(origin, from: .api))
            } else {
                try catalog.publish(Self.zone(origin.description, serial: serial), from: .api)
            }
            guard random.below(8) == 0 || step == 599 else { continue }
            let new = store.current
            let changes = new.indexChanges(since: old)
            var from: [Int: Int] = [:]  // -1: not in the old version
            for a in changes.arrived { from[a.index.value] = a.from?.value ?? -1 }
            XCTAssertEqual(from.count, changes.arrived.count, "an index listed twice")
            for i in 0..<new.count {
                let origin = new[zone: ZoneIndex(i)].origin
                if let f = from[i] {
                    XCTAssertEqual(f, old.index(ofOrigin: origin)?.value ?? -1, "step \(step): \(origin) arrived at \(i)")
                    XCTAssertFalse(i < old.count && old[zone: ZoneIndex(i)].origin == origin, "step \(step): \(i) listed, unchanged")
                } else {
                    XCTAssertTrue(i < old.count && old[zone: ZoneIndex(i)].origin == origin, "step \(step): \(i) changed, not listed")
                }
            }
            let gone = (0..<old.count).filter { new.index(ofOrigin: old[zone: ZoneIndex($0)].origin) == nil }
            XCTAssertEqual(changes.departed.map(\.value).sorted(), gone, "step \(step)")
            old = new
        }
    }
}
