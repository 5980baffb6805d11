import BulwarkConfig
import BulwarkDefences
import BulwarkTestSupport
import Foundation
import Logging
import XCTest
@testable import BulwarkServer
#if canImport(Glibc)
import Glibc
#endif

/// The defences against a running server on loopback: rate limiting, cookies, access lists.
final class DefencesTests: ServerTestCase {
    override class var directoryPrefix: String { "bulwark-defences" }

    /// Serves the test zone (`zone`, default ServerTests' with www 192.0.2.1) from one
    /// worker on 127.0.0.1, with `configFile` (if any) and the overrides `configure` sets.
    func start(zone: String = ServerTests.zoneText(serial: 1, www: "192.0.2.1"), configFile: String? = nil,
               _ configure: (inout ConfigOverrides) -> Void = { _ in }) async throws {
        let path = dir + "/test.zone"
        try zone.write(toFile: path, atomically: true, encoding: .utf8)
        var o = ConfigOverrides()
        o.listen = ["127.0.0.1:0"]
        o.zones = ["test=" + path]
        o.workers = 1
        configure(&o)
        try await start(configFile: configFile, overrides: o)
    }

    /// Sends `queries` as fast as the socket takes them, in chunks of 25 with the replies
    /// read in between (so the receive buffer does not overflow), then collects replies
    /// until none comes for 300 ms.
    func burst(_ queries: [[UInt8]], fd: Int32) -> [TestResponse] {
        var out: [TestResponse] = []
        for (i, q) in queries.enumerated() {
            TestClient.sendDatagram(q, fd: fd)
            if i % 25 == 24 {
                usleep(1000)
                out += TestClient.drain(fd: fd, flags: Int32(MSG_DONTWAIT))
            }
        }
        return out + TestClient.drain(fd: fd)
    }

    let clientCookie: [UInt8] = [0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57]

    // MARK: Rate limiting

    func testRateLimitDropsAndSlipsAFlood() async throws {
        try await start { o in
            o.rateLimit = 10
            o.rateLimitSlip = 2
        }
        let fd = TestClient.udpSocket(port: port, timeoutMS: 300)
        defer { close(fd) }
        let queries = (0..<500).map { TestClient.query("www.test.", id: UInt16($0)) }
        let replies = burst(queries, fd: fd)
        let full = replies.filter { !$0.tc && $0.ancount == 1 }
        let truncated = replies.filter { $0.tc && $0.ancount == 0 }
        XCTAssertEqual(full.count + truncated.count, replies.count, "only answers and empty TC answers")
        XCTAssertGreaterThanOrEqual(full.count, 10, "the burst allowance")
        XCTAssertLessThanOrEqual(full.count, 25, "the rate (10/s) over the test's fraction of a second")
        let limited = 500 - full.count
        XCTAssertEqual(Double(truncated.count), Double(limited) / 2, accuracy: 3, "every second limited response slips")
        XCTAssertLessThan(replies.count, 300, "most of the flood dropped")
        // Every reply still answers its query (id, question echoed).
        XCTAssertTrue(truncated.allSatisfy { $0.qdcount == 1 && $0.rcode == 0 })
        // TCP is never limited.
        let t = TestClient.tcpSocket(port: port)
        defer { close(t) }
        TestClient.sendAll(TestClient.framed(TestClient.query("www.test.", id: 9999)), fd: t)
        XCTAssertEqual(TestClient.readFramed(fd: t)?.ancount, 1)
        // Another name is another bucket.
        XCTAssertEqual(TestClient.udp(TestClient.query("ns1.test.", id: 7777), fd: fd)?.ancount, 1)
    }

    func testRandomNamesUnderAWildcardShareABucket() async throws {
        try await start(zone: ServerTests.zoneText(serial: 1, www: "192.0.2.1", extra: "*.wild 300 IN A 192.0.2.9")) { o in
            o.rateLimit = 10
            o.rateLimitSlip = 0
        }
        let fd = TestClient.udpSocket(port: port, timeoutMS: 300)
        defer { close(fd) }
        let replies = burst((0..<300).map { TestClient.query("r\($0)x.wild.test.", id: UInt16($0)) }, fd: fd)
        XCTAssertGreaterThanOrEqual(replies.count, 10)
        XCTAssertLessThanOrEqual(replies.count, 25, "a random-subdomain flood on a wildcard is limited")
        XCTAssertTrue(replies.allSatisfy { $0.ancount == 1 })
    }

    func testValidCookieIsNotLimited() async throws {
        try await start { o in
            o.rateLimit = 10
        }
        let fd = TestClient.udpSocket(port: port, timeoutMS: 300)
        defer { close(fd) }
        // Learn the server cookie (RFC 7873 §5.3).
        let first = try XCTUnwrap(TestClient.udp(TestClient.ednsQuery("www.test.", id: 1, options: [(10, clientCookie)]), fd: fd))
        let cookie = try XCTUnwrap(first.opt?.options[10])
        XCTAssertEqual(cookie.count, 24)
        XCTAssertEqual(Array(cookie.prefix(8)), clientCookie)
        let queries = (0..<500).map { TestClient.ednsQuery("www.test.", id: UInt16(1000 + $0), options: [(10, cookie)]) }
        let replies = burst(queries, fd: fd)
        XCTAssertGreaterThan(replies.count, 450)
        XCTAssertTrue(replies.allSatisfy { !$0.tc && $0.ancount == 1 }, "none limited")
        // Without the cookie the same client is limited.
        let plain = burst((0..<100).map { TestClient.query("www.test.", id: UInt16(5000 + $0)) }, fd: fd)
        XCTAssertLessThan(plain.filter { !$0.tc }.count, 30)
    }

    func testExemptPrefixIsNotLimited() async throws {
        let yaml = dir + "/bulwark.yaml"
        try "rate-limit: {responses-per-second: 5, exempt: [127.0.0.0/8]}\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        try await start(configFile: yaml)
        let fd = TestClient.udpSocket(port: port, timeoutMS: 300)
        defer { close(fd) }
        let replies = burst((0..<200).map { TestClient.query("www.test.", id: UInt16($0)) }, fd: fd)
        XCTAssertGreaterThan(replies.count, 180)
        XCTAssertTrue(replies.allSatisfy { !$0.tc })
    }

    // MARK: Cookies

    func testCookies() async throws {
        try await start()
        let fd = TestClient.udpSocket(port: port)
        defer { close(fd) }
        // Client cookie only: a normal answer with the client cookie and a fresh server cookie.
        let r1 = try XCTUnwrap(TestClient.udp(TestClient.ednsQuery("www.test.", id: 1, options: [(10, clientCookie)]), fd: fd))
        XCTAssertEqual(r1.rcode, 0)
        XCTAssertEqual(r1.ancount, 1)
        let cookie = try XCTUnwrap(r1.opt?.options[10])
        XCTAssertEqual(cookie.count, 24)
        XCTAssertEqual(Array(cookie[0..<8]), clientCookie)
        XCTAssertEqual(Array(cookie[8..<12]), [1, 0, 0, 0], "RFC 9018 version 1, reserved 0")
        // Presenting it: a normal answer, renewed.
        let r2 = try XCTUnwrap(TestClient.udp(TestClient.ednsQuery("www.test.", id: 2, options: [(10, cookie)]), fd: fd))
        XCTAssertEqual(r2.rcode, 0)
        XCTAssertEqual(r2.opt?.options[10]?.count, 24)
        // A forged server cookie: still answered (no `require`), with a new cookie.
        var forged = cookie
        forged[20] ^= 0xFF
        let r3 = try XCTUnwrap(TestClient.udp(TestClient.ednsQuery("www.test.", id: 3, options: [(10, forged)]), fd: fd))
        XCTAssertEqual(r3.rcode, 0)
        XCTAssertEqual(r3.ancount, 1)
        XCTAssertEqual(r3.opt?.options[10]?.count, 24)
        // RFC 7873 §5.2.2: a malformed COOKIE length is FORMERR.
        for length in [0, 7, 9, 15, 41] {
            let r = try XCTUnwrap(TestClient.udp(TestClient.ednsQuery("www.test.", id: 4, options: [(10, [UInt8](repeating: 1, count: length))]), fd: fd))
            XCTAssertEqual(r.rcode, 1, "length \(length)")
        }
        // No cookie: no cookie in the answer.
        let r5 = try XCTUnwrap(TestClient.udp(TestClient.ednsQuery("www.test.", id: 5), fd: fd))
        XCTAssertNil(r5.opt?.options[10])
        // Over TCP too.
        let t = TestClient.tcpSocket(port: port)
        defer { close(t) }
        TestClient.sendAll(TestClient.framed(TestClient.ednsQuery("www.test.", id: 6, options: [(10, clientCookie)])), fd: t)
        XCTAssertEqual(TestClient.readFramed(fd: t)?.opt?.options[10]?.count, 24)
    }

    func testCookiesRequired() async throws {
        try await start { o in o.cookies = "require" }
        let fd = TestClient.udpSocket(port: port)
        defer { close(fd) }
        // RFC 7873 §5.2.3: BADCOOKIE (23: header 7, extended 1) with a new server cookie.
        let r1 = try XCTUnwrap(TestClient.udp(TestClient.ednsQuery("www.test.", id: 1, options: [(10, clientCookie)]), fd: fd))
        XCTAssertEqual(r1.rcode, 7)
        XCTAssertEqual(r1.opt?.extendedRCode, 1)
        XCTAssertEqual(r1.ancount, 0)
        let cookie = try XCTUnwrap(r1.opt?.options[10])
        let r2 = try XCTUnwrap(TestClient.udp(TestClient.ednsQuery("www.test.", id: 2, options: [(10, cookie)]), fd: fd))
        XCTAssertEqual(r2.rcode, 0)
        XCTAssertEqual(r2.ancount, 1)
        // A client that does not do cookies is answered; so is TCP without a server cookie.
        XCTAssertEqual(TestClient.udp(TestClient.query("www.test.", id: 3), fd: fd)?.ancount, 1)
        let t = TestClient.tcpSocket(port: port)
        defer { close(t) }
        TestClient.sendAll(TestClient.framed(TestClient.ednsQuery("www.test.", id: 4, options: [(10, clientCookie)])), fd: t)
        XCTAssertEqual(TestClient.readFramed(fd: t)?.ancount, 1)
    }

    // MARK: Access control

    func testDeniedPrefixIsRefusedWithEDE18() async throws {
        try await start { o in o.deny = ["127.0.0.0/8"] }
        let fd = TestClient.udpSocket(port: port)
        defer { close(fd) }
        let r = try XCTUnwrap(TestClient.udp(TestClient.ednsQuery("www.test.", id: 1), fd: fd))
        XCTAssertEqual(r.rcode, 5)
        XCTAssertEqual(r.ancount, 0)
        XCTAssertEqual(r.opt?.options[15], [0, 18], "RFC 8914 Prohibited")
        let plain = try XCTUnwrap(TestClient.udp(TestClient.query("www.test.", id: 2), fd: fd))
        XCTAssertEqual(plain.rcode, 5)
        XCTAssertNil(plain.opt)
        let t = TestClient.tcpSocket(port: port)
        defer { close(t) }
        TestClient.sendAll(TestClient.framed(TestClient.query("www.test.", id: 3)), fd: t)
        XCTAssertEqual(TestClient.readFramed(fd: t)?.rcode, 5)
    }

    func testDenyActionDrop() async throws {
        try await start { o in
            o.allow = ["10.0.0.0/8"]
            o.denyAction = "drop"
        }
        XCTAssertNil(TestClient.udp(TestClient.query("www.test."), port: port, timeoutMS: 300))
    }

    func testAllowedPrefixIsAnswered() async throws {
        try await start { o in
            o.allow = ["127.0.0.0/8"]
            o.deny = ["127.0.0.2"]
        }
        XCTAssertEqual(TestClient.udp(TestClient.query("www.test."), port: port)?.ancount, 1)
    }

    // MARK: Client addresses

    func testClientAddressFromSocketAddresses() {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self).pointee = TestClient.sockaddrIn(port: 53, host: "192.0.2.77")
        }
        XCTAssertEqual(ClientAddress(socketAddress: &storage), ClientAddress("192.0.2.77")!)
        for (text, expected) in [("2001:db8::1:2", "2001:db8::1:2"), ("::ffff:198.51.100.9", "198.51.100.9")] {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            _ = inet_pton(AF_INET6, text, &sin6.sin6_addr)
            storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self).pointee = sin6
            }
            let a = ClientAddress(socketAddress: &storage)
            XCTAssertEqual(a, ClientAddress(expected)!, text)
            XCTAssertEqual(a.description, expected)
        }
        storage = sockaddr_storage()
        XCTAssertEqual(ClientAddress(socketAddress: &storage), .unknown)
    }

}
