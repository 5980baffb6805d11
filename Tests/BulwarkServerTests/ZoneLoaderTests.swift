import BulwarkWire
import BulwarkZone
import Logging
import XCTest
@testable import BulwarkServer

/// Large zones are checked and built on two threads: the result and the errors must be
/// those of the one-thread path.
final class ZoneLoaderTests: XCTestCase {
    private func bigZoneText(names: Int, extra: String = "") -> String {
        var s = "$ORIGIN big.test.\n$TTL 3600\n@ IN SOA ns1 hostmaster 7 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n"
        s.reserveCapacity(names * 60)
        for i in 0..<names {
            s += "h\(i) IN A 10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)\nh\(i) IN AAAA 2001:db8::\(String(i, radix: 16))\n"
        }
        // Three duplicates of records above.
        return s + "h1 IN A 10.0.0.1\nh2 IN A 10.0.0.2\nh2 IN AAAA 2001:db8::2\n" + extra
    }

    private func load(_ text: String) throws(ZoneLoadError) -> Zone {
        try ZoneLoader.load(ZoneSource(name: try! DNSName("big.test."), path: "big.test.zone", text: text),
                            logger: Logger(label: "test"))
    }

    func testALargeZoneLoadsWithDuplicatesDropped() throws {
        XCTAssertGreaterThan(60_000 * 2, ZoneLoader.concurrentCheckThreshold)
        let zone = try load(bigZoneText(names: 60_000))
        XCTAssertEqual(zone.serial, 7)
        // RFC 2181 §5: each duplicated A record counts once.
        XCTAssertEqual(zone.recordCount, 2 * 60_000 + 3)
    }

    func testALargeZoneFailsWithTheCheckersMessage() {
        let text = bigZoneText(names: 60_000, extra: "h5 IN CNAME elsewhere.example.\n")
        XCTAssertThrowsError(try load(text)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("CNAME"), message)
            XCTAssertTrue(message.contains("big.test.zone:"), message)  // file:line from the checker
        }
    }
}
