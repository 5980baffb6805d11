import Atomics
import BulwarkConfig
import BulwarkSettings
import BulwarkTestSupport
import BulwarkWire
import CBulwarkLinux
import Foundation
import Logging
import XCTest
@testable import BulwarkServer
#if canImport(Glibc)
import Glibc
#endif

/// The server in-process on 127.0.0.1 (a free port), queried over real sockets.
final class ServerTests: ServerTestCase {
    override class var directoryPrefix: String { "bulwark-server" }

    func writeZone(_ text: String, name: String = "test.zone") throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startServer(zones: [String], workers: Int = 2, idle: Double = 10, maxConnections: Int = 100,
                     listen: [String] = ["127.0.0.1:0"]) async throws {
        var o = ConfigOverrides()
        o.listen = listen
        o.zones = zones
        o.workers = workers
        o.tcpIdleTimeout = idle
        o.tcpMaxConnections = maxConnections
        try await start(overrides: o)
        XCTAssertNotEqual(port, 0)
    }

    func wwwAddress(_ r: TestResponse?) -> [UInt8]? { r?.answerRData.first }

    // MARK: Layout

    func testMultiMessageLayoutMatchesC() {
        // struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; } on LP64 Linux
        // (CBulwarkLinux's shim.c also checks its copies against the real headers).
        XCTAssertEqual(MemoryLayout<CBulwarkLinux_mmsghdr>.stride, MemoryLayout<msghdr>.size + 8)
        XCTAssertEqual(MemoryLayout<CBulwarkLinux_in6_pktinfo>.size, 20)
    }

    // MARK: UDP

    func testUDPAnswers() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))])
        let r = try XCTUnwrap(TestClient.udp(TestClient.query("www.test."), port: port))
        XCTAssertEqual(r.rcode, 0)
        XCTAssertNotEqual(r.flags & 0x8000, 0, "QR")
        XCTAssertEqual(r.ancount, 1)
        XCTAssertEqual(wwwAddress(r), ipv4("192.0.2.1"))
    }

    func testUDPManyClientsAndBatches() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))])
        // Bursts larger than a recvmmsg batch, from one socket, all answered.
        let fd = TestClient.udpSocket(port: port)
        defer { close(fd) }
        let count = 200
        for i in 0..<count {
            TestClient.sendDatagram(TestClient.query("www.test.", id: UInt16(i)), fd: fd)
        }
        var ids = Set<UInt16>()
        while ids.count < count, let r = TestClient.receiveDatagram(fd: fd) {
            ids.insert(r.id)
        }
        XCTAssertEqual(ids.count, count)
    }

    func testLargeAnswerTruncatedOnUDPWholeOnTCP() async throws {
        var big = ""
        for i in 0..<40 { big += "big IN TXT \"record \(i) \(String(repeating: "x", count: 90))\"\n" }
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1", extra: big)))])
        let udp = try XCTUnwrap(TestClient.udp(TestClient.query("big.test.", type: 16), port: port))
        XCTAssertNotEqual(udp.flags & 0x0200, 0, "TC set over UDP (RFC 1035 §4.2.1)")
        XCTAssertLessThanOrEqual(udp.bytes.count, 512)
        let fd = TestClient.tcpSocket(port: port)
        defer { close(fd) }
        TestClient.sendAll(TestClient.framed(TestClient.query("big.test.", type: 16, id: 8)), fd: fd)
        let tcp = try XCTUnwrap(TestClient.readFramed(fd: fd))
        XCTAssertEqual(tcp.flags & 0x0200, 0)
        XCTAssertEqual(tcp.ancount, 40)
        XCTAssertGreaterThan(tcp.bytes.count, 4000)
    }

    func testUDPMutatedQueriesAreSurvived() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))])
        let fd = TestClient.udpSocket(port: port, timeoutMS: 200)
        defer { close(fd) }
        var rng = TestSeed.generator(95)
        // Valid queries (one with an OPT) with random bytes flipped, cut or appended.
        let withOPT = TestClient.ednsQuery("www.test.", id: 0x1234, options: [(10, [1, 2, 3, 4, 5, 6, 7, 8])])
        for _ in 0..<2000 {
            var q = Bool.random(using: &rng) ? withOPT : TestClient.query("www.test.")
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                q[Int.random(in: 0..<q.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Int.random(in: 0..<4, using: &rng) == 0 { q = Array(q.prefix(Int.random(in: 0..<q.count, using: &rng))) }
            if Int.random(in: 0..<8, using: &rng) == 0 { q += (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
            TestClient.sendDatagram(q, fd: fd)
        }
        _ = TestClient.drain(fd: fd)
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.test.", id: 7), port: port)), ipv4("192.0.2.1"))
    }

    func testUDPGarbageIsSurvived() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))])
        let fd = TestClient.udpSocket(port: port, timeoutMS: 200)
        defer { close(fd) }
        var rng = TestSeed.generator(115)
        var packets: [[UInt8]] = [[], [0], Array(repeating: 0xFF, count: 12), Array(repeating: 0, count: 5000)]
        for _ in 0..<300 {
            packets.append((0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        // A response (QR=1) must not be answered: no reflection loops.
        var response = TestClient.query("www.test.")
        response[2] |= 0x80
        packets.append(response)
        for p in packets {
            TestClient.sendDatagram(p, fd: fd)
        }
        // Drain whatever came back, then the server must still answer.
        _ = TestClient.drain(fd: fd)
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.test.", id: 7), port: port)), ipv4("192.0.2.1"))
        XCTAssertGreaterThan(server.udp.totals.received, 300)
    }

    func testWildcardAddressRepliesFromTheQueriedAddress() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))],
                              listen: ["0.0.0.0:0"])
        // 127.0.0.2 is local too; a socket connected to it only accepts replies from it,
        // so this passes only if IP_PKTINFO sets the reply's source address.
        for host in ["127.0.0.1", "127.0.0.2"] {
            let fd = TestClient.udpSocket(port: port, host: host)
            defer { close(fd) }
            XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.test."), fd: fd)), ipv4("192.0.2.1"), host)
        }
    }

    func testIPv6() async throws {
        let probe = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_addr = in6addr_loopback
        let usable = probe >= 0 && withUnsafePointer(to: &sin6) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        } == 0
        close(probe)
        try XCTSkipUnless(usable, "no IPv6 loopback here")
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))],
                              listen: ["[::1]:0"])
        // UDP
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        sin6.sin6_port = in_port_t(UInt16(port).bigEndian)
        let len = socklen_t(MemoryLayout<sockaddr_in6>.size)
        XCTAssertEqual(withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) } }, 0)
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.test."), fd: fd)), ipv4("192.0.2.1"))
        // TCP
        let t = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(t) }
        setsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        XCTAssertEqual(withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(t, $0, len) } }, 0)
        TestClient.sendAll(TestClient.framed(TestClient.query("www.test.", id: 66)), fd: t)
        XCTAssertEqual(wwwAddress(TestClient.readFramed(fd: t)), ipv4("192.0.2.1"))
    }

    func testPortInUseIsAnError() async throws {
        let zone = "test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))
        try await startServer(zones: [zone])
        var o = ConfigOverrides()
        o.listen = ["127.0.0.1:\(port)"]
        o.zones = [zone]
        let second = DNSServer(config: try Configuration.load(configFile: nil, overrides: o).server, logger: logger)
        try second.loadZones()
        do {
            try await second.start()
            XCTFail("a second server bound the same port")
            await second.stop()
        } catch {}
        // The first one is unaffected.
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.test."), port: port)), ipv4("192.0.2.1"))
    }

    // MARK: TCP

    func testTCPPipelinedQueries() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))])
        let fd = TestClient.tcpSocket(port: port)
        defer { close(fd) }
        // Two queries in one write (RFC 7766 §6.2.1.1): both answered.
        TestClient.sendAll(TestClient.framed(TestClient.query("www.test.", id: 1)) + TestClient.framed(TestClient.query("ns1.test.", id: 2)), fd: fd)
        let a = try XCTUnwrap(TestClient.readFramed(fd: fd))
        let b = try XCTUnwrap(TestClient.readFramed(fd: fd))
        XCTAssertEqual(Set([a.id, b.id]), [1, 2])
        let byID = [a.id: a, b.id: b]
        XCTAssertEqual(wwwAddress(byID[1]), ipv4("192.0.2.1"))
        XCTAssertEqual(wwwAddress(byID[2]), ipv4("192.0.2.53"))
        // A query split across writes, byte by byte for the length.
        let q = TestClient.framed(TestClient.query("www.test.", id: 3))
        TestClient.sendAll([q[0]], fd: fd)
        usleep(20_000)
        TestClient.sendAll(Array(q[1..<5]), fd: fd)
        usleep(20_000)
        TestClient.sendAll(Array(q[5...]), fd: fd)
        XCTAssertEqual(TestClient.readFramed(fd: fd)?.id, 3)
    }

    func testTCPManyPipelined() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))])
        let fd = TestClient.tcpSocket(port: port)
        defer { close(fd) }
        var all: [UInt8] = []
        for i in 0..<500 { all += TestClient.framed(TestClient.query("www.test.", id: UInt16(i))) }
        TestClient.sendAll(all, fd: fd)
        var ids = Set<UInt16>()
        for _ in 0..<500 {
            guard let r = TestClient.readFramed(fd: fd) else { break }
            ids.insert(r.id)
        }
        XCTAssertEqual(ids.count, 500)
    }

    func testTCPIdleTimeoutClosesConnection() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))], idle: 0.3)
        let fd = TestClient.tcpSocket(port: port, timeoutMS: 3000)
        defer { close(fd) }
        // Half a length prefix does not count as activity.
        TestClient.sendAll([0], fd: fd)
        let start = Date()
        var b: UInt8 = 0
        let n = recv(fd, &b, 1, 0)
        XCTAssertEqual(n, 0, "closed by the server")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.5)
    }

    func testTCPConnectionCapClosesTheLongestIdleToMakeRoom() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))], maxConnections: 2)
        let a = TestClient.tcpSocket(port: port), b = TestClient.tcpSocket(port: port)
        defer { close(a); close(b) }
        // Make sure both are accepted before the third arrives.
        for (i, fd) in [a, b].enumerated() {
            TestClient.sendAll(TestClient.framed(TestClient.query("www.test.", id: UInt16(i))), fd: fd)
            XCTAssertNotNil(TestClient.readFramed(fd: fd))
            usleep(50_000)  // a has been idle clearly longer than b
        }
        let c = TestClient.tcpSocket(port: port)
        defer { close(c) }
        // Full: the connection idle longest (a) is closed to make room (Knot's behaviour),
        // and the newcomer is answered.
        TestClient.sendAll(TestClient.framed(TestClient.query("www.test.", id: 9)), fd: c)
        XCTAssertEqual(TestClient.readFramed(fd: c)?.id, 9, "the newcomer is served")
        usleep(100_000)  // the eviction's close runs on a's event loop
        TestClient.sendAll(TestClient.framed(TestClient.query("www.test.", id: 5)), fd: a)
        XCTAssertNil(TestClient.readFramed(fd: a), "the longest-idle connection was closed")
        TestClient.sendAll(TestClient.framed(TestClient.query("www.test.", id: 6)), fd: b)
        XCTAssertEqual(TestClient.readFramed(fd: b)?.id, 6, "the other one still works")
    }

    func testTCPGarbageClosesOnlyThatConnection() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))])
        let bad = TestClient.tcpSocket(port: port, timeoutMS: 500)
        TestClient.sendAll([0, 3, 1, 2, 3, 0xFF, 0xFF] + Array(repeating: 0xAB, count: 3000), fd: bad)
        close(bad)
        let fd = TestClient.tcpSocket(port: port)
        defer { close(fd) }
        TestClient.sendAll(TestClient.framed(TestClient.query("www.test.", id: 4)), fd: fd)
        XCTAssertEqual(TestClient.readFramed(fd: fd)?.id, 4)
    }

    // MARK: Reload

    func testReloadSwapsDataWhileQueriesRun() async throws {
        let path = try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1"))
        try await startServer(zones: ["test=" + path])
        let port = self.port
        let failures = ManagedAtomic<Int>(0)
        let answered = ManagedAtomic<Int>(0)
        let stop = ManagedAtomic<Bool>(false)
        let valid: Set<[UInt8]> = [ipv4("192.0.2.1"), ipv4("192.0.2.2")]
        let loop = Thread {
            let fd = TestClient.udpSocket(port: port, timeoutMS: 1000)
            defer { close(fd) }
            var id: UInt16 = 0
            while !stop.load(ordering: .relaxed) && answered.load(ordering: .relaxed) < 20_000 {
                id &+= 1
                let r = TestClient.udp(TestClient.query("www.test.", id: id), fd: fd)
                if let a = r?.answerRData.first, r?.rcode == 0, valid.contains(a) {
                    answered.wrappingIncrement(ordering: .relaxed)
                } else {
                    failures.wrappingIncrement(ordering: .relaxed)
                }
            }
        }
        loop.start()
        for i in 0..<20 {
            let www = i % 2 == 0 ? "192.0.2.2" : "192.0.2.1"
            _ = try writeZone(Self.zoneText(serial: 2 + i, www: www))
            let report = server.reload()
            XCTAssertEqual(report.loaded.count, 1)
            XCTAssertTrue(report.failed.isEmpty)
            try await Task.sleep(for: .milliseconds(10))
        }
        // Last reload (i = 19) wrote 192.0.2.1; serial 21.
        stop.store(true, ordering: .relaxed)
        while !loop.isFinished { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
        XCTAssertGreaterThan(answered.load(ordering: .relaxed), 20)
        XCTAssertEqual(server.store.current.zones.first?.serial, 21)
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.test."), port: port)), ipv4("192.0.2.1"))
    }

    func testBrokenZoneOnReloadKeepsOldVersion() async throws {
        let path = try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1"))
        let other = try writeZone(Self.zoneText(serial: 5, www: "192.0.2.9").replacingOccurrences(of: "test.", with: "other."), name: "other.zone")
        try await startServer(zones: ["test=" + path, "other=" + other])
        _ = try writeZone(Self.zoneText(serial: 2, www: "192.0.2.2", extra: "bad   IN A   not-an-address"))
        _ = try writeZone(Self.zoneText(serial: 6, www: "192.0.2.10").replacingOccurrences(of: "test.", with: "other."), name: "other.zone")
        let report = server.reload()
        XCTAssertEqual(report.failed.map(\.zone.description), ["test."])
        XCTAssertEqual(report.kept.map(\.description), ["test."])
        XCTAssertTrue(report.failed[0].reason.contains("test.zone"), report.failed[0].reason)
        XCTAssertEqual(report.loaded.map(\.description), ["other."])
        // test. still serves serial 1's data; other. moved on.
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.test."), port: port)), ipv4("192.0.2.1"))
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.other."), port: port)), ipv4("192.0.2.10"))
        // Deleted file: still kept.
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(server.reload().kept.map(\.description), ["test."])
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.test."), port: port)), ipv4("192.0.2.1"))
    }

    func testUnreadableConfigOnReloadChangesNothing() async throws {
        let path = try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1"))
        let calls = ManagedAtomic<Int>(0)
        var o = ConfigOverrides()
        o.listen = ["127.0.0.1:0"]
        let config = try Configuration.load(configFile: nil, overrides: o).server
        try await start(DNSServer(config: config, logger: logger) {
            guard calls.loadThenWrappingIncrement(ordering: .relaxed) == 0 else {
                throw ConfigError(file: "bulwark.yaml", line: 3, key: "zones", "must be a list")
            }
            return [ZoneSource(name: try DNSName("test."), path: path)]
        })
        let report = server.reload()
        XCTAssertEqual(report.configError, "bulwark.yaml:3: zones: must be a list")
        XCTAssertEqual(report.served, 1)
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.test."), port: port)), ipv4("192.0.2.1"))
    }

    func testRemovedZoneIsDroppedOnReload() async throws {
        let a = try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1"))
        let b = try writeZone(Self.zoneText(serial: 1, www: "192.0.2.7").replacingOccurrences(of: "test.", with: "other."), name: "other.zone")
        let list = ManagedAtomic<Int>(2)
        var o = ConfigOverrides()
        o.listen = ["127.0.0.1:0"]
        try await start(DNSServer(config: try Configuration.load(configFile: nil, overrides: o).server, logger: logger) {
            let all = [ZoneSource(name: try DNSName("test."), path: a), ZoneSource(name: try DNSName("other."), path: b)]
            return Array(all.prefix(list.load(ordering: .relaxed)))
        })
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.other."), port: port)), ipv4("192.0.2.7"))
        list.store(1, ordering: .relaxed)
        XCTAssertEqual(server.reload().removed.map(\.description), ["other."])
        // No longer ours: REFUSED (RFC 1035 §4.1.1; what NSD and Knot send).
        XCTAssertEqual(TestClient.udp(TestClient.query("www.other."), port: port)?.rcode, 5)
    }

    func testStartupFailsWhenNoZoneLoads() throws {
        var o = ConfigOverrides()
        o.listen = ["127.0.0.1:0"]
        o.zones = ["test=" + dir + "/missing.zone"]
        let config = try Configuration.load(configFile: nil, overrides: o).server
        let s = DNSServer(config: config, logger: logger)
        XCTAssertThrowsError(try s.loadZones())
    }

    func testStartupWithOneBadZoneServesTheOthers() async throws {
        let good = try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1"))
        try await startServer(zones: ["test=" + good, "broken=" + dir + "/missing.zone"])
        XCTAssertEqual(server.store.current.zones.count, 1)
        XCTAssertEqual(wwwAddress(TestClient.udp(TestClient.query("www.test."), port: port)), ipv4("192.0.2.1"))
    }

    func testExampleZoneLoads() throws {
        let zone = try ZoneLoader.load(ExampleZone.source, logger: logger)
        XCTAssertEqual(zone.serial, 2024060101)
        XCTAssertGreaterThan(ZoneLoader.recordCount(zone), 20)
    }

    func testStopIsPromptAndRestartable() async throws {
        try await startServer(zones: ["test=" + (try writeZone(Self.zoneText(serial: 1, www: "192.0.2.1")))])
        let start = Date()
        await server.stop()
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertNil(TestClient.udp(TestClient.query("www.test."), port: port, timeoutMS: 200))
        server = nil
    }
}
