// Operations: the `ops` configuration section and its flags.
import BulwarkControl
import BulwarkOps
import BulwarkServer
import BulwarkSettings
import Foundation
import XCTest
@testable import BulwarkConfig

final class ConfigOpsTests: ConfigTestCase {
    func testDefaults() throws {
        let c = try load(nil)
        XCTAssertEqual(c.ops.listen?.description, "127.0.0.1:9153")
        XCTAssertEqual(c.ops.sampleEvery, 16)
        XCTAssertEqual(c.ops.logRate, 50)
        XCTAssertNil(c.ops.queryLog)
    }

    func testSection() throws {
        let c = try load("""
        ops:
          listen: "[::1]:9200"
          sample-every: 4
          log-rate: 0
          query-log: {file: /tmp/q.log, lines-per-second: 10, max-size: 1048576}
        """)
        XCTAssertEqual(c.ops.listen?.description, "[::1]:9200")
        XCTAssertEqual(c.ops.sampleEvery, 4)
        XCTAssertEqual(c.ops.logRate, 0)
        XCTAssertEqual(c.ops.queryLog, "/tmp/q.log")
        XCTAssertEqual(c.ops.queryLogLinesPerSecond, 10)
        XCTAssertEqual(c.ops.queryLogMaxSize, 1 << 20)
        XCTAssertNil(try load("ops: {listen: off}").ops.listen)
        XCTAssertEqual(try load("ops: {listen: 127.0.0.2}").ops.listen?.description, "127.0.0.2:9153")
    }

    func testFlagsOverride() throws {
        var o = ConfigOverrides()
        o.opsListen = "off"
        o.queryLog = "/tmp/x.log"
        let c = try load("ops: {listen: 127.0.0.1:9300}", o)
        XCTAssertNil(c.ops.listen)
        XCTAssertEqual(c.ops.queryLog, "/tmp/x.log")
        o.opsListen = "localhost:1"
        XCTAssertThrowsError(try load(nil, o)) { e in
            XCTAssertTrue("\(e)".contains("--ops-listen"), "\(e)")
        }
    }

    func testErrorsNameKeyAndLine() throws {
        for (yaml, key) in [("ops: {listen: nowhere}", "ops.listen"), ("ops: {sample-every: 0}", "ops.sample-every"),
                            ("ops: {colour: blue}", "ops.colour"), ("ops: {query-log: {lines-per-second: 5}}", "ops.query-log")] {
            XCTAssertThrowsError(try load("workers: 1\n" + yaml)) { e in
                XCTAssertTrue("\(e)".contains(key), "\(e)")
                XCTAssertTrue("\(e)".contains("2"), "line missing: \(e)")
            }
        }
    }
}
