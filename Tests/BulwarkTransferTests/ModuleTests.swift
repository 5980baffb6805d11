import BulwarkZone
import XCTest
import BulwarkTransfer

final class ModuleTests: XCTestCase {
    func testModuleLinks() {
        // The module re-exports the zone types its messages are built from.
        XCTAssertEqual(ZoneSet(zones: []).zones.count, 0)
    }
}
