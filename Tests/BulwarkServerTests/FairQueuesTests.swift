import BulwarkConfig
import BulwarkTestSupport
import Foundation
import Logging
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BulwarkServer

/// Fair UDP queues against a running server: calm, every query is answered from the
/// first socket; under a flood from one prefix the server switches to queuing by prefix,
/// answers other prefixes throughout, and switches back when the flood stops.
final class FairQueuesTests: ServerTestCase {
    override class var directoryPrefix: String { "bulwark-fairqueues" }

    func start(queues: Int) async throws {
        let path = dir + "/test.zone"
        try Self.zoneText(serial: 1, www: "192.0.2.1").write(toFile: path, atomically: true, encoding: .utf8)
        var o = ConfigOverrides()
        o.listen = ["127.0.0.1:0"]
        o.zones = ["test=" + path]
        o.workers = 1
        o.udpQueues = queues
        try await start(overrides: o)
    }

    /// A UDP socket bound to `source`, connected to the server, with a receive timeout.
    static func socket(from source: String, port: Int, timeoutMS: Int = 1000) -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var tv = timeval(tv_sec: timeoutMS / 1000, tv_usec: (timeoutMS % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var local = TestClient.sockaddrIn(port: 0, host: source)
        var remote = TestClient.sockaddrIn(port: port)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
        _ = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, size) } }
        return fd
    }

    /// One query from each source, each answered (NOERROR with the A record).
    func assertAnswered(from sources: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        for (i, source) in sources.enumerated() {
            let fd = Self.socket(from: source, port: port)
            defer { close(fd) }
            let r = TestClient.udp(TestClient.query("www.test.", id: UInt16(100 + i)), fd: fd)
            XCTAssertEqual(r?.rcode, 0, "\(message): \(source)", file: file, line: line)
            XCTAssertEqual(r?.ancount, 1, "\(message): \(source)", file: file, line: line)
        }
    }

    let others = ["127.0.0.10", "127.1.0.66", "127.2.0.66", "127.3.0.1", "127.4.0.1", "127.5.0.9"]

    func testCalmThenFairUnderAFloodThenCalmAgain() async throws {
        try await start(queues: 4)
        assertAnswered(from: others, "calm")
        XCTAssertEqual(server.udp.fairQueues.active, false)

        // A flood from one prefix, faster than a debug build answers, for a bounded time.
        let stop = ManagedFlag()
        let port = self.port
        let flooder = Thread {
            let fd = FairQueuesTests.socket(from: "127.9.0.1", port: port, timeoutMS: 10)
            // Other traffic beside the flood (without it there is nobody to be fair to).
            let trickle = FairQueuesTests.socket(from: "127.7.0.1", port: port, timeoutMS: 10)
            defer { close(fd); close(trickle) }
            var bigger: Int32 = 1 << 20
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bigger, socklen_t(MemoryLayout<Int32>.size))
            let q = TestClient.query("nothing-here.test.", id: 7)
            var sink = [UInt8](repeating: 0, count: 512)
            let deadline = Date().addingTimeInterval(8)
            while !stop.isSet && Date() < deadline {
                for _ in 0..<64 { _ = q.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) } }
                _ = q.withUnsafeBytes { send(trickle, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                while sink.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
                while sink.withUnsafeMutableBytes({ recv(trickle, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
            }
        }
        flooder.start()
        defer { stop.set() }
        var wentFair = false
        for _ in 0..<60 where !wentFair {
            try await Task.sleep(nanoseconds: 50_000_000)
            wentFair = server.udp.fairQueues.active
        }
        XCTAssertTrue(wentFair, "a saturated worker switches to fair queues")
        // Prefixes on the other queues are answered while the flood goes on (those that
        // hash to the flood's queue wait behind it: that is the trade).
        func queue(_ a: String) -> Int {
            var addr = in_addr()
            inet_pton(AF_INET, a, &addr)
            return ClientPrefixSteering.index(ipv4: UInt32(bigEndian: addr.s_addr), prefixLength: 24, sockets: 4)
        }
        let elsewhere = others.filter { queue($0) != queue("127.9.0.1") }
        XCTAssertGreaterThanOrEqual(elsewhere.count, 3)
        assertAnswered(from: elsewhere, "during the flood")
        XCTAssertTrue(server.udp.fairQueues.active)

        stop.set()
        var calmAgain = false
        for _ in 0..<80 where !calmAgain {
            try await Task.sleep(nanoseconds: 50_000_000)
            calmAgain = !server.udp.fairQueues.active
        }
        XCTAssertTrue(calmAgain, "a second without a full batch switches back")
        XCTAssertGreaterThanOrEqual(server.udp.fairQueues.transitions, 2)
        assertAnswered(from: others + ["127.9.0.1"], "calm again")
    }

    func testOneBusyClientAloneNeverSwitches() async throws {
        try await start(queues: 4)
        // A client saturating the worker with nobody beside it: fair queues would cost
        // a poll per round and help nobody.
        let fd = Self.socket(from: "127.9.0.1", port: port, timeoutMS: 10)
        defer { close(fd) }
        let q = TestClient.query("www.test.", id: 9)
        var sink = [UInt8](repeating: 0, count: 512)
        let deadline = Date().addingTimeInterval(1.5)
        while Date() < deadline {
            for _ in 0..<64 { _ = q.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) } }
            while sink.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
        }
        XCTAssertEqual(server.udp.fairQueues.transitions, 0)
        // The backlog (megabytes of queries, a debug build) drains, then all is answered.
        let probe = Self.socket(from: "127.0.0.10", port: port, timeoutMS: 500)
        defer { close(probe) }
        for i in 0..<20 where TestClient.udp(TestClient.query("www.test.", id: UInt16(500 + i)), fd: probe) == nil {}
        assertAnswered(from: others, "after the load")
        XCTAssertEqual(server.udp.fairQueues.transitions, 0)
    }

    func testOneQueueNeverSwitches() async throws {
        try await start(queues: 1)
        assertAnswered(from: others, "one queue")
        XCTAssertEqual(server.udp.fairQueues.active, false)
        XCTAssertEqual(server.udp.fairQueues.transitions, 0)
    }
}

/// A flag one thread sets and another reads.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
