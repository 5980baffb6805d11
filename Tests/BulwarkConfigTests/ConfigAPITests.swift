import BulwarkControl
import BulwarkOps
import BulwarkServer
import BulwarkSettings
import Foundation
import XCTest
@testable import BulwarkConfig

/// The `api:` section and --api-listen (the control plane).
final class ConfigAPITests: ConfigTestCase {
    func testDefaults() throws {
        let c = try load(nil)
        XCTAssertEqual(c.api.listen?.description, "127.0.0.1:8053")
        XCTAssertTrue(c.api.listenIsDefault)
        XCTAssertEqual(c.api.sqlitePath(dataDir: c.server.dataDir), "bulwark-data/control.sqlite")
    }

    func testSection() throws {
        let c = try load("""
        api:
          listen: "[::1]:9000"
          database: sqlite:state/api.db
          max-body: 65536
          rate-limit: 5
          rate-burst: 20
        """)
        XCTAssertEqual(c.api.listen?.description, "[::1]:9000")
        XCTAssertFalse(c.api.listenIsDefault)
        XCTAssertEqual(c.api.sqlitePath(dataDir: "x"), dir + "/state/api.db")
        XCTAssertEqual(c.api.maxBodyBytes, 65536)
        XCTAssertEqual(c.api.rateLimit, 5)
        XCTAssertEqual(c.api.rateBurst, 20)
        XCTAssertNil(try load("api: off").api.listen)
        XCTAssertNil(try load("api: {listen: off}").api.listen)
    }

    func testFlagOverrides() throws {
        var o = ConfigOverrides()
        o.apiListen = "127.0.0.2:8080"
        XCTAssertEqual(try load("api: {listen: '127.0.0.1:1'}", o).api.listen?.description, "127.0.0.2:8080")
        o.apiListen = "off"
        XCTAssertNil(try load(nil, o).api.listen)
        o.apiListen = "localhost:1"
        XCTAssertThrowsError(try load(nil, o)) { XCTAssertEqual(($0 as? ConfigError)?.key, "--api-listen") }
    }

    func testErrorsNameTheKey() throws {
        for (yaml, key) in [("api: {lisen: 1}", "api.lisen"), ("api: {database: mysql}", "api.database"),
                            ("api: {max-body: 1}", "api.max-body"), ("api: {listen: 'nowhere'}", "api.listen"),
                            ("api: {database: 'postgres://x'}", "api.database")] {
            XCTAssertThrowsError(try load(yaml), yaml) { error in
                XCTAssertEqual((error as? ConfigError)?.key, key, "\(yaml): \(error)")
            }
        }
    }
}
