import BulwarkSettings
import BulwarkTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BulwarkServer

/// The kernel runs the steering program: every query of one client prefix lands on the
/// same socket of the group, whatever its source port, and the socket is the one
/// `ClientPrefixSteering.index` computes.
final class ClientPrefixSteeringTests: XCTestCase {
    func group(_ count: Int, host: String = "127.0.0.1") throws -> (fds: [Int32], port: Int) {
        let address = try ListenAddress(parsing: host.contains(":") ? "[\(host)]:0" : "\(host):0")
        var fds: [Int32] = []
        var port = 0
        for _ in 0..<count {
            let fd = try POSIXSocket.boundUDP(address, port: port, receiveBuffer: 1 << 18)
            if port == 0 { port = POSIXSocket.localPort(fd) }
            fds.append(fd)
        }
        try ClientPrefixSteering.fair(family: address.family, sockets: count, ipv4PrefixLength: 24, ipv6PrefixLength: 56)
            .attach(to: fds[0], address: host)
        return (fds, port)
    }

    /// Sends one datagram from a fresh socket bound to `source` (a new source port each time).
    func send(from source: String, to port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var local = TestClient.sockaddrIn(port: 0, host: source)
        _ = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var remote = TestClient.sockaddrIn(port: port)
        let payload: [UInt8] = Array(repeating: 0x41, count: 20)
        _ = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Which sockets hold datagrams, drained without blocking.
    func sockets(holding fds: [Int32]) -> [Int] {
        var out: [Int] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        for (i, fd) in fds.enumerated() {
            while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {
                out.append(i)
            }
        }
        return out
    }

    func testOnePrefixOneSocketAndTheIndexMatches() throws {
        let (fds, port) = try group(4)
        defer { fds.forEach { close($0) } }
        var used = Set<Int>()
        for source in ["127.0.0.10", "127.1.0.66", "127.2.0.66", "127.3.0.1", "127.4.0.1", "127.0.0.99"] {
            for _ in 0..<6 { send(from: source, to: port) }
            usleep(20_000)
            let got = sockets(holding: fds)
            XCTAssertEqual(got.count, 6, source)
            XCTAssertEqual(Set(got).count, 1, "\(source) landed on sockets \(got)")
            var a = in_addr()
            inet_pton(AF_INET, source, &a)
            let expected = ClientPrefixSteering.index(ipv4: UInt32(bigEndian: a.s_addr), prefixLength: 24, sockets: 4)
            XCTAssertEqual(got.first, expected, source)
            used.insert(expected)
        }
        // The hash spreads these neighbouring /24s over the queues (127.0.0.10 and 127.0.0.99 share one).
        XCTAssertGreaterThanOrEqual(used.count, 3)
    }

    func testMasksAndIndex() {
        XCTAssertEqual(ClientPrefixSteering.mask(24), 0xFFFF_FF00)
        XCTAssertEqual(ClientPrefixSteering.mask(0), 0)
        XCTAssertEqual(ClientPrefixSteering.mask(32), 0xFFFF_FFFF)
        XCTAssertEqual(ClientPrefixSteering.mask(-8), 0)
        // Same /24, same queue; the index is in range.
        let a = ClientPrefixSteering.index(ipv4: 0xC000_0201, prefixLength: 24, sockets: 8)
        XCTAssertEqual(a, ClientPrefixSteering.index(ipv4: 0xC000_02FE, prefixLength: 24, sockets: 8))
        XCTAssertTrue((0..<8).contains(a))
    }

    func testCalmProgramKeepsEveryQueryOnTheFirstSocketOfAWorker() throws {
        let (fds, port) = try group(8)
        defer { fds.forEach { close($0) } }
        // One worker: everything on socket 0.
        try ClientPrefixSteering.calm(family: .v4, workers: 1, queues: 8).attach(to: fds[0], address: "test")
        for source in ["127.0.0.10", "127.1.0.66", "127.2.0.66", "127.3.0.1"] { send(from: source, to: port) }
        usleep(20_000)
        XCTAssertEqual(sockets(holding: fds), [0, 0, 0, 0])
        // Two workers of four queues: sockets 0 and 4 only, and one source port stays on one.
        try ClientPrefixSteering.calm(family: .v4, workers: 2, queues: 4).attach(to: fds[0], address: "test")
        for i in 0..<40 { send(from: "127.0.\(i).1", to: port) }
        usleep(20_000)
        let got = sockets(holding: fds)
        XCTAssertEqual(got.count, 40)
        XCTAssertEqual(Set(got), [0, 4], "both workers get queries, each on its first socket")
    }

    func testIPv6GroupAcceptsTheProgram() throws {
        let fd6 = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd6 >= 0 else { throw XCTSkip("no IPv6") }
        close(fd6)
        // Only a missing ::1 skips; a program the kernel refuses fails the test.
        let probe = try ListenAddress(parsing: "[::1]:0")
        guard let first = try? POSIXSocket.boundUDP(probe, port: 0, receiveBuffer: 1 << 18) else { throw XCTSkip("no ::1") }
        close(first)
        let (fds, port) = try group(3, host: "::1")
        defer { fds.forEach { close($0) } }
        XCTAssertGreaterThan(port, 0)
        XCTAssertNoThrow(try ClientPrefixSteering.calm(family: .v6, workers: 3, queues: 1).attach(to: fds[0], address: "::1"))
    }
}
