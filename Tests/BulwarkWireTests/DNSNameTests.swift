import XCTest
@testable import BulwarkWire

final class DNSNameTests: XCTestCase {
    func testPresentationRoundTrip() throws {
        let n = try DNSName("www.Example.COM.")
        XCTAssertEqual(n.wire, [3, 119, 119, 119, 7, 69, 120, 97, 109, 112, 108, 101, 3, 67, 79, 77, 0])
        XCTAssertEqual(n.description, "www.Example.COM.")
        XCTAssertEqual(n, try DNSName("WWW.example.com."))
        XCTAssertEqual(n.hashValue, try DNSName("WWW.example.com.").hashValue)
        XCTAssertEqual(n.labelCount, 3)
    }

    func testRelativeNamesAndEscapes() throws {
        let origin = try DNSName("example.com.")
        XCTAssertEqual(try DNSName("a\\.b", origin: origin).labels.first, Array("a.b".utf8))
        XCTAssertEqual(try DNSName("\\065bc", origin: origin).firstLabel, Array("Abc".utf8))
        XCTAssertEqual(try DNSName("a\\.b", origin: origin).description, "a\\.b.example.com.")
        XCTAssertEqual(try DNSName(".").wire, [0])
        XCTAssertThrowsError(try DNSName("a..b."))
        XCTAssertThrowsError(try DNSName("\\256."))
        XCTAssertThrowsError(try DNSName(String(repeating: "a", count: 64) + "."))
        XCTAssertThrowsError(try DNSName(Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".") + "."))
        XCTAssertThrowsError(try DNSName("relative"))
    }

    func testSubdomainAndOrder() throws {
        let a = try DNSName("a.example.")
        XCTAssertTrue(a.isSubdomain(of: try DNSName("EXAMPLE.")))
        XCTAssertTrue(a.isSubdomain(of: .root))
        XCTAssertFalse(try DNSName("aexample.").isSubdomain(of: try DNSName("example.")))
        // RFC 4034 §6.1 example order.
        let order = ["example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
                     "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example."]
        let names = try order.map { try DNSName($0) }
        XCTAssertEqual(names.shuffled().sorted().map(\.description).map { $0.lowercased() },
                       order.map { $0.lowercased() })
    }

    func testDecoderRejectsHostileNames() {
        func decode(_ bytes: [UInt8], at start: Int) throws -> Int {
            try bytes.withUnsafeBytes { buf in
                var out = [UInt8](repeating: 0, count: 255)
                var offset = start
                return try out.withUnsafeMutableBytes { o in
                    try NameDecoder.decode(buf, at: &offset, limit: buf.count, into: o, lowercase: true)
                }
            }
        }
        let header = [UInt8](repeating: 0, count: 12)
        // Self pointer.
        XCTAssertThrowsError(try decode(header + [0xC0, 12], at: 12))
        // Forward pointer.
        XCTAssertThrowsError(try decode(header + [0xC0, 14, 0], at: 12))
        // Pointer into the header.
        XCTAssertThrowsError(try decode(header + [1, 65, 0xC0, 2], at: 12))
        // Two names pointing at each other.
        XCTAssertThrowsError(try decode(header + [1, 65, 0xC0, 16, 1, 66, 0xC0, 12], at: 16))
        // Label type 0x40.
        XCTAssertThrowsError(try decode(header + [0x41, 0], at: 12))
        // Truncated label.
        XCTAssertThrowsError(try decode(header + [5, 65, 66], at: 12))
        // A valid backward pointer.
        XCTAssertEqual(try decode(header + [1, 65, 0, 1, 66, 0xC0, 12], at: 15), 5)
        // Over 255 octets by pointer chaining: each step adds a 63-octet label.
        var msg = header + [0]
        var prev = 12
        for _ in 0..<5 {
            let here = msg.count
            msg += [63] + [UInt8](repeating: 97, count: 63) + [0xC0 | UInt8(prev >> 8), UInt8(prev & 0xFF)]
            prev = here
        }
        XCTAssertThrowsError(try decode(msg, at: prev)) { XCTAssertEqual($0 as? WireError, .nameTooLong) }
    }
}
