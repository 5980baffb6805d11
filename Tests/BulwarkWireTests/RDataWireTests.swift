import XCTest
@testable import BulwarkWire

/// Wire vectors checked against known bytes, RDataWire.read from messages, and the helpers.
final class RDataWireTests: XCTestCase {
    /// RFC 9460 appendix D.1 and D.2.
    func testSVCBVectorsFromRFC9460() throws {
        let vectors: [(RRType, String, String)] = [
            (.https, "0 foo.example.com.", "0000 03666f6f 076578616d706c65 03636f6d 00"),
            (.svcb, "1 .", "0001 00"),
            (.svcb, "16 foo.example.com. port=53", "0010 03666f6f076578616d706c6503636f6d00 0003 0002 0035"),
            (.svcb, "1 foo.example.com. key667=hello", "0001 03666f6f076578616d706c6503636f6d00 029b 0005 68656c6c6f"),
            (.svcb, "1 foo.example.com. key667=\"hello\\210qoo\"",
             "0001 03666f6f076578616d706c6503636f6d00 029b 0009 68656c6c6fd2716f6f"),
            (.svcb, "1 foo.example.com. ipv6hint=\"2001:db8::1,2001:db8::53:1\"",
             "0001 03666f6f076578616d706c6503636f6d00 0006 0020 20010db8000000000000000000000001 20010db8000000000000000000530001"),
            (.svcb, "1 example.com. ipv6hint=\"2001:db8:122:344::192.0.2.33\"",
             "0001 076578616d706c6503636f6d00 0006 0010 20010db8012203440000 0000c0000221"),
            (.svcb, "16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1",
             "0010 03666f6f076578616d706c65036f726700 0000 0004 00010004 0001 0009 026832 0568332d3139 0004 0004 c0000201"),
            (.svcb, "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"",
             "0010 03666f6f076578616d706c65036f726700 0001 000c 08665c6f6f2c626172 026832"),
            (.svcb, "16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2",
             "0010 03666f6f076578616d706c65036f726700 0001 000c 08665c6f6f2c626172 026832"),
        ]
        for (type, text, hex) in vectors {
            let wire = try parseRData(type, text)
            XCTAssertEqual(wire, hexBytes(hex), text)
            XCTAssertNoThrow(try RDataWire.validate(type: type, rdata: wire))
        }
        // The escaped alpn formats back as the RFC's first form.
        let alpn = try parseRData(.svcb, "16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2")
        XCTAssertEqual(RDataText.format(type: .svcb, rdata: alpn), "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"")
        // The lexer may hand over `key=` and a quoted field separately.
        let split = try RDataText.parse(type: .svcb, fields: [
            PresentationField("1"), PresentationField("."), PresentationField("alpn="), PresentationField("h2,h3", quoted: true),
        ], origin: .root)
        XCTAssertEqual(RDataText.format(type: .svcb, rdata: split), "1 . alpn=\"h2,h3\"")
    }

    /// RFC 9460 appendix D.3: presentation that must be rejected.
    func testSVCBFailureCasesFromRFC9460() {
        for text in [
            "1 foo.example.com. key123=abc key123=def",
            "1 foo.example.com. mandatory", "1 foo.example.com. alpn", "1 foo.example.com. port",
            "1 foo.example.com. ipv4hint", "1 foo.example.com. ipv6hint",
            "1 foo.example.com. no-default-alpn=abc",
            "1 foo.example.com. mandatory=key123",
            "1 foo.example.com. mandatory=mandatory",
            "1 foo.example.com. mandatory=key123,key123 key123=abc",
            "1 foo.example.com. port=65536", "1 foo.example.com. ipv4hint=192.0.2.300",
            "1 foo.example.com. key65535=x", "1 foo.example.com. bogus=1", "1 foo.example.com. alpn=h2,,h3",
        ] {
            XCTAssertThrowsError(try parseRData(.svcb, text), text)
        }
    }

    func testKnownWireBytes() throws {
        XCTAssertEqual(try parseRData(.aaaa, "2001:db8::1"), hexBytes("20010db8000000000000000000000001"))
        XCTAssertEqual(try parseRData(.aaaa, "::"), [UInt8](repeating: 0, count: 16))
        XCTAssertEqual(try parseRData(.mx, "10 mail"), hexBytes("000a 046d61696c 076578616d706c6503636f6d00"))
        XCTAssertEqual(try parseRData(.txt, "\"a\" \"\" bc"), [1, 97, 0, 2, 98, 99])
        XCTAssertEqual(try parseRData(.soa, "ns. h. 1 2 3 4 5"),
                       hexBytes("026e7300 016800 00000001 00000002 00000003 00000004 00000005"))
        // RFC 4034 §4.3 example NSEC.
        XCTAssertEqual(try parseRData(.nsec, "host.example.com. ( A MX RRSIG NSEC TYPE1234 )".replacingOccurrences(of: "( ", with: "").replacingOccurrences(of: " )", with: "")),
                       hexBytes("04686f7374076578616d706c6503636f6d00 0006400100000003 041b000000000000000000000000000000000000000000000000000020"))
        XCTAssertEqual(try parseRData(.caa, "0 issue \"ca.example.net\""),
                       [0, 5] + Array("issue".utf8) + Array("ca.example.net".utf8))
        XCTAssertEqual(try parseRData(.ds, "60485 5 1 2BB183AF5F22588179A53B0A 98631FAD1A292118"),
                       hexBytes("ec45 05 01 2bb183af5f22588179a53b0a98631fad1a292118"))
        XCTAssertEqual(try parseRData(.nsec3param, "1 0 10 AABBCCDD"), hexBytes("01 00 000a 04 aabbccdd"))
        XCTAssertEqual(try parseRData(.rrsig, "A 5 3 86400 20030322173103 20030220173103 2642 example.com. AAAA").prefix(16),
                       hexBytes("0001 05 03 00015180 3e7c9dd7 3e5510d7")[...])
        XCTAssertEqual(try parseRData(.eui48, "00-00-5e-00-53-2a"), [0, 0, 0x5e, 0, 0x53, 0x2a])
        XCTAssertEqual(try parseRData(.apl, "1:192.168.32.0/21 !1:192.168.38.0/28"), hexBytes("0001 15 03 c0a820 0001 1c 83 c0a826"))
        XCTAssertEqual(try parseRData(.ipseckey, "10 1 2 192.0.2.38 AQID"), [10, 1, 2, 192, 0, 2, 38, 1, 2, 3])
        // RFC 1876: 2^31 + thousandths of arc seconds; altitude in cm above -100000 m.
        XCTAssertEqual(try parseRData(.loc, "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
                       hexBytes("00 00 16 13 8b3cf018 810cbce0 009895b8"))
    }

    func testRFC3597Generic() throws {
        XCTAssertEqual(try parseRData(.a, "\\# 4 0a000001"), [10, 0, 0, 1])
        XCTAssertEqual(try parseRData(RRType(65280), "\\# 4 0A00 0001"), [10, 0, 0, 1])
        XCTAssertEqual(try parseRData(RRType(65280), "\\# 0"), [])
        XCTAssertEqual(RDataText.format(type: RRType(65280), rdata: [10, 0, 0, 1]), "\\# 4 0A000001")
        XCTAssertEqual(RDataText.format(type: RRType(65280), rdata: []), "\\# 0")
        XCTAssertEqual(RDataText.format(type: .loc, rdata: [1, 2]), "\\# 2 0102")
        XCTAssertEqual(RDataText.format(type: .apl, rdata: [0, 3, 8, 1, 10]), "\\# 5 000308010A")
        XCTAssertEqual(RDataText.format(type: .null, rdata: [1, 2]), "\\# 2 0102")
        // Known type written generically is validated as that type (RFC 3597 §5).
        XCTAssertThrowsError(try parseRData(.a, "\\# 3 0a0000"))
        XCTAssertThrowsError(try parseRData(.mx, "\\# 3 000a01"))
        XCTAssertEqual(try parseRData(.mx, "\\# 3 000a00"), [0, 10, 0])
        XCTAssertThrowsError(try parseRData(RRType(65280), "\\# 4 0a0000"))
        XCTAssertThrowsError(try parseRData(RRType(65280), "\\# 2 0a0g"))
        XCTAssertThrowsError(try parseRData(RRType(65280), "\\#"))
        XCTAssertThrowsError(try parseRData(RRType(65280), "0a000001"))
        // A quoted "\#" is text, not the marker.
        XCTAssertEqual(try parseRData(.txt, "\"\\#\""), [1, 0x23])
        // Malformed rdata of a known type is formatted generically.
        XCTAssertEqual(RDataText.format(type: .a, rdata: [1, 2, 3]), "\\# 3 010203")
        XCTAssertEqual(RDataText.format(type: .ds, rdata: [0, 1, 8, 2]), "\\# 4 00010802")
    }

    func testMalformedText() {
        let cases: [(RRType, String)] = [
            (.a, "1.2.3"), (.a, "1.2.3.256"), (.a, "1.2.3.04"), (.a, "1.2.3.4.5"), (.a, "1..2.3"), (.a, "a.b.c.d"),
            (.a, "1.2.3.4 5"), (.a, ""),
            (.aaaa, "1:2:3:4:5:6:7:8:9"), (.aaaa, "1::2::3"), (.aaaa, "12345::"), (.aaaa, "::g"),
            (.aaaa, "1:2:3:4:5:6:7:8::"), (.aaaa, ":1::"), (.aaaa, "1:"), (.aaaa, "::1.2.3"), (.aaaa, "1.2.3.4"),
            (.aaaa, "1:2:3:4:5:6:7"), (.aaaa, "::1.2.3.4:5"),
            (.txt, "\"" + String(repeating: "x", count: 256) + "\""), (.txt, "\"\\256\""), (.txt, "abc\\"), (.txt, "\\12"),
            (.txt, ""),
            (.dnskey, "257 3 8 AwE"), (.dnskey, "257 3 8 A@=="), (.dnskey, "257 3 8"), (.dnskey, "257 3 BOGUS AwEAAQ=="),
            (.dnskey, "65536 3 8 AwEAAQ=="), (.dnskey, "257 3 8 AwEA=AQ=="),
            (.ds, "1 8 2 ABC"), (.ds, "1 8 2 XYZW"), (.ds, "1 8 2"), (.ds, "1 8 2 0A0B"), (.ds, "1 8 1 0A0B"),
            (.cds, "1 8 4 0A0B"), (.zonemd, "1 1 1 0A0B0C0D0E0F0A0B0C0D0E0F"),
            (.mx, "10"), (.mx, "10 a b"), (.mx, "65536 a."), (.mx, "-1 a."), (.mx, "x a."),
            (.ns, "a..b."), (.ns, String(repeating: "a", count: 64) + "."),
            (.soa, "ns. h. 1 2 3 4 1x"), (.soa, "ns. h. 1 2 3 4"),
            (.nsec, "a. FOO"),
            (.nsec3, "1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3! A"), (.nsec3, "1 0 0 ABC 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S"),
            (.nsec3, "1 0 0 -"), (.nsec3, "1 0 0 - W"),
            (.rrsig, "A 8 2 300 20231301000000 20231101000000 1 example.com. AAAA"),
            (.rrsig, "BOGUS 8 2 300 20231201000000 20231101000000 1 example.com. AAAA"),
            (.rrsig, "A 8 2 300 20230229000000 20231101000000 1 example.com. AAAA"),
            (.rrsig, "A 8 2 300 4294967296 1 1 example.com. AAAA"),
            (.caa, "0 is-sue \"x\""), (.caa, "0 \"\" \"x\""), (.caa, "256 issue \"x\""),
            (.eui48, "00-00-5e-00-53"), (.eui48, "00:00:5e:00:53:2a"), (.eui64, "00-00-5e-00-53-2a"),
            (.nid, "10 0014:4fff:ff20"), (.l64, "10 00145:4fff:ff20:ee64"),
            (.hinfo, "\"x\""), (.naptr, "100 10 \"u\" \"E2U+sip\" \"!x!\""),
            (.svcb, "1"), (.sshfp, "1 1"),
            (.loc, "91 N 71 W 0m"), (.loc, "42 60 N 71 W 0m"), (.loc, "42 1 60 N 71 W 0m"), (.loc, "42 N 181 W 0m"),
            (.loc, "42 X 71 W 0m"), (.loc, "42 N 71 W"), (.loc, "42 N 71 W -100000.01m"), (.loc, "42 N 71 W 0m 1m 1m 1m 1m"),
            (.loc, "42 1 1.0001 N 71 W 0m"), (.loc, "42 N 71 W 0m -1m"), (.loc, "42 1 2 3 N 71 W 0m"),
            (.cert, "BOGUS 1 1 AAAA"),
            (.ipseckey, "10 4 2 . AAAA"), (.ipseckey, "10 1 2 . AAAA"), (.ipseckey, "10 0 2 1.2.3.4"), (.ipseckey, "10 1 2"),
            (.ipseckey, "10 2 2 ::1 AAA"), (.apl, "1:192.168.32.0/33"), (.apl, "3:1.2.3.4/8"), (.apl, "1:1.2.3.4"),
            (.apl, "2:1.2.3.4/8"), (.apl, "1:1.2.3/8"),
        ]
        for (type, text) in cases {
            XCTAssertThrowsError(try parseRData(type, text), "\(type) '\(text)' should be rejected")
        }
        XCTAssertEqual(parseError(.a, "1.2.3"), "bad IPv4 address '1.2.3'")
        XCTAssertEqual(parseError(.ds, "1 8 2 0A0B"), "DS digest type 2 needs 32 octets, not 2")
        XCTAssertNoThrow(try parseRData(.ds, "1 8 99 0A0B"))
        XCTAssertNoThrow(try parseRData(.zonemd, "1 1 240 0A0B"))
        XCTAssertEqual(parseError(.txt, "\"" + String(repeating: "x", count: 256) + "\""), "TXT string longer than 255 octets")
        XCTAssertEqual(try parseRData(.txt, "\"" + String(repeating: "x", count: 255) + "\"").count, 256)
        XCTAssertEqual(try parseRData(.txt, String(repeating: "\\120", count: 255)).count, 256)
    }

    private func parseError(_ type: RRType, _ text: String) -> String? {
        do {
            _ = try parseRData(type, text)
            return nil
        } catch {
            return (error as? RDataError)?.message
        }
    }

    func testMalformedWire() {
        let cases: [(RRType, [UInt8])] = [
            (.a, [1, 2, 3]), (.a, [1, 2, 3, 4, 5]), (.aaaa, [UInt8](repeating: 0, count: 15)), (.aaaa, []),
            (.txt, []), (.txt, [5, 97]), (.hinfo, [1, 97]),
            (.mx, [0, 10]), (.mx, [0, 10, 0xC0, 0x0C]), (.mx, [0, 10, 1, 97]), (.mx, [0, 10, 0x41, 0]),
            (.ns, [0, 0]), (.ns, [3, 97, 98]),
            (.soa, [0, 0, 0, 0, 0, 1]),
            // Type bitmaps (RFC 4034 §4.1.2): windows out of order, empty, too long, trailing zero, truncated.
            (.nsec, [0, 1, 1, 0x40, 0, 1, 0x40]), (.nsec, [0, 0, 1, 0x40, 0, 1, 0x40]), (.nsec, [0, 0, 0]),
            (.nsec, [0, 0, 33] + [UInt8](repeating: 0xFF, count: 33)), (.nsec, [0, 0, 2, 0x40, 0]), (.nsec, [0, 0, 4, 0x40]),
            (.nsec, [0, 0]),
            (.nsec3, [1, 0, 0, 0, 0, 0]), (.nsec3, [1, 0, 0, 0, 5, 1, 2]), (.nsec3param, [1, 0, 0, 0, 1]),
            (.rrsig, [0, 1, 8, 2, 0, 0, 0, 0]),
            (.caa, [0, 0]), (.caa, [0, 2, 0x61, 0x2D]), (.caa, [0, 9, 0x61]),
            (.ds, [0, 1, 8]), (.dnskey, [1, 0, 3]),
            (.eui48, [1, 2, 3, 4, 5]), (.eui64, [1, 2, 3, 4, 5, 6, 7]),
            // SvcParams: out of order, duplicate, truncated value, bad values, missing mandatory key.
            (.svcb, [0, 1, 0, 0, 3, 0, 2, 0, 53, 0, 1, 0, 3, 2, 104, 50]),
            (.svcb, [0, 1, 0, 0, 3, 0, 2, 0, 53, 0, 3, 0, 2, 0, 53]),
            (.svcb, [0, 1, 0, 0, 3, 0, 5, 0, 53]),
            (.svcb, [0, 1, 0, 0, 3, 0, 3, 0, 53, 0]),
            (.svcb, [0, 1, 0, 0, 1, 0, 0]), (.svcb, [0, 1, 0, 0, 1, 0, 2, 0, 1]),
            (.svcb, [0, 1, 0, 0, 2, 0, 1, 0]), (.svcb, [0, 1, 0, 0, 4, 0, 3, 1, 2, 3]),
            (.svcb, [0, 1, 0, 0, 6, 0, 4, 1, 2, 3, 4]),
            (.svcb, [0, 1, 0, 0, 0, 0, 2, 0, 3]),
            (.svcb, [0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 3, 0, 2, 0, 53]),
            (.svcb, [0, 1, 0, 0, 0, 0, 4, 0, 3, 0, 1, 0, 1, 0, 3, 2, 104, 50, 0, 3, 0, 2, 0, 53]),
            (.svcb, [0, 1, 0, 0xFF, 0xFF, 0, 0]),
            (.svcb, [0, 1]),
            (.loc, [UInt8](repeating: 0, count: 15)), (.loc, [1] + [UInt8](repeating: 0, count: 15)),
            (.loc, [0, 0xA0] + [UInt8](repeating: 0, count: 14)),
            (.loc, [0, 0x12, 0x16, 0x13, 0xFF, 0, 0, 0, 0x80, 0, 0, 0, 0, 0x98, 0x96, 0x80]),
            (.ipseckey, [10, 4, 2]), (.ipseckey, [10, 1, 2, 1, 2, 3]), (.ipseckey, [10, 3, 2, 3, 97]),
            (.apl, [0, 1, 33, 0]), (.apl, [0, 1, 8, 2, 10, 0]), (.apl, [0, 1, 8, 2, 10]), (.apl, [0, 1, 8]),
        ]
        for (type, rdata) in cases {
            XCTAssertThrowsError(try RDataWire.validate(type: type, rdata: rdata), "\(type) \(rdata) should be rejected")
            XCTAssertTrue(RDataText.format(type: type, rdata: rdata).hasPrefix("\\# "), "\(type) \(rdata)")
        }
        XCTAssertThrowsError(try RDataWire.validate(type: .nsec, rdata: [0, 1, 1, 0x40, 0, 1, 0x40])) { error in
            XCTAssertEqual(error as? WireError, .badRData("type bitmap windows out of order"))
        }
        // Opaque types take any bytes.
        XCTAssertNoThrow(try RDataWire.validate(type: RRType(65280), rdata: [1, 2, 3]))
        XCTAssertNoThrow(try RDataWire.validate(type: .nsec, rdata: [0]))
        XCTAssertNoThrow(try RDataWire.validate(type: .svcb, rdata: [0, 1, 0, 0, 0, 0, 2, 0, 1, 0, 1, 0, 3, 2, 104, 50]))
    }

    /// A message with `example.com.` at offset 12, followed by `rdata`.
    private func message(_ rdata: [UInt8]) -> [UInt8] {
        [UInt8](repeating: 0, count: 12) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0] + rdata
    }

    private func read(_ type: RRType, _ rdata: [UInt8], length: Int? = nil) throws(WireError) -> ([UInt8], Int, Int) {
        let msg = message(rdata)
        let result = msg.withUnsafeBytes { buf in
            Result { () throws(WireError) -> ([UInt8], Int, Int) in
                var reader = WireReader(buf, offset: 25)
                let out = try RDataWire.read(type: type, from: &reader, length: length ?? rdata.count)
                return (out, reader.offset, reader.limit)
            }
        }
        return try result.get()
    }

    func testReadFromMessage() throws {
        let example = Array(hexBytes("076578616d706c6503636f6d00"))
        // MX exchange may be compressed (RFC 3597 §4): it comes back expanded.
        let (mx, end, limit) = try read(.mx, [0, 10, 4] + Array("mail".utf8) + [0xC0, 12])
        XCTAssertEqual(mx, [0, 10, 4] + Array("mail".utf8) + example)
        XCTAssertEqual(end, 25 + 9)
        XCTAssertEqual(limit, 25 + 9)
        let (soa, _, _) = try read(.soa, [0xC0, 12, 0xC0, 12] + [UInt8](repeating: 1, count: 20))
        XCTAssertEqual(soa, example + example + [UInt8](repeating: 1, count: 20))
        // SRV, RRSIG, NSEC names must not be compressed.
        XCTAssertThrowsError(try read(.srv, [0, 0, 0, 5, 0x13, 0xC4, 3] + Array("sip".utf8) + [0xC0, 12])) { error in
            XCTAssertEqual(error as? WireError, .badPointer)
        }
        XCTAssertThrowsError(try read(.nsec, [0xC0, 12, 0, 1, 0x40]))
        XCTAssertThrowsError(try read(.svcb, [0, 1, 0xC0, 12]))
        // Uncompressed SRV is returned as is.
        let srv = [0, 0, 0, 5, 0x13, 0xC4, 3] + Array("sip".utf8) + [0]
        XCTAssertEqual(try read(.srv, srv).0, srv)
        // Pointers forward or to themselves, names running past the rdata, lengths past the message.
        XCTAssertThrowsError(try read(.ns, [0xC0, 25]))
        XCTAssertThrowsError(try read(.ns, [0xC0, 40]))
        XCTAssertThrowsError(try read(.mx, [0, 10, 1, 97, 0], length: 4))
        XCTAssertThrowsError(try read(.a, [1, 2, 3, 4], length: 5))
        XCTAssertThrowsError(try read(.a, [1, 2, 3, 4, 5], length: 5))
        XCTAssertThrowsError(try read(.a, [1, 2, 3], length: 3))
        // The reader's limit is restored even when the rdata is shorter than the message.
        let (a, offset, restored) = try read(.a, [1, 2, 3, 4, 9, 9], length: 4)
        XCTAssertEqual(a, [1, 2, 3, 4])
        XCTAssertEqual(offset, 29)
        XCTAssertEqual(restored, 31)
        XCTAssertEqual(try read(RRType(65280), [0xC0, 12]).0, [0xC0, 12])
    }

    func testEmbeddedNamesAndTargets() throws {
        let soa = try parseRData(.soa, "ns1 hostmaster 1 2 3 4 5")
        XCTAssertEqual(RDataWire.embeddedNames(type: .soa, rdata: soa), [
            EmbeddedName(offset: 0, length: 17, compressible: true),
            EmbeddedName(offset: 17, length: 24, compressible: true),
        ])
        let srv = try parseRData(.srv, "0 5 5060 sip")
        XCTAssertEqual(RDataWire.embeddedNames(type: .srv, rdata: srv), [EmbeddedName(offset: 6, length: 17, compressible: false)])
        XCTAssertEqual(RDataWire.targetName(type: .srv, rdata: srv), try DNSName("sip.example.com."))
        let mx = try parseRData(.mx, "10 mail")
        XCTAssertEqual(RDataWire.embeddedNames(type: .mx, rdata: mx), [EmbeddedName(offset: 2, length: 18, compressible: true)])
        XCTAssertEqual(RDataWire.targetName(type: .mx, rdata: mx), try DNSName("mail.example.com."))
        for type: RRType in [.ns, .cname, .dname, .ptr] {
            XCTAssertEqual(RDataWire.targetName(type: type, rdata: try parseRData(type, "x")), try DNSName("x.example.com."))
        }
        XCTAssertNil(RDataWire.targetName(type: .a, rdata: [1, 2, 3, 4]))
        XCTAssertNil(RDataWire.targetName(type: .ns, rdata: [3, 97]))
        let rrsig = try parseRData(.rrsig, "A 8 2 300 20231201000000 20231101000000 1 example.com. AAAA")
        XCTAssertEqual(RDataWire.embeddedNames(type: .rrsig, rdata: rrsig), [EmbeddedName(offset: 18, length: 13, compressible: false)])
        let naptr = try parseRData(.naptr, "100 10 \"u\" \"E2U+sip\" \"!^.*$!sip:x@example.com!\" .")
        XCTAssertEqual(RDataWire.embeddedNames(type: .naptr, rdata: naptr).map(\.length), [1])
        XCTAssertEqual(RDataWire.embeddedNames(type: .a, rdata: [1, 2, 3, 4]), [])
        XCTAssertEqual(RDataWire.embeddedNames(type: .mx, rdata: [0, 1, 5]), [])
    }

    func testFieldAccessors() throws {
        let soa = try parseRData(.soa, "a.root-servers.net. nstld.verisign-grs.com. 2026082201 1800 900 604800 86400")
        XCTAssertEqual(RDataFields.soaSerial(soa), 2026082201)
        XCTAssertEqual(RDataFields.soaRefresh(soa), 1800)
        XCTAssertEqual(RDataFields.soaRetry(soa), 900)
        XCTAssertEqual(RDataFields.soaExpire(soa), 604800)
        XCTAssertEqual(RDataFields.soaMinimum(soa), 86400)
        XCTAssertEqual(RDataFields.soaMName(soa), try DNSName("a.root-servers.net."))
        XCTAssertEqual(RDataFields.soaRName(soa), try DNSName("nstld.verisign-grs.com."))
        XCTAssertEqual(RDataFields.soaReplacingSerial(soa, with: 7).flatMap(RDataFields.soaSerial), 7)
        XCTAssertNil(RDataFields.soaSerial(Array(soa.dropLast())))
        XCTAssertEqual(RDataFields.mxPreference(try parseRData(.mx, "10 a.")), 10)

        let ksk = try parseRData(.dnskey, RDataRoundTripTests.rootKSKText)
        XCTAssertEqual(RDataFields.keyTag(dnskey: ksk), 20326)
        XCTAssertEqual(RDataFields.dnskeyFlags(ksk), 257)
        let rrsig = try parseRData(.rrsig, "SOA 8 0 86400 20260904170000 20260822160000 57780 . AAAA")
        XCTAssertEqual(RDataFields.rrsigTypeCovered(rrsig), .soa)
        XCTAssertEqual(RDataFields.rrsigKeyTag(rrsig), 57780)
        XCTAssertEqual(RDataFields.rrsigSignerName(rrsig), .root)
        XCTAssertEqual(RDataFields.rrsigOriginalTTL(rrsig), 86400)
        XCTAssertEqual(RDataFields.rrsigLabels(rrsig), 0)
        XCTAssertEqual(RDataFields.rrsigExpiration(rrsig).map { RDataText.format(type: .rrsig, rdata: [0, 1, 8, 0, 0, 0, 0, 0] + beBytes($0) + [0, 0, 0, 0, 0, 0, 0, 0, 0] ).split(separator: " ")[4] }, "20260904170000")

        let nsec = try parseRData(.nsec, "aaa. NS SOA RRSIG NSEC DNSKEY ZONEMD")
        XCTAssertEqual(RDataFields.bitmapTypes(type: .nsec, rdata: nsec), [.ns, .soa, .rrsig, .nsec, .dnskey, .zonemd])
        XCTAssertEqual(RDataFields.nsecNextName(nsec), try DNSName("aaa."))
        let nsec3 = try parseRData(.nsec3, "1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS TYPE1234")
        XCTAssertEqual(RDataFields.bitmapTypes(type: .nsec3, rdata: nsec3), [.ns, RRType(1234)])
        XCTAssertEqual(RDataFields.bitmapTypes(type: .csync, rdata: try parseRData(.csync, "1 3 A AAAA")), [.a, .aaaa])
        XCTAssertNil(RDataFields.bitmapTypes(type: .a, rdata: [1, 2, 3, 4]))
        XCTAssertEqual(RDataFields.nsec3HashAlgorithm(nsec3), 1)
        XCTAssertEqual(RDataFields.nsec3Flags(nsec3), 1)
        XCTAssertEqual(RDataFields.nsec3Iterations(nsec3), 12)
        XCTAssertEqual(RDataFields.nsec3Salt(nsec3), [0xAA, 0xBB, 0xCC, 0xDD])
        XCTAssertEqual(RDataFields.nsec3NextHashedOwner(nsec3).map(RDataFields.base32HexLabel),
                       Array("2t7b4g4vsa5smi47k61mv5bv1a22bojr".utf8))
        let param = try parseRData(.nsec3param, "1 0 0 -")
        XCTAssertEqual(RDataFields.nsec3Salt(param), [])
        XCTAssertEqual(RDataFields.nsec3Iterations(param), 0)
        let https = try parseRData(.https, "1 svc alpn=h2")
        XCTAssertEqual(RDataFields.svcPriority(https), 1)
        XCTAssertEqual(RDataFields.svcTarget(https), try DNSName("svc.example.com."))
    }

    private func beBytes(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    func testCanonicalForm() throws {
        // RFC 4034 §6.2: names in the rdata of the listed types are lower-cased; NSEC's is not (RFC 6840 §5.1).
        let mx = try parseRData(.mx, "10 MAIL.Example.COM.")
        XCTAssertEqual(RDataWire.canonicalForm(type: .mx, rdata: mx), try parseRData(.mx, "10 mail.example.com."))
        let rrsig = try parseRData(.rrsig, "A 8 2 300 20231201000000 20231101000000 1 EXAMPLE.com. AAAA")
        XCTAssertEqual(RDataWire.canonicalForm(type: .rrsig, rdata: rrsig),
                       try parseRData(.rrsig, "A 8 2 300 20231201000000 20231101000000 1 example.com. AAAA"))
        let srv = try parseRData(.srv, "0 5 5060 SIP.example.com.")
        XCTAssertEqual(RDataWire.canonicalForm(type: .srv, rdata: srv), try parseRData(.srv, "0 5 5060 sip.example.com."))
        let nsec = try parseRData(.nsec, "HOST.example.com. A")
        XCTAssertEqual(RDataWire.canonicalForm(type: .nsec, rdata: nsec), nsec)
        let txt = try parseRData(.txt, "ABC")
        XCTAssertEqual(RDataWire.canonicalForm(type: .txt, rdata: txt), txt)
    }

    func testRecordPresentation() throws {
        let rr = ResourceRecord(owner: try DNSName("www.example.com."), type: .a, ttl: 300, rdata: [192, 0, 2, 1])
        XCTAssertEqual(rr.presentation, "www.example.com.\t300\tIN\tA\t192.0.2.1")
        let unknown = ResourceRecord(owner: .root, type: RRType(65280), rrClass: RRClass(3), ttl: 0, rdata: [1])
        XCTAssertEqual(unknown.presentation, ".\t0\tCH\tTYPE65280\t\\# 1 01")
    }

    func testIPv6Formatting() throws {
        // RFC 5952 §4 and §5.
        let cases: [(String, String)] = [
            ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"), ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"), ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("0:0:0:0:0:0:0:0", "::"), ("0:0:0:0:0:0:0:1", "::1"), ("1:0:0:0:0:0:0:0", "1::"),
            ("FE80::", "fe80::"), ("::ffff:c000:0201", "::ffff:192.0.2.1"), ("::192.0.2.1", "::c000:201"),
            ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"), ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
            ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ]
        for (input, output) in cases {
            let wire = try parseRData(.aaaa, input)
            XCTAssertEqual(RDataText.format(type: .aaaa, rdata: wire), output, input)
        }
    }

    func testCodecs() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            var b64: [UInt8] = []
            Base64.encode(bytes[...], into: &b64)
            var back: [UInt8] = []
            XCTAssertTrue(Base64.decode(b64[...], into: &back))
            XCTAssertEqual(back, bytes)
            var b32: [UInt8] = []
            Base32Hex.encode(bytes[...], into: &b32)
            XCTAssertEqual(Base32Hex.decode(b32[...]), bytes)
        }
        var out: [UInt8] = []
        Base64.encode(Array("foobar".utf8)[...], into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "Zm9vYmFy")
        out = []
        Base32Hex.encode(Array("foobar".utf8)[...], into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "CPNMUOJ1E8")  // RFC 4648 §10 without padding
        XCTAssertNil(Base32Hex.decode(Array("CPNMUOJ1E".utf8)[...]))
        var junk: [UInt8] = []
        XCTAssertFalse(Base64.decode(Array("Zm9v=mFy".utf8)[...], into: &junk))
        XCTAssertFalse(Base64.decode(Array("Zm9".utf8)[...], into: &junk))
    }
}
