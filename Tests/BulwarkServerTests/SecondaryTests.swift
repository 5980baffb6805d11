import BulwarkAuthority
import BulwarkConfig
import BulwarkDefences
import BulwarkSettings
import BulwarkTransfer
import BulwarkWire
import BulwarkZone
import Foundation
import Logging
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import BulwarkServer

final class SecondaryTests: XCTestCase {
    let origin = try! DNSName("example.")

    func soaRecord(_ serial: UInt32, refresh: UInt32 = 100, retry: UInt32 = 10, expire: UInt32 = 1000) -> ResourceRecord {
        var w = WireWriter()
        w.writeName(try! DNSName("ns1.example."))
        w.writeName(try! DNSName("admin.example."))
        for v in [serial, refresh, retry, expire, 300] { w.writeU32(v) }
        return ResourceRecord(owner: origin, type: .soa, ttl: 3600, rdata: w.bytes)
    }

    func testTimers() throws {
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        var t = SecondaryTimers(now: t0)
        XCTAssertEqual(t.nextCheck, t0)
        XCTAssertNil(t.expiresAt)
        // Before any transfer: back off 5, 10, 20 ... up to 300 s.
        t.failed(now: t0)
        XCTAssertEqual(t.nextCheck, t0 + 5)
        t.failed(now: t0)
        XCTAssertEqual(t.nextCheck, t0 + 10)
        for _ in 0..<10 { t.failed(now: t0) }
        XCTAssertEqual(t.nextCheck, t0 + 300)
        // RFC 1034 §4.3.5: REFRESH after a success, RETRY after a failure, EXPIRE after the last success.
        let soa = try SOAFields(record: soaRecord(1))
        t.refreshed(soa, now: t0)
        XCTAssertEqual(t.nextCheck, t0 + 100)
        XCTAssertEqual(t.expiresAt, t0 + 1000)
        t.failed(now: t0 + 100)
        XCTAssertEqual(t.nextCheck, t0 + 110)
        XCTAssertEqual(t.expiresAt, t0 + 1000)  // failures do not move expiry
        XCTAssertFalse(t.isExpired(now: t0 + 999))
        XCTAssertTrue(t.isExpired(now: t0 + 1000))
        t.notified(now: t0 + 120)
        XCTAssertEqual(t.nextCheck, t0 + 120)
        // A zero REFRESH cannot spin.
        t.refreshed(try SOAFields(record: soaRecord(2, refresh: 0)), now: t0)
        XCTAssertEqual(t.nextCheck, t0 + 1)
    }

    func testDiskCopyRoundTripAndDamage() throws {
        let dir = NSTemporaryDirectory() + "bulwark-sec-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let disk = SecondaryDiskCopy(dataDir: dir)
        XCTAssertNil(try disk.read(origin))
        let records = [
            soaRecord(42),
            ResourceRecord(owner: origin, type: .ns, ttl: 3600, rdata: try DNSName("ns1.example.").wire),
            ResourceRecord(owner: try DNSName("WWW.example."), type: .a, ttl: 60, rdata: [192, 0, 2, 1]),
            ResourceRecord(owner: try DNSName("x.example."), type: RRType(65280), ttl: 60, rdata: [1, 2, 3]),
        ]
        let zone = try Zone(origin: origin, records: records)
        try disk.write(zone)
        try disk.writeState(zone: origin, serial: 42, lastRefresh: Date(timeIntervalSince1970: 1234))
        let back = try XCTUnwrap(try disk.read(origin))
        XCTAssertEqual(back.serial, 42)
        XCTAssertEqual(back.records, zone.records)  // case of owners kept too
        XCTAssertEqual(disk.readState(origin)?.serial, 42)
        XCTAssertEqual(disk.readState(origin)?.lastRefresh, Date(timeIntervalSince1970: 1234))
        // A damaged copy is refused, not half-read.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: disk.zonePath(origin))))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: disk.zonePath(origin)))
        XCTAssertThrowsError(try disk.read(origin))
        XCTAssertTrue(disk.zonePath(try DNSName("a/b.example.")).hasSuffix("/a%2Fb.example.zone.bin"))
    }

    func testExpiredStandInAnswersServfail() throws {
        let zone = try Zone(origin: origin, records: [
            soaRecord(7), ResourceRecord(owner: try DNSName("www.example."), type: .a, ttl: 60, rdata: [192, 0, 2, 1]),
        ])
        let standIn = Zone(expiredStandInFor: zone)
        XCTAssertTrue(standIn.isExpired)
        XCTAssertEqual(standIn.serial, 7)
        let live = ZoneSet(zones: [zone]).lookup(qname: try DNSName("www.example."), qtype: .a)
        XCTAssertEqual(live.rcode, .noError)
        let plan = ZoneSet(zones: [standIn]).lookup(qname: try DNSName("www.example."), qtype: .a)
        XCTAssertEqual(plan.rcode, .servFail)
        XCTAssertTrue(plan.answer.isEmpty)
    }

    func testConfig() throws {
        let dir = NSTemporaryDirectory() + "bulwark-seccfg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/b.yaml"
        func load(_ text: String, _ o: ConfigOverrides = ConfigOverrides()) throws -> ServerSettings {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return try Configuration.load(configFile: path, overrides: o).server
        }
        let c = try load("""
        keys:
          - {name: k1, algorithm: hmac-sha256, secret: YnVsd2Fyay1zZWNvbmRhcnktdGVzdC1rZXktMzJvY3Q=}
        secondary-zones:
          - name: example.com
            primaries: ["192.0.2.1", {address: "[2001:db8::1]:5300", key: k1}]
            max-transfer-size: 1048576
            serve-expired: true
            allow-notify: [198.51.100.0/24]
          - name: example.net
            primaries: 192.0.2.2:5353
        """)
        XCTAssertEqual(c.secondaryZones.count, 2)
        let z = c.secondaryZones[0]
        XCTAssertEqual(z.name, try DNSName("example.com."))
        XCTAssertEqual(z.primaries.map(\.description), ["192.0.2.1:53", "[2001:db8::1]:5300 key k1"])
        XCTAssertEqual(z.maxTransferSize, 1 << 20)
        XCTAssertTrue(z.serveExpired)
        XCTAssertEqual(z.allowNotify.count, 1)
        XCTAssertEqual(c.secondaryZones[1].maxTransferSize, SecondaryZoneConfig.defaultMaxTransferSize)
        XCTAssertFalse(c.secondaryZones[1].serveExpired)

        func fails(_ text: String, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try load(text), line: line) { e in
                XCTAssertTrue("\(e)".contains(fragment), "\(e)", line: line)
            }
        }
        fails("secondary-zones:\n  - name: a.example\n", "primaries")
        fails("secondary-zones:\n  - name: a.example\n    primaries: [{address: 192.0.2.1, key: nokey}]\n", "not defined under 'keys'")
        fails("secondary-zones:\n  - primaries: [192.0.2.1]\n", "missing 'name'")
        fails("secondary-zones:\n  - name: a.example\n    primaries: [nonsense]\n", "secondary-zones[0].primaries[0]")
        fails("secondary-zones:\n  - name: a.example\n    primaries: [192.0.2.1]\n    colour: red\n", "unknown key")
        fails("secondary-zones:\n  - name: a.example\n    primaries: [192.0.2.1]\n    serve-expired: maybe\n", ":4")
        fails("zones: [{name: a.example, file: a.zone}]\nsecondary-zones:\n  - name: a.example\n    primaries: [192.0.2.1]\n", "both")

        var o = ConfigOverrides()
        o.secondaries = ["example.org=127.0.0.1:5300,[::1]:5301"]
        let f = try load("", o)
        XCTAssertEqual(f.secondaryZones.first?.primaries.map(\.description), ["127.0.0.1:5300", "[::1]:5301"])
        o.secondaries = ["example.org"]
        XCTAssertThrowsError(try load("", o))
    }

    func testDiskCopyServedAtStartupAndReconfigure() throws {
        let dir = NSTemporaryDirectory() + "bulwark-secmgr-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let other = try DNSName("other.")
        var w = WireWriter()
        w.writeName(try DNSName("ns.other.")); w.writeName(try DNSName("h.other."))
        for v: UInt32 in [9, 100, 10, 1000, 60] { w.writeU32(v) }
        let zone = try Zone(origin: other, records: [ResourceRecord(owner: other, type: .soa, ttl: 60, rdata: w.bytes)])
        try SecondaryDiskCopy(dataDir: dir).write(zone)
        try SecondaryDiskCopy(dataDir: dir).write(try Zone(origin: origin, records: [soaRecord(3)]))
        // The primary (port 9 on loopback) is never asked: the threads are not started.
        let primary = SecondaryPrimary(address: try ListenAddress(host: "127.0.0.1", port: 9))
        let catalog = ZoneCatalog(store: ZoneStore(ZoneSet(zones: [])))
        let m = SecondaryZones(zones: [SecondaryZoneConfig(name: origin, primaries: [primary])], catalog: catalog,
                               dataDir: dir, logger: Logger(label: "test"))
        m.loadCopies()
        XCTAssertEqual(catalog.zone(named: origin)?.serial, 3)
        XCTAssertEqual(catalog.entry(named: origin)?.provenance, .secondary)
        // NOTIFY only from the primary's address.
        XCTAssertEqual(m.notify(zone: origin, from: ClientAddress("127.0.0.2")!, serial: 4), .refused)
        XCTAssertEqual(m.notify(zone: origin, from: ClientAddress("127.0.0.1")!, serial: 4), .accepted)
        XCTAssertEqual(m.notify(zone: other, from: ClientAddress("127.0.0.1")!, serial: 4), .notSecondary)
        // SIGHUP: `other.` added (served from its copy), `example.` removed.
        let r = m.reconfigure([SecondaryZoneConfig(name: other, primaries: [primary])])
        XCTAssertEqual(r.added, [other])
        XCTAssertEqual(r.removed, [origin])
        XCTAssertNil(catalog.zone(named: origin))
        XCTAssertEqual(catalog.zone(named: other)?.serial, 9)
        var changed = SecondaryZoneConfig(name: other, primaries: [primary])
        changed.serveExpired = true
        XCTAssertEqual(m.reconfigure([changed]).changed, [other])
        XCTAssertEqual(m.zoneNames, [other])
    }

    func testTransferConnectionErrors() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        func open(_ host: String, _ port: Int, io: Double) async throws(TransferError) {
            try await TransferConnection.with(host: host, port: port, group: group, connectTimeout: 1, ioTimeout: io,
                                              totalTimeout: 5) { (stream) async throws(TransferError) -> Void in
                try await stream.send([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1])
                _ = try await stream.receive()
            }
        }
        func error(_ body: () async throws(TransferError) -> Void) async -> TransferError? {
            do { try await body(); return nil } catch { return error }
        }
        // A port nobody listens on: connect error, at once.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = Int(UInt16(bigEndian: a.sin_port))
        let refused = await error { () async throws(TransferError) in try await open("127.0.0.1", port, io: 1) }
        XCTAssertEqual(refused?.kind, .connect)
        // Listening but silent: the read times out after the I/O timeout.
        listen(fd, 4)
        defer { close(fd) }
        let t0 = Date()
        let silent = await error { () async throws(TransferError) in try await open("127.0.0.1", port, io: 0.3) }
        XCTAssertEqual(silent?.kind, .timeout, "\(String(describing: silent))")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2)
        let bad = await error { () async throws(TransferError) in try await open("not-an-address", 53, io: 1) }
        XCTAssertEqual(bad?.kind, .connect)
        XCTAssertTrue(bad?.message.contains("not-an-address") == true, "\(String(describing: bad))")
    }

    func testZoneWakeupCutsTheSleepShortAndKeepsAnEarlySignal() async {
        let wakeup = ZoneWakeup()
        // A signal that comes while nobody sleeps is kept for the next sleep.
        wakeup.signal()
        var t0 = Date()
        await wakeup.sleep(seconds: 30)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1)
        // A signal during the sleep ends it.
        t0 = Date()
        Task {
            try? await Task.sleep(nanoseconds: 100_000_000)
            wakeup.signal()
        }
        await wakeup.sleep(seconds: 30)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5)
        // Without a signal, it sleeps its time.
        t0 = Date()
        await wakeup.sleep(seconds: 0.2)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(t0), 0.19)
    }
}
