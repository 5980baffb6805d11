import BulwarkConfig
import BulwarkSettings
import BulwarkTestSupport
import BulwarkTransfer
import BulwarkWire
import BulwarkZone
import Foundation
import Logging
import NIOPosix
import XCTest
@testable import BulwarkServer
#if canImport(Glibc)
import Glibc
#endif

/// Each secondary zone refreshes on its own: zones whose primary accepts the connection
/// and never answers do not hold up a zone whose primary (an in-process Bulwark, TSIG)
/// answers. There are more stuck zones than the two refresh threads of old.
final class SecondaryIndependenceTests: ServerTestCase {
    override class var directoryPrefix: String { "bulwark-secind" }

    /// Zone `test.` with REFRESH and RETRY of one second.
    func writeZone(serial: Int, www: String) throws {
        try """
        $ORIGIN test.
        $TTL 300
        @     IN SOA ns1.test. hostmaster.test. \(serial) 1 1 86400 300
        @     IN NS  ns1.test.
        ns1   IN A   192.0.2.53
        www   IN A   \(www)
        """.write(toFile: dir + "/test.zone", atomically: true, encoding: .utf8)
    }

    func startPrimary() async throws {
        try writeZone(serial: 1, www: "192.0.2.1")
        try await startSignedPrimary()
    }

    /// A TCP port on 127.0.0.1 that completes the handshake (the kernel's backlog) and
    /// never reads or answers.
    func silentListener() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sin = TestClient.sockaddrIn(port: 0)
        _ = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 16)
        return (fd, POSIXSocket.localPort(fd))
    }

    /// Polls `condition` until it holds or `seconds` pass; returns whether it held.
    func eventually(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }

    func testZoneWithALivePrimaryIsTransferredAndRefreshedWhileOthersAreStuck() async throws {
        try await startPrimary()
        let silent = silentListener()
        defer { close(silent.fd) }
        let test = try DNSName("test.")
        let stuck = try (1...3).map { try DNSName("stuck\($0).") }
        let silentPrimary = SecondaryPrimary(address: try ListenAddress(host: "127.0.0.1", port: silent.port))
        let livePrimary = SecondaryPrimary(address: try ListenAddress(host: "127.0.0.1", port: port), keyName: "xfr-key")
        // The stuck zones come first: the refresh threads of old took them first.
        let zones = stuck.map { SecondaryZoneConfig(name: $0, primaries: [silentPrimary]) }
            + [SecondaryZoneConfig(name: test, primaries: [livePrimary])]
        let catalog = ZoneCatalog(store: ZoneStore(ZoneSet(zones: [])))
        let key = self.key
        let secondaries = SecondaryZones(zones: zones, catalog: catalog, dataDir: dir + "/secondary", logger: logger,
                                         group: MultiThreadedEventLoopGroup.singleton,
                                         authenticator: { $0 == "xfr-key" ? TSIGTransferAuthenticator(key: key) : nil })
        secondaries.ioTimeout = 30  // longer than the test: the stuck zones stay stuck
        final class Transfers: @unchecked Sendable {  // `list` only under `lock`
            let lock = NSLock()
            var list: [String] = []
        }
        let transfers = Transfers()
        secondaries.onTransfer = { zone, kind, ok in transfers.lock.withLock { transfers.list.append("\(zone) \(kind) \(ok)") } }
        secondaries.loadCopies()
        secondaries.start()
        func status(_ name: DNSName) -> SecondaryZoneStatus? { secondaries.status.first { $0.name == name } }

        // Transferred at once (AXFR, signed) ...
        let transferred = await eventually(5) { catalog.zone(named: test).map { !$0.isExpired && $0.serial == 1 } ?? false }
        XCTAssertTrue(transferred, "\(String(describing: status(test)))")
        XCTAssertEqual(status(test)?.axfrCount, 1)
        // The on-disk copy is written once the zone is served (on the thread pool).
        let copied = await eventually(5) { FileManager.default.fileExists(atPath: secondaries.disk.zonePath(test)) }
        XCTAssertTrue(copied)
        // ... then checked again after REFRESH (1 s) ...
        let refreshed = await eventually(4) { (status(test)?.upToDateCount ?? 0) >= 2 }
        XCTAssertTrue(refreshed, "\(String(describing: status(test)))")
        // ... and a new serial at the primary arrives by IXFR within REFRESH.
        try writeZone(serial: 2, www: "192.0.2.2")
        server.reload()
        await server.replication.sync()
        let updated = await eventually(5) { catalog.zone(named: test)?.serial == 2 }
        XCTAssertTrue(updated, "\(String(describing: status(test)))")
        XCTAssertEqual(status(test)?.ixfrCount, 1)
        XCTAssertEqual(transfers.lock.withLock { transfers.list }, ["test. AXFR true", "test. IXFR true"])
        // Meanwhile every stuck zone is still waiting for its first answer: no failure
        // counted yet, the SERVFAIL stand-in served.
        for name in stuck {
            XCTAssertEqual(status(name)?.failureCount, 0, "\(name)")
            XCTAssertNil(status(name)?.serial, "\(name)")
            XCTAssertEqual(catalog.zone(named: name)?.isExpired, true, "\(name)")
        }
        // Stopping abandons the stuck exchanges at once.
        let t0 = Date()
        await secondaries.stop()
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2)
        XCTAssertEqual(status(stuck[0])?.failureCount, 0)
    }
}
