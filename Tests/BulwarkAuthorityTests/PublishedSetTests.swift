import BulwarkTestSupport
import BulwarkWire
import XCTest
@testable import BulwarkAuthority
@testable import BulwarkZone

/// Answers from sets made by publishing through the catalog (each made from the one
/// before): every query is answered by the zone published last for its name.
final class PublishedSetTests: XCTestCase {
    var scratch = AnswerScratch()

    func zone(_ origin: String, address: UInt8) throws -> Zone {
        try Zone(origin: try DNSName(origin), records: SmallZone.records(try DNSName(origin), address: [10, 0, 0, address]))
    }

    /// The rcode and the A records answering `name`.
    func ask(_ store: ZoneStore, _ name: String) throws -> (rcode: UInt16, addresses: [[UInt8]], aa: Bool) {
        let d = try TestWire.decode(TestWire.respond(store.current, try TestWire.query(name, .a, edns: 1232), scratch: &scratch))
        return (d.rcode, d.answer.filter { $0.type == .a }.map(\.rdata), d.aa)
    }

    func testAnswersFollowPublishes() throws {
        let store = ZoneStore(ZoneSet(zones: []))
        let catalog = ZoneCatalog(store: store)
        catalog.publish(try (0..<50).map { try zone("z\($0).test.", address: UInt8($0)) }, from: .api)
        XCTAssertEqual(try ask(store, "www.z49.test.").addresses, [[10, 0, 0, 49]])

        try catalog.publish(try zone("z7.test.", address: 207), from: .api)
        XCTAssertNotNil(catalog.remove(try DNSName("z3.test."), from: .api))  // z49 takes its index
        try catalog.publish(try zone("z50.test.", address: 250), from: .api)
        try catalog.publish(try zone("child.z5.test.", address: 105), from: .api)

        XCTAssertEqual(try ask(store, "www.z7.test.").addresses, [[10, 0, 0, 207]])
        XCTAssertEqual(try ask(store, "www.z49.test.").addresses, [[10, 0, 0, 49]])
        XCTAssertEqual(try ask(store, "www.z50.test.").addresses, [[10, 0, 0, 250]])
        XCTAssertEqual(try ask(store, "www.child.z5.test.").addresses, [[10, 0, 0, 105]])
        XCTAssertEqual(try ask(store, "www.z3.test.").rcode, RCode.refused.rawValue)

        // The child goes: its parent answers for the name again (NXDOMAIN, authoritative).
        XCTAssertNotNil(catalog.remove(try DNSName("child.z5.test."), from: .api))
        let parent = try ask(store, "www.child.z5.test.")
        XCTAssertEqual(parent.rcode, RCode.nxDomain.rawValue)
        XCTAssertTrue(parent.aa)
        XCTAssertEqual(try ask(store, "www.z5.test.").addresses, [[10, 0, 0, 5]])
    }
}
