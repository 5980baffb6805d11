import BulwarkControl
import BulwarkOps
import BulwarkServer
import BulwarkSettings
import BulwarkWire
import Foundation
import XCTest
@testable import BulwarkConfig

final class ConfigTests: ConfigTestCase {
    /// Loads and expects a ConfigError; returns it.
    func failure(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> ConfigError {
        do {
            _ = try load(yaml)
        } catch let error as ConfigError {
            return error
        }
        XCTFail("expected a configuration error", file: file, line: line)
        return ConfigError("none")
    }

    // MARK: Good files

    func testFullFile() throws {
        let config = try load("""
        listen: ["127.0.0.1:5353", "[::1]:5353"]
        workers: 3
        max-udp-size: 1400
        udp-receive-buffer: 1048576
        udp-queues: 2
        tcp-idle-timeout: 2.5
        tcp-max-connections: 50
        zones-dir: zonefiles
        data-dir: state
        log-level: debug
        zones:
          - name: example.com
            file: zones/example.com.zone
          - name: example.org.
            file: /abs/example.org.zone
        """)
        XCTAssertEqual(config.server.listen.map(\.description), ["127.0.0.1:5353", "[::1]:5353"])
        XCTAssertEqual(config.server.listen.map(\.family), [.v4, .v6])
        XCTAssertEqual(config.server.workers, 3)
        XCTAssertEqual(config.server.maxUDPSize, 1400)
        XCTAssertEqual(config.server.udpReceiveBuffer, 1 << 20)
        XCTAssertEqual(config.server.udpQueues, 2)
        XCTAssertEqual(config.server.tcpIdleTimeout, 2.5)
        XCTAssertEqual(config.server.tcpMaxConnections, 50)
        XCTAssertEqual(config.logLevel, "debug")
        XCTAssertEqual(config.server.zonesDir, dir + "/zonefiles")
        XCTAssertEqual(config.server.dataDir, dir + "/state")
        XCTAssertEqual(config.server.zones, [
            ZoneSource(name: try DNSName("example.com."), path: dir + "/zones/example.com.zone"),
            ZoneSource(name: try DNSName("example.org."), path: "/abs/example.org.zone"),
        ])
    }

    func testDefaults() throws {
        let config = try load("")
        XCTAssertEqual(config.server.listen.map(\.description), ServerSettings.defaultListen)
        XCTAssertEqual(config.server.maxUDPSize, 1232)
        XCTAssertEqual(config.server.udpReceiveBuffer, 4 << 20)
        XCTAssertEqual(config.server.udpQueues, 4)
        XCTAssertEqual(config.server.tcpIdleTimeout, 10)
        XCTAssertEqual(config.server.workers, ServerSettings.defaultWorkers)
        XCTAssertTrue(config.server.zones.isEmpty)
        var example = ConfigOverrides()
        example.example = true
        XCTAssertEqual(try Configuration.load(configFile: nil, overrides: example).server.listen.map(\.description), ["127.0.0.1:5353"])
    }

    func testSingleListenString() throws {
        XCTAssertEqual(try load("listen: 127.0.0.1:53").server.listen.map(\.description), ["127.0.0.1:53"])
    }

    func testFlagsOverrideFile() throws {
        var o = ConfigOverrides()
        o.listen = ["127.0.0.1:5300"]
        o.zones = ["example.com=/other/file.zone", "example.net=net.zone"]
        o.workers = 1
        o.maxUDPSize = 512
        o.tcpIdleTimeout = 3
        o.zonesDir = "/d"
        o.logLevel = "error"
        let config = try load("""
        listen: ["[::1]:53"]
        workers: 4
        max-udp-size: 4096
        tcp-idle-timeout: 30
        zones-dir: elsewhere
        zones:
          - {name: example.com, file: a.zone}
          - {name: example.org, file: b.zone}
        """, o)
        XCTAssertEqual(config.server.listen.map(\.description), ["127.0.0.1:5300"])
        XCTAssertEqual(config.server.workers, 1)
        XCTAssertEqual(config.server.maxUDPSize, 512)
        XCTAssertEqual(config.server.tcpIdleTimeout, 3)
        XCTAssertEqual(config.server.zonesDir, "/d")
        XCTAssertEqual(config.logLevel, "error")
        XCTAssertEqual(config.server.zones.map(\.name.description), ["example.com.", "example.org.", "example.net."])
        XCTAssertEqual(config.server.zones[0].path, "/other/file.zone")
        XCTAssertEqual(config.server.zones[1].path, dir + "/b.zone")
        XCTAssertEqual(config.server.zones[2].path, "net.zone")
    }

    // MARK: Bad files: each names the key and, where it can, the line

    func testUnknownKey() throws {
        let e = try failure("listen: 127.0.0.1:53\nworker: 2\n")
        XCTAssertEqual(e.key, "worker")
        XCTAssertEqual(e.line, 2)
        XCTAssertTrue(e.message.contains("unknown key"), e.description)
        XCTAssertTrue(e.description.hasPrefix(dir + "/bulwark.yaml:2: worker: unknown key"), e.description)
    }

    func testBadValues() throws {
        let cases: [(String, String, String)] = [
            ("workers: two", "workers", "integer"),
            ("workers: 0", "workers", "between 1 and 1024"),
            ("max-udp-size: 100", "max-udp-size", "between 512 and 65535"),
            ("max-udp-size: [1]", "max-udp-size", "integer"),
            ("udp-receive-buffer: 1000", "udp-receive-buffer", "between 65536 and 268435456"),
            ("udp-queues: 0", "udp-queues", "between 1 and 64"),
            ("tcp-idle-timeout: -1", "tcp-idle-timeout", "seconds"),
            ("tcp-idle-timeout: soon", "tcp-idle-timeout", "seconds"),
            ("tcp-max-connections: 0", "tcp-max-connections", "between"),
            ("log-level: loud", "log-level", "not one of"),
            ("zones-dir: [a, b]", "zones-dir", "string"),
            ("listen: []", "listen", "at least one"),
            ("listen: [\"localhost:53\"]", "listen[0]", "not a numeric"),
            ("listen: [\"127.0.0.1:99999\"]", "listen[0]", "out of range"),
            ("listen: [\"127.0.0.1:abc\"]", "listen[0]", "not a number"),
            ("listen: [\"[::1:53\"]", "listen[0]", "missing ']'"),
            ("listen: {a: 1}", "listen", "list of strings"),
            ("zones: example.com", "zones", "list of"),
            ("zones: [example.com]", "zones[0]", "mapping"),
            ("zones: [{name: example.com}]", "zones[0]", "missing 'file'"),
            ("zones: [{file: x.zone}]", "zones[0]", "missing 'name'"),
            ("zones: [{name: 'a..b', file: x.zone}]", "zones[0].name", "not a valid zone name"),
            ("zones: [{name: a, file: x, type: primary}]", "zones[0].type", "unknown key"),
            ("zones: [{name: a, file: x}, {name: a., file: y}]", "zones[1].name", "listed twice"),
        ]
        for (yaml, key, words) in cases {
            let e = try failure(yaml)
            XCTAssertEqual(e.key, key, "\(yaml) → \(e)")
            XCTAssertTrue(e.message.contains(words), "\(yaml) → \(e)")
            XCTAssertEqual(e.file, dir + "/bulwark.yaml")
            XCTAssertNotNil(e.line, "\(yaml) → \(e)")
        }
    }

    func testNotYAMLOrNotAMapping() throws {
        XCTAssertTrue(try failure("listen: [unclosed").message.contains("not valid YAML"))
        XCTAssertTrue(try failure("- a\n- b").message.contains("mapping"))
    }

    func testMissingFile() {
        XCTAssertThrowsError(try Configuration.load(configFile: dir + "/nope.yaml", overrides: ConfigOverrides())) { error in
            XCTAssertTrue("\(error)".contains("cannot read the configuration file"), "\(error)")
        }
    }

    func testBadFlags() {
        func check(_ change: (inout ConfigOverrides) -> Void, key: String) {
            var o = ConfigOverrides()
            change(&o)
            XCTAssertThrowsError(try Configuration.load(configFile: nil, overrides: o)) { error in
                XCTAssertEqual((error as? ConfigError)?.key, key, "\(error)")
            }
        }
        check({ $0.listen = ["nowhere"] }, key: "--listen")
        check({ $0.zones = ["example.com"] }, key: "--zone")
        check({ $0.zones = ["=file"] }, key: "--zone")
        check({ $0.zones = ["example.com="] }, key: "--zone")
        check({ $0.zones = ["bad..name=file"] }, key: "--zone")
        check({ $0.workers = 0 }, key: "--workers")
        check({ $0.maxUDPSize = 70000 }, key: "--max-udp-size")
        check({ $0.udpReceiveBuffer = 1 << 30 }, key: "--udp-receive-buffer")
        check({ $0.udpQueues = 65 }, key: "--udp-queues")
        check({ $0.tcpIdleTimeout = 0 }, key: "--tcp-idle-timeout")
        check({ $0.logLevel = "verbose" }, key: "--log-level")
    }

    // MARK: Addresses

    func testListenAddressForms() throws {
        XCTAssertEqual(try ListenAddress(parsing: "127.0.0.1:5300").port, 5300)
        XCTAssertEqual(try ListenAddress(parsing: "0.0.0.0").port, 53)
        let v6 = try ListenAddress(parsing: "[::1]:5300")
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.family, .v6)
        XCTAssertEqual(try ListenAddress(parsing: "::").port, 53)
        XCTAssertEqual(try ListenAddress(parsing: "[2001:db8::1]").host, "2001:db8::1")
        XCTAssertTrue(try ListenAddress(parsing: "[::]:53").isWildcard)
        XCTAssertFalse(try ListenAddress(parsing: "127.0.0.1:53").isWildcard)
        XCTAssertThrowsError(try ListenAddress(parsing: "[::1]x"))
        XCTAssertThrowsError(try ListenAddress(parsing: "1.2.3:53"))
    }

    // MARK: zones-dir

    func testZonesDirNameMapping() throws {
        XCTAssertEqual(ZonesDirectory.zoneName(forFileName: "example.com.zone")?.description, "example.com.")
        XCTAssertEqual(ZonesDirectory.zoneName(forFileName: "root.zone"), .root)
        XCTAssertEqual(ZonesDirectory.zoneName(forFileName: "2.0.192.in-addr.arpa.zone")?.description, "2.0.192.in-addr.arpa.")
        XCTAssertEqual(ZonesDirectory.zoneName(forFileName: "com.zone")?.description, "com.")
        XCTAssertNil(ZonesDirectory.zoneName(forFileName: "example.com"))
        XCTAssertNil(ZonesDirectory.zoneName(forFileName: "example.com.zone.bak"))
        XCTAssertNil(ZonesDirectory.zoneName(forFileName: ".example.com.zone"))
        XCTAssertNil(ZonesDirectory.zoneName(forFileName: ".zone"))
        XCTAssertNil(ZonesDirectory.zoneName(forFileName: "example.com..zone"))
        XCTAssertNil(ZonesDirectory.zoneName(forFileName: "a..b.zone"))
    }

    func testZonesDirScanAndExplicitZoneWins() throws {
        let zones = dir + "/zones"
        try FileManager.default.createDirectory(atPath: zones, withIntermediateDirectories: true)
        for f in ["example.com.zone", "root.zone", "notes.txt", "example.org.zone"] {
            try "".write(toFile: zones + "/" + f, atomically: true, encoding: .utf8)
        }
        var o = ConfigOverrides()
        o.zonesDir = zones
        o.zones = ["example.org=/elsewhere/org.zone", "example.net=/n.zone"]
        let sources = try Configuration.load(configFile: nil, overrides: o).server.zoneSources()
        XCTAssertEqual(sources.map(\.name.description), ["example.com.", "example.org.", ".", "example.net."])
        XCTAssertEqual(sources[0].path, zones + "/example.com.zone")
        XCTAssertEqual(sources[1].path, "/elsewhere/org.zone")
        XCTAssertEqual(sources[2].path, zones + "/root.zone")

        o.zonesDir = dir + "/missing"
        XCTAssertThrowsError(try Configuration.load(configFile: nil, overrides: o).server.zoneSources()) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "zones-dir")
        }
    }
}
