import BulwarkWire
import XCTest
@testable import BulwarkDefences

func hexBytes(_ s: String) -> [UInt8] {
    let d = Array(s.utf8)
    return stride(from: 0, to: d.count, by: 2).map { UInt8(String(decoding: d[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

func hexString(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

final class CookieTests: XCTestCase {
    let secret1 = CookieSecret(hex: "e5e973e5a6b2a43f48e7dc849e37bfcf")!

    func serverCookie(_ cookies: ServerCookies, client: String, ip: String, now: UInt32) -> String {
        let c = hexBytes(client)
        var out = [UInt8](repeating: 0, count: 16)
        c.withUnsafeBytes { cb in
            out.withUnsafeMutableBytes { o in
                cookies.write(clientCookie: cb.baseAddress!, client: ClientAddress(ip)!, now: now, into: o.baseAddress!)
            }
        }
        return hexString(out)
    }

    func check(_ cookies: ServerCookies, _ option: String, ip: String, now: UInt32) -> CookieVerdict {
        let b = hexBytes(option)
        return b.withUnsafeBytes { cookies.check(cookie: $0.baseAddress!, length: b.count, client: ClientAddress(ip)!, now: now) }
    }

    func testSipHashReferenceVector() {
        // The SipHash paper's appendix A: key 00..0f, message 00..0e, result a129ca6149be45e5.
        let key = (0..<16).map { UInt8($0) }
        let message = (0..<15).map { UInt8($0) }
        let (k0, k1) = key.withUnsafeBytes { SipHash24.key($0) }
        XCTAssertEqual(message.withUnsafeBytes { SipHash24.hash(k0: k0, k1: k1, $0) }, 0xa129ca6149be45e5)
    }

    // RFC 9018 appendix A, byte for byte.
    func testRFC9018A1LearningANewServerCookie() {
        let c = ServerCookies(secret: secret1, rotateSeconds: 0)
        XCTAssertEqual(check(c, "2464c4abcf10c957", ip: "198.51.100.100", now: 1559731985), .clientOnly)
        XCTAssertEqual(serverCookie(c, client: "2464c4abcf10c957", ip: "198.51.100.100", now: 1559731985),
                       "010000005cf79f111f8130c3eee29480")
    }

    func testRFC9018A2SameClientRenewed() {
        let c = ServerCookies(secret: secret1, rotateSeconds: 0)
        // The cookie from A.1, 40 minutes later: still valid, and renewed.
        XCTAssertEqual(check(c, "2464c4abcf10c957010000005cf79f111f8130c3eee29480", ip: "198.51.100.100", now: 1559734385), .valid)
        XCTAssertEqual(serverCookie(c, client: "2464c4abcf10c957", ip: "198.51.100.100", now: 1559734385),
                       "010000005cf7a871d4a564a1442aca77")
    }

    func testRFC9018A3AnotherClientRenewed() {
        let c = ServerCookies(secret: secret1, rotateSeconds: 0)
        let query = "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5"
        // The hash covers the reserved octets as sent: it matches at its own time...
        XCTAssertEqual(check(c, query, ip: "203.0.113.203", now: 0x5cf78f71 + 10), .valid)
        // ...and from another address it does not.
        XCTAssertEqual(check(c, query, ip: "203.0.113.204", now: 0x5cf78f71 + 10), .invalid)
        // At the example's time (1h52m later) it is past the hour of §4.3: a new cookie.
        XCTAssertEqual(check(c, query, ip: "203.0.113.203", now: 1559734700), .invalid)
        XCTAssertEqual(serverCookie(c, client: "fc93fc62807ddb86", ip: "203.0.113.203", now: 1559734700),
                       "010000005cf7a9acf73a7810aca2381e")
    }

    func testRFC9018A4IPv6WithRolledSecret() {
        let old = ServerCookies(secret: CookieSecret(hex: "dd3bdf9344b678b185a6f5cb60fca715")!, rotateSeconds: 0)
        let new = ServerCookies(secret: CookieSecret(hex: "445536bcd2513298075a5d379663c962")!, rotateSeconds: 0)
        let ip = "2001:db8:220:1:59de:d0f4:8769:82b8"
        let query = "22681ab97d52c298010000005cf7c57926556bd0934c72f8"
        XCTAssertEqual(check(old, query, ip: ip, now: 1559741961), .valid)
        XCTAssertEqual(check(new, query, ip: ip, now: 1559741961), .invalid)
        XCTAssertEqual(serverCookie(new, client: "22681ab97d52c298", ip: ip, now: 1559741961),
                       "010000005cf7c609a6bb79d16625507a")
    }

    func testTimestampWindow() {
        let c = ServerCookies(secret: secret1, rotateSeconds: 0)
        let ip = "192.0.2.1"
        func cookie(at t: UInt32) -> String { "0102030405060708" + serverCookie(c, client: "0102030405060708", ip: ip, now: t) }
        let now: UInt32 = 1_700_000_000
        XCTAssertEqual(check(c, cookie(at: now), ip: ip, now: now), .valid)
        XCTAssertEqual(check(c, cookie(at: now - 3600), ip: ip, now: now), .valid)
        XCTAssertEqual(check(c, cookie(at: now - 3601), ip: ip, now: now), .invalid)
        XCTAssertEqual(check(c, cookie(at: now + 300), ip: ip, now: now), .valid)
        XCTAssertEqual(check(c, cookie(at: now + 301), ip: ip, now: now), .invalid)
        // Serial arithmetic across the 2^32 wrap.
        XCTAssertEqual(check(c, cookie(at: UInt32.max - 100), ip: ip, now: 1000), .valid)
    }

    func testLengthsAndVersions() {
        let c = ServerCookies(secret: secret1, rotateSeconds: 0)
        let ip = "192.0.2.1"
        // A server cookie we did not make (8 or 32 octets, another version) is not valid.
        XCTAssertEqual(check(c, "0102030405060708" + "1122334455667788", ip: ip, now: 100), .invalid)
        XCTAssertEqual(check(c, "0102030405060708" + String(repeating: "ab", count: 32), ip: ip, now: 100), .invalid)
        let good = serverCookie(c, client: "0102030405060708", ip: ip, now: 100)
        XCTAssertEqual(check(c, "0102030405060708" + good, ip: ip, now: 100), .valid)
        XCTAssertEqual(check(c, "0102030405060708" + "02" + good.dropFirst(2), ip: ip, now: 100), .invalid)
        // Another client cookie with the same server cookie.
        XCTAssertEqual(check(c, "0102030405060709" + good, ip: ip, now: 100), .invalid)
    }

    func testRotationKeepsThePreviousSecret() {
        var c = ServerCookies(secret: secret1, rotateSeconds: 600)
        let ip = "2001:db8::53"
        let t0: UInt32 = 1_700_000_000 / 600 * 600 + 590  // ten seconds before a period ends
        c.advance(to: t0)
        let first = c.current
        let cookie = "aabbccddeeff0011" + serverCookie(c, client: "aabbccddeeff0011", ip: ip, now: t0)
        XCTAssertEqual(check(c, cookie, ip: ip, now: t0), .valid)
        c.advance(to: t0 + 20)  // the next period: the old secret is the previous one
        XCTAssertNotEqual(c.current, first)
        XCTAssertEqual(c.previous, first)
        XCTAssertEqual(check(c, cookie, ip: ip, now: t0 + 20), .valid)
        c.advance(to: t0 + 620)  // two periods on: gone
        XCTAssertEqual(check(c, cookie, ip: ip, now: t0 + 620), .invalid)
        // Another worker (or server) with the same secret derives the same period secrets.
        var other = ServerCookies(secret: secret1, rotateSeconds: 600)
        other.advance(to: t0 + 620)
        XCTAssertEqual(other.current, c.current)
        XCTAssertEqual(other.previous, c.previous)
    }

    func testSecretParsing() {
        XCTAssertNil(CookieSecret(hex: "e5e973e5"))
        XCTAssertNil(CookieSecret(hex: "g5e973e5a6b2a43f48e7dc849e37bfcf"))
        XCTAssertNotNil(CookieSecret(hex: "E5E973E5A6B2A43F48E7DC849E37BFCF"))
        XCTAssertNotEqual(CookieSecret.random(), CookieSecret.random())
    }
}
