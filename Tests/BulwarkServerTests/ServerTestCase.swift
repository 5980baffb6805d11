// The fixture shared by the tests that run a DNSServer in-process on loopback: a
// temporary directory of its own, a quiet logger, the server and its bound port.
import BulwarkConfig
import BulwarkTransfer
import Foundation
import Logging
import XCTest
@testable import BulwarkServer

class ServerTestCase: XCTestCase {
    var dir: String!
    var server: DNSServer!
    var port = 0
    let logger: Logger = {
        var l = Logger(label: "test")
        l.logLevel = .critical  // the failures these tests provoke are expected
        return l
    }()

    /// Zone `test.` with its SOA `serial`, NS ns1, ns1's address, www's address `www`
    /// and the lines `extra`.
    static func zoneText(serial: Int, www: String, extra: String = "") -> String {
        """
        $ORIGIN test.
        $TTL 300
        @     IN SOA ns1.test. hostmaster.test. \(serial) 3600 600 86400 300
        @     IN NS  ns1.test.
        ns1   IN A   192.0.2.53
        www   IN A   \(www)
        \(extra)
        """
    }

    /// The temporary directory's name starts with this (one per test class).
    class var directoryPrefix: String { "bulwark-test" }

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "\(Self.directoryPrefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        if let server { await server.stop() }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Makes `server` the server under test: loads its zones, starts it and records the
    /// first bound port.
    func start(_ server: DNSServer) async throws {
        self.server = server
        try server.loadZones()
        try await server.start()
        port = server.boundAddresses[0].port
    }

    /// `start` with the configuration from `configFile` (nil: none) and `overrides`.
    func start(configFile: String? = nil, overrides: ConfigOverrides) async throws {
        try await start(DNSServer(config: try Configuration.load(configFile: configFile, overrides: overrides).server, logger: logger))
    }

    /// The secret of the TSIG key `xfr-key` (hmac-sha256) of `startSignedPrimary`.
    let secret = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
    lazy var key = try! TSIGKey(name: "xfr-key", algorithm: "hmac-sha256", secret: secret)

    /// `start` as a primary for `dir`/test.zone (written by the caller) that allows
    /// transfers from 127.0.0.0/8 signed with `key`.
    func startSignedPrimary() async throws {
        try """
        listen: ["127.0.0.1:0"]
        workers: 1
        data-dir: \(dir!)/data
        keys:
          - name: xfr-key
            algorithm: hmac-sha256
            secret: \(secret)
        zones:
          - name: test
            file: \(dir!)/test.zone
            allow-transfer:
              - address: 127.0.0.0/8
                key: xfr-key
        """.write(toFile: dir + "/bulwark.yaml", atomically: true, encoding: .utf8)
        try await start(configFile: dir + "/bulwark.yaml", overrides: ConfigOverrides())
    }
}
