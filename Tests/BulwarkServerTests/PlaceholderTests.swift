import XCTest
@testable import BulwarkServer

final class ServerModuleTests: XCTestCase {
    func testModuleLinks() {
        XCTAssertEqual(DNSName.root.description, ".")
    }
}
