import BulwarkWire
import BulwarkZoneFile
import XCTest
@testable import BulwarkZone

final class ZoneCatalogTests: XCTestCase {
    private func zone(_ origin: String, serial: UInt32) throws -> Zone {
        let text = """
        $ORIGIN \(origin)
        @ 3600 IN SOA ns1 hostmaster \(serial) 7200 3600 1209600 300
        @ 3600 IN NS ns1
        ns1 3600 IN A 192.0.2.1
        """
        let parsed = try ZoneFileReader(origin: try DNSName(origin)).readChecked(text: text, fileName: "test")
        return try Zone(origin: try DNSName(origin), records: parsed.records)
    }

    func testPublishSwapsTheStoreAndTellsObserversInOrder() throws {
        let store = ZoneStore(ZoneSet(zones: []))
        let catalog = ZoneCatalog(store: store)
        let seen = LockedBox<[(String, UInt32?, UInt32?)]>([])
        catalog.observe { changes in
            for c in changes { seen.mutate { $0.append(("\(c.name)", c.old?.serial, c.new?.serial)) } }
        }
        let g0 = store.generation
        try catalog.publish(try zone("a.test.", serial: 1), from: .api)
        try catalog.publish(try zone("a.test.", serial: 2), from: .api)
        XCTAssertEqual(store.generation, g0 + 2)
        XCTAssertEqual(store.current.zones.map(\.serial), [2])
        XCTAssertEqual(seen.value.map(\.1), [nil, 1])
        XCTAssertEqual(seen.value.map(\.2), [1, 2])
        XCTAssertNotNil(catalog.remove(try DNSName("a.test."), from: .api))
        XCTAssertTrue(store.current.zones.isEmpty)
        XCTAssertEqual(seen.value.last?.2, nil)
    }

    func testAProvenanceCannotTakeAnotherOnesZone() throws {
        let catalog = ZoneCatalog(store: ZoneStore(ZoneSet(zones: [])))
        try catalog.publish(try zone("a.test.", serial: 1), from: .api)
        XCTAssertThrowsError(try catalog.publish(try zone("a.test.", serial: 5), from: .file))
        let (changes, conflicts) = catalog.replaceAll(from: .file, with: [try zone("a.test.", serial: 5), try zone("b.test.", serial: 1)])
        XCTAssertEqual(changes.map { "\($0.name)" }, ["b.test."])
        XCTAssertEqual(conflicts.map { "\($0)" }, ["a.test."])
        // A file reload that no longer lists b.test. removes it, and leaves the API's zone alone.
        let (removed, _) = catalog.replaceAll(from: .file, with: [])
        XCTAssertEqual(removed.map { "\($0.name)" }, ["b.test."])
        XCTAssertNil(removed.first?.new)
        XCTAssertEqual(catalog.all.map { "\($0.name)" }, ["a.test."])
        XCTAssertNil(catalog.remove(try DNSName("a.test."), from: .file))
    }
}

final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ v: T) { stored = v }
    var value: T { lock.withLock { stored } }
    func mutate(_ f: (inout T) -> Void) { lock.withLock { f(&stored) } }
}
