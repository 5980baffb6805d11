import BulwarkWire
import XCTest
@testable import BulwarkZone

final class ZoneModuleTests: XCTestCase {
    func testModuleLinks() {
        XCTAssertTrue(DNSName.root.isRoot)
    }
}
