import BulwarkWire
import XCTest
@testable import BulwarkZone

/// The NSEC3 chain's index (matching and covering by binary search, wrapping at the
/// end) and base32hex, apart from answers (AuthorityNSEC3Tests has those).
final class NSEC3IndexTests: XCTestCase {
    func hash(_ first: UInt8) -> [UInt8] { [first] + [UInt8](repeating: 0x55, count: NSEC3Hash.length - 1) }

    func testMatchingAndCovering() {
        // Owners hashed 0x20.., 0x80.., 0xC0.. (nodes 7, 8, 9).
        let index = NSEC3Index(hashes: ContiguousArray(hash(0x20) + hash(0x80) + hash(0xC0)),
                               nodes: [NameIndex(7), NameIndex(8), NameIndex(9)])
        func find(_ h: [UInt8]) -> (Int, Bool) {
            let r = h.withUnsafeBufferPointer { index.find($0.baseAddress!) }
            return (r.node.value, r.matches)
        }
        XCTAssertTrue(find(hash(0x80)) == (8, true))
        XCTAssertTrue(find(hash(0x20)) == (7, true))
        XCTAssertTrue(find(hash(0xC0)) == (9, true))
        XCTAssertTrue(find(hash(0x81)) == (8, false))
        XCTAssertTrue(find(hash(0x7F)) == (7, false))
        // After the last, and before the first: the last covers both (RFC 5155 §3.1.7).
        XCTAssertTrue(find(hash(0xFF)) == (9, false))
        XCTAssertTrue(find(hash(0x00)) == (9, false))
        XCTAssertFalse(index.isEmpty)
        XCTAssertTrue(NSEC3Index().isEmpty)
    }

    func testBase32hex() {
        let bytes: [UInt8] = (0..<20).map { UInt8($0 * 13 & 0xFF) }
        let text = base32hexText(bytes)
        XCTAssertEqual(text.count, 32)
        XCTAssertEqual(Base32Hex.decode(Array(text.utf8)[...]), bytes)
        XCTAssertEqual(Base32Hex.decode(Array(text.uppercased().utf8)[...]), bytes)
        XCTAssertNil(Base32Hex.decode(Array("0w".utf8)[...]))  // outside the alphabet
        // RFC 4648 §10 test vectors (base32hex, padding dropped).
        XCTAssertEqual(base32hexText(Array("foobar".utf8)), "cpnmuoj1e8")
        XCTAssertEqual(Base32Hex.decode(Array("cpnmuoj1e8".utf8)[...]), Array("foobar".utf8))
    }

    func testIndexFromRecordsAndEdits() throws {
        let origin = try DNSName("z.test.")
        func rr(_ owner: String, _ type: RRType, _ rdata: [UInt8]) throws -> ResourceRecord {
            ResourceRecord(owner: try DNSName(owner), type: type, ttl: 300, rdata: rdata)
        }
        let soa = try DNSName("ns.z.test.").wire + DNSName("h.z.test.").wire + [UInt8](repeating: 0, count: 19) + [1]
        let param: [UInt8] = [1, 0, 0, 2, 2, 0, 0xAB]  // SHA-1, flags 0, 2 iterations, salt 00AB
        func nsec3(_ iterations: UInt8) -> [UInt8] { [1, 1, 0, iterations, 2, 0, 0xAB, 20] + hash(0) + [0, 1, 0x40] }
        let names = ["z.test.", "a.z.test.", "b.z.test."]
        let owners = names.map { base32hexText(NSEC3Hash.hash(try! DNSName($0), salt: [0, 0xAB], iterations: 2)) }
        var records = [try rr("z.test.", .soa, soa), try rr("z.test.", .ns, try DNSName("ns.z.test.").wire),
                       try rr("z.test.", .nsec3param, param), try rr("a.z.test.", .a, [192, 0, 2, 1]),
                       try rr("b.z.test.", .a, [192, 0, 2, 2])]
        for o in owners { records.append(try rr("\(o).z.test.", .nsec3, nsec3(2))) }
        // One with other parameters: not of the chain.
        records.append(try rr("\(base32hexText(hash(1))).z.test.", .nsec3, nsec3(5)))
        // One not under the apex directly, and one whose label is no hash: not of it either.
        records.append(try rr("\(owners[0]).a.z.test.", .nsec3, nsec3(2)))
        records.append(try rr("nothash.z.test.", .nsec3, nsec3(2)))
        let zone = try Zone(origin: origin, records: records)
        XCTAssertEqual(zone.nsec3.nodes.count, 3)
        XCTAssertEqual(zone.nsec3.iterations, 2)
        XCTAssertEqual(Array(zone.nsec3.salt), [0, 0xAB])
        let sortedOwners = zone.nsec3.nodes.map { zone.name($0).description }
        XCTAssertEqual(sortedOwners, owners.sorted().map { "\($0).z.test." })

        // Edits: one NSEC3 removed, then the NSEC3PARAM changed to the odd one's parameters.
        var edit = ZoneEdit(checksZoneFileRules: false)
        edit.replace(try DNSName("\(owners[1]).z.test."), .nsec3, with: [])
        let fewer = try zone.applying(edit)
        XCTAssertEqual(fewer.nsec3.nodes.count, 2)
        var other = ZoneEdit(checksZoneFileRules: false)
        other.replace(origin, .nsec3param, with: [try rr("z.test.", .nsec3param, [1, 0, 0, 5, 2, 0, 0xAB])])
        let switched = try fewer.applying(other)
        XCTAssertEqual(switched.nsec3.nodes.count, 1)
        XCTAssertEqual(switched.nsec3.iterations, 5)
        // An unchanged chain survives edits elsewhere.
        var elsewhere = ZoneEdit(checksZoneFileRules: false)
        elsewhere.replace(try DNSName("c.z.test."), .a, with: [try rr("c.z.test.", .a, [192, 0, 2, 3])])
        XCTAssertEqual(try zone.applying(elsewhere).nsec3.nodes.count, 3)
    }
}

/// Lower-case base32hex, as NSEC3 owner labels are written.
func base32hexText(_ bytes: [UInt8]) -> String {
    String(decoding: RDataFields.base32HexLabel(bytes), as: UTF8.self)
}
