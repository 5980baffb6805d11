// The configuration keys of the TCP limits, the defences and the PostgreSQL database.
import BulwarkConfig
import BulwarkControl
import BulwarkDefences
import BulwarkServer
import BulwarkSettings
import Foundation
import XCTest

final class TCPLimitConfigTests: XCTestCase {
    func testKeysAndFlags() throws {
        let dir = NSTemporaryDirectory() + "bulwark-tcplimits-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bulwark.yaml"
        try """
        tcp-max-connections-per-client: 3
        tcp-io-timeout: 0.5
        tcp-max-inflight: 8
        """.write(toFile: path, atomically: true, encoding: .utf8)
        var config = try Configuration.load(configFile: path, overrides: ConfigOverrides())
        XCTAssertEqual(config.server.tcpMaxConnectionsPerClient, 3)
        XCTAssertEqual(config.server.tcpIOTimeout, 0.5)
        XCTAssertEqual(config.server.tcpMaxInflight, 8)
        var o = ConfigOverrides()
        o.tcpMaxConnectionsPerClient = 4
        o.tcpIOTimeout = 1.5
        o.tcpMaxInflight = 16
        config = try Configuration.load(configFile: path, overrides: o)
        XCTAssertEqual(config.server.tcpMaxConnectionsPerClient, 4)
        XCTAssertEqual(config.server.tcpIOTimeout, 1.5)
        XCTAssertEqual(config.server.tcpMaxInflight, 16)
        let defaults = try Configuration.load(configFile: nil, overrides: ConfigOverrides())
        XCTAssertEqual(defaults.server.tcpMaxConnectionsPerClient, 10)
        XCTAssertEqual(defaults.server.tcpIOTimeout, 2)
        XCTAssertEqual(defaults.server.tcpMaxInflight, 64)

        for (yaml, key) in [("tcp-max-connections-per-client: 0", "tcp-max-connections-per-client"),
                            ("tcp-io-timeout: -1", "tcp-io-timeout"),
                            ("tcp-max-inflight: 0", "tcp-max-inflight")] {
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Configuration.load(configFile: path, overrides: ConfigOverrides())) { e in
                XCTAssertEqual((e as? ConfigError)?.key, key, yaml)
                XCTAssertEqual((e as? ConfigError)?.line, 1, yaml)
            }
        }
        var bad = ConfigOverrides()
        bad.tcpIOTimeout = 0
        XCTAssertThrowsError(try Configuration.load(configFile: nil, overrides: bad)) { e in
            XCTAssertEqual((e as? ConfigError)?.key, "--tcp-io-timeout")
        }
    }
}

final class DefenceConfigTests: ConfigTestCase {
    func testKeys() throws {
        let yaml = dir + "/bulwark.yaml"
        try """
        rate-limit:
          responses-per-second: 20
          burst: 60
          window: 15
          slip: 2
          ipv4-prefix: 24
          ipv6-prefix: 56
          exempt: [192.0.2.0/24, "2001:db8::/32"]
        cookies: {enabled: true, secret: e5e973e5a6b2a43f48e7dc849e37bfcf, rotate-seconds: 7200, require: false}
        acl: {allow: [0.0.0.0/0, "::/0"], deny: [198.51.100.0/24], action: drop}
        transfer-acl: {allow: [192.0.2.1]}
        """.write(toFile: yaml, atomically: true, encoding: .utf8)
        let c = try Configuration.load(configFile: yaml, overrides: ConfigOverrides())
        let r = try XCTUnwrap(c.server.defences.rateLimit)
        XCTAssertEqual(r.responsesPerSecond, 20)
        XCTAssertEqual(r.burst, 60)
        XCTAssertEqual(r.exempt.count, 2)
        XCTAssertEqual(c.server.defences.cookies.secret, CookieSecret(hex: "e5e973e5a6b2a43f48e7dc849e37bfcf"))
        XCTAssertEqual(c.server.defences.cookies.rotateSeconds, 7200)
        XCTAssertEqual(c.server.defences.denyAction, .drop)
        XCTAssertFalse(c.server.defences.queryACL.allows(ClientAddress("198.51.100.9")!))
        XCTAssertTrue(c.server.defences.queryACL.allows(ClientAddress("198.51.101.9")!))
        XCTAssertTrue(c.server.defences.transferACL.allows(ClientAddress("192.0.2.1")!))
        XCTAssertFalse(c.server.defences.transferACL.allows(ClientAddress("192.0.2.2")!))

        // Defaults: rate limiting off, cookies on.
        let d = try Configuration.load(configFile: nil, overrides: ConfigOverrides())
        XCTAssertNil(d.server.defences.rateLimit)
        XCTAssertTrue(d.server.defences.cookies.enabled)
        XCTAssertTrue(d.server.defences.queryACL.isEmpty)
    }

    func testErrors() throws {
        func error(_ text: String) -> String {
            let yaml = dir + "/bad.yaml"
            try! text.write(toFile: yaml, atomically: true, encoding: .utf8)
            do {
                _ = try Configuration.load(configFile: yaml, overrides: ConfigOverrides())
                return "no error"
            } catch {
                return error.description
            }
        }
        XCTAssertTrue(error("rate-limit: {slip: 11}").contains("rate-limit.slip: must be between 0 and 10"), error("rate-limit: {slip: 11}"))
        XCTAssertTrue(error("rate-limit: {rate: 5}").contains("rate-limit.rate: unknown key"))
        XCTAssertTrue(error("rate-limit: {burst: 0}").contains("rate-limit.burst: must be between 1"))
        XCTAssertTrue(error("rate-limit: {exempt: [192.0.2.1/24]}").contains("rate-limit.exempt[0]"))
        XCTAssertTrue(error("cookies: {secret: abc}").contains("cookies.secret: must be 32 hexadecimal digits"))
        XCTAssertTrue(error("acl: {deny: [example.com]}").contains("acl.deny[0]: 'example.com'"))
        XCTAssertTrue(error("acl: {action: reject}").contains("acl.action: 'reject' is not one of refuse, drop"))
        XCTAssertTrue(error("transfer-acl: {action: drop}").contains("unknown key"))
        var o = ConfigOverrides()
        o.rateLimitSlip = 3
        XCTAssertThrowsError(try Configuration.load(configFile: nil, overrides: o))
        o = ConfigOverrides()
        o.rateLimitBurst = 50
        XCTAssertThrowsError(try Configuration.load(configFile: nil, overrides: o))  // rate limiting is off
        o.rateLimit = 10
        XCTAssertEqual(try Configuration.load(configFile: nil, overrides: o).server.defences.rateLimit?.burst, 50)
        o = ConfigOverrides()
        o.cookies = "maybe"
        XCTAssertThrowsError(try Configuration.load(configFile: nil, overrides: o))
    }
}

final class PostgresConfigTests: XCTestCase {
    func testAcceptsPostgresURL() throws {
        let dir = NSTemporaryDirectory() + "bulwark-pgconf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bulwark.yaml"
        try "api:\n  database: postgres://bulwark@127.0.0.1:5432/bulwark\n".write(toFile: path, atomically: true, encoding: .utf8)
        let config = try Configuration.load(configFile: path, overrides: ConfigOverrides())
        XCTAssertEqual(config.api.postgresURL, PostgresURL(host: "127.0.0.1", user: "bulwark", password: nil, database: "bulwark"))
        XCTAssertNil(config.api.sqlitePath(dataDir: "d"))
        try "api:\n  database: postgres://127.0.0.1/bulwark\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Configuration.load(configFile: path, overrides: ConfigOverrides())) { error in
            let e = error as! ConfigError
            XCTAssertEqual(e.key, "api.database")
            XCTAssertEqual(e.line, 2)
            XCTAssertTrue(e.message.contains("no user"), e.message)
        }
    }
}
