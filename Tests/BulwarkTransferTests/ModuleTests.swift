import BulwarkTransfer
import BulwarkZone
import XCTest

final class ModuleTests: XCTestCase {
    func testModuleLinks() {
        // The module re-exports the zone types its messages are built from.
        XCTAssertEqual(ZoneSet(zones: []).zones.count, 0)
    }
}
