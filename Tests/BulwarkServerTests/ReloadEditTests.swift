import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
import XCTest
@testable import BulwarkServer

/// A reloaded zone file that changed a little is served as an edit of the version before
/// (sharing the rest, its change recorded for the journal), with the same content.
final class ReloadEditTests: XCTestCase {
    func zone(_ serial: Int, _ body: String) throws -> Zone {
        let origin = try DNSName("reload.test.")
        let text = "$TTL 300\n@ IN SOA ns1 hostmaster \(serial) 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n" + body
        return try Zone(origin: origin, records: ZoneFileReader(origin: origin).read(text: text).records)
    }

    func testASmallChangeIsServedAsAnEdit() throws {
        var body = ""
        for i in 0..<5000 { body += "h\(i) IN A 10.0.\(i / 250).\(i % 250)\n" }
        let old = try zone(1, body)
        let new = try zone(2, body.replacingOccurrences(of: "h7 IN A 10.0.0.7\n", with: "h7 IN A 192.0.2.7\nextra IN TXT added\n"))
        let edited = try XCTUnwrap(ZoneReloader.edit(old, to: new))
        XCTAssertTrue(edited.hasSameContent(as: new))
        XCTAssertEqual(edited.serial, 2)
        let record = try XCTUnwrap(edited.edit)
        XCTAssertTrue(record.isEdit(of: old))
        XCTAssertEqual(Set(record.added.filter { $0.type != .soa }.map(\.owner.description)), ["h7.reload.test.", "extra.reload.test."])
        XCTAssertEqual(record.removed.filter { $0.type != .soa }.map(\.owner.description), ["h7.reload.test."])
        XCTAssertGreaterThan(edited.sharedBytes(with: old), 0)
    }

    func testNothingOrMuchChangedIsServedAsRead() throws {
        var body = "", other = ""
        for i in 0..<100 {
            body += "h\(i) IN A 10.0.0.\(i)\n"
            other += "h\(i) IN A 10.0.1.\(i)\n"
        }
        let old = try zone(1, body)
        XCTAssertNil(ZoneReloader.edit(old, to: try zone(1, body)))
        XCTAssertNil(ZoneReloader.edit(old, to: try zone(2, other)))
    }
}
