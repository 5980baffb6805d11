import XCTest
@testable import BulwarkWire

/// Text → wire → text for every type with a presentation format, with realistic values
/// (several taken from the root zone).
final class RDataRoundTripTests: XCTestCase {
    /// (type, input text, expected canonical output; nil means the output equals the input).
    static let cases: [(RRType, String, String?)] = [
        (.a, "192.0.2.1", nil),
        (.a, "0.0.0.0", nil),
        (.aaaa, "2001:dcd:1::9", nil),
        (.aaaa, "2001:0DB8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"),
        (.aaaa, "::ffff:192.0.2.1", nil),
        (.aaaa, "2001:db8:122:344::192.0.2.33", "2001:db8:122:344::c000:221"),
        (.ns, "a.root-servers.net.", nil),
        (.ns, "ns1", "ns1.example.com."),
        (.ns, "@", "example.com."),
        (.cname, "www\\.x.example.net.", nil),
        (.dname, "example.net.", nil),
        (.ptr, "host.example.com.", nil),
        (.soa, "a.root-servers.net. nstld.verisign-grs.com. 2026082201 1800 900 604800 86400", nil),
        (.soa, "ns hostmaster 1 1h 15M 1w2d 1D", "ns.example.com. hostmaster.example.com. 1 3600 900 777600 86400"),
        (.mx, "10 mail.example.com.", nil),
        (.mx, "0 .", nil),
        (.txt, "\"v=spf1 -all\"", nil),
        (.txt, "\"a b\" \"c\\\"d\" \"e\\\\f\" \"\\255\\000\"", nil),
        (.txt, "unquoted \\065BC", "\"unquoted\" \"ABC\""),
        (.txt, "\"\"", nil),
        (.spf, "\"v=spf1 mx -all\"", nil),
        (.hinfo, "\"INTEL-386\" \"Linux\"", nil),
        (.minfo, "rmailbx.example.com. emailbx.example.com.", nil),
        (.rp, "louie.trantor.umd.edu. lam1.people.umd.edu.", nil),
        (.afsdb, "1 afsdb.example.com.", nil),
        (.kx, "10 kx.example.com.", nil),
        (.srv, "0 5 5060 sipserver.example.com.", nil),
        (.naptr, "100 10 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .", nil),
        (.naptr, "100 50 \"s\" \"http+I2L+I2C+I2R\" \"\" _http._tcp.example.com.", nil),
        (.caa, "0 issue \"letsencrypt.org\"", nil),
        (.caa, "128 tbs \"Unknown\"", nil),
        (.caa, "0 iodef \"mailto:security@example.com\"", nil),
        (.caa, "0 issue \";\"", nil),
        (.sshfp, "2 1 123456789ABCDEF67890123456789ABCDEF67890", "2 1 123456789ABCDEF67890123456789ABCDEF67890"),
        (.sshfp, "4 2 0a1b2c3d 4e5f", "4 2 0A1B2C3D4E5F"),
        (.tlsa, "3 1 1 0B9FA5A59EED715C26C1020C711B4F6EC42D58B0015E14337A39DAD301C5AFC3", nil),
        (.smimea, "3 1 1 0B9FA5A59EED715C26C1020C711B4F6EC42D58B0015E14337A39DAD301C5AFC3", nil),
        (.ds, "31852 8 2 89F7670AFC091B199B47900E4CE4135B9463B7F74D3D19A1C732E78C 345D4DE6",
         "31852 8 2 89F7670AFC091B199B47900E4CE4135B9463B7F74D3D19A1C732E78C345D4DE6"),
        (.ds, "20326 RSASHA256 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
         "20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"),
        (.cds, "0 0 0 00", nil),
        (.dnskey, RDataRoundTripTests.rootKSKText, RDataRoundTripTests.rootKSKText.split(separator: " ").prefix(3).joined(separator: " ") + " " + RDataRoundTripTests.rootKSKText.split(separator: " ").dropFirst(3).joined()),
        (.cdnskey, "0 3 0 AA==", nil),
        (.dnskey, "257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=", nil),
        (.rrsig, "SOA 8 0 86400 20260904170000 20260822160000 57780 . A9sK9Ia+JewtBN8HpFgG4bBsUAE5nlEh4BIS1w3uXHzfXW8nr7ubMg7w Qw5TUbi5Dwofp/yqlC0Nv71hELCRcnRca1KNvgOgH8oizsk93waV4wKW",
         "SOA 8 0 86400 20260904170000 20260822160000 57780 . A9sK9Ia+JewtBN8HpFgG4bBsUAE5nlEh4BIS1w3uXHzfXW8nr7ubMg7wQw5TUbi5Dwofp/yqlC0Nv71hELCRcnRca1KNvgOgH8oizsk93waV4wKW"),
        (.rrsig, "A 13 3 300 1700000000 1699000000 12345 example.com. AAAA", "A 13 3 300 20231114221320 20231103082640 12345 example.com. AAAA"),
        (.rrsig, "TYPE65280 ED25519 2 60 20380119031407 19700101000000 1 example.com. AAAA", "TYPE65280 15 2 60 20380119031407 19700101000000 1 example.com. AAAA"),
        (.rrsig, "A 8 2 300 21060207062815 20000229235959 1 example.com. AAAA", nil),
        (.nsec, "aaa. NS SOA RRSIG NSEC DNSKEY ZONEMD", nil),
        (.nsec, "host.example.com. A MX RRSIG NSEC TYPE1234", nil),
        (.nsec, "host.example.com. a mx type15 caa", "host.example.com. A MX CAA"),
        (.nsec, "host.example.com.", nil),
        (.nsec3, "1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS SOA MX RRSIG DNSKEY NSEC3PARAM", nil),
        (.nsec3, "1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG", "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG"),
        (.nsec3, "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S", nil),
        (.nsec3param, "1 0 0 -", nil),
        (.nsec3param, "1 0 10 AABBCCDD", nil),
        (.svcb, "0 svc.example.net.", nil),
        (.https, "1 . alpn=\"h3,h2\" ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1", "1 . alpn=\"h3,h2\" ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1"),
        (.https, "1 . alpn=h2 no-default-alpn port=8443 ech=AEX+DQBB", "1 . alpn=\"h2\" no-default-alpn port=8443 ech=AEX+DQBB"),
        (.svcb, "16 foo.example.org. mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1",
         "16 foo.example.org. mandatory=alpn,ipv4hint alpn=\"h2,h3-19\" ipv4hint=192.0.2.1"),
        (.svcb, "1 foo.example.com. key667=\"hello\\210qoo\"", nil),
        (.svcb, "1 foo.example.com. key667", nil),
        (.svcb, "1 dns.example.com. alpn=\"h2\" dohpath=\"/dns-query{?dns}\"", nil),
        (.uri, "10 1 \"ftp://ftp1.example.com/public\"", nil),
        (.openpgpkey, "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq", nil),
        (.dhcid, "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=", nil),
        (.zonemd, "2026082201 1 1 5E21E890ACDE0249A3C73F5500159960F01C1783534876FAEC24F3CB B7E0442D498E54B3E6DDCDECDD8D96E3FE1BF733",
         "2026082201 1 1 5E21E890ACDE0249A3C73F5500159960F01C1783534876FAEC24F3CBB7E0442D498E54B3E6DDCDECDD8D96E3FE1BF733"),
        (.csync, "66 3 A NS AAAA", nil),
        (.eui48, "00-00-5e-00-53-2a", nil),
        (.eui64, "00-00-5E-EF-10-00-00-2A", "00-00-5e-ef-10-00-00-2a"),
        (.nid, "10 0014:4fff:ff20:ee64", nil),
        (.l32, "10 10.1.2.0", nil),
        (.l64, "10 2001:db8:1:2", "10 2001:0db8:0001:0002"),
        (.lp, "10 l64-subnet1.example.com.", nil),
        (.mb, "madname.example.com.", nil),
        (.loc, "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m", nil),
        (.loc, "42 21 54 N 71 06 18 W -24m 30m", "42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m"),
        (.loc, "42 21 43.952 N 71 5 6.344 W -24m 1m 200m 10m", "42 21 43.952 N 71 5 6.344 W -24.00m 1m 200m 10m"),
        (.loc, "32 7 19 S 116 2 25 E 10m", "32 7 19.000 S 116 2 25.000 E 10.00m 1m 10000m 10m"),
        (.loc, "42 N 71 W 0", "42 0 0.000 N 71 0 0.000 W 0.00m 1m 10000m 10m"),
        (.loc, "90 S 180 E 42849672.95m 90000000m 0.5m 1.23", "90 0 0.000 S 180 0 0.000 E 42849672.95m 90000000m 0.50m 1m"),
        (.cert, "PGP 0 0 mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv", nil),
        (.cert, "1 12345 RSASHA256 AAAA", "PKIX 12345 8 AAAA"),
        (.cert, "100 1 1 AAAA", nil),
        (.ipseckey, "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==", nil),
        (.ipseckey, "10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==", nil),
        (.ipseckey, "10 3 2 mygateway.example.com. AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==", nil),
        (.ipseckey, "10 2 2 2001:0DB8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
         "10 2 2 2001:db8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="),
        (.ipseckey, "10 3 0 gw", "10 3 0 gw.example.com."),
        (.apl, "1:192.168.32.0/21 !1:192.168.38.0/28", nil),
        (.apl, "1:224.0.0.0/4 2:FF00:0:0:0:0:0:0:0/8", "1:224.0.0.0/4 2:ff00::/8"),
        (.apl, "1:0.0.0.0/0 !2:::/0", nil),
        (.apl, "", nil),
    ]

    static let rootKSKText = "257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3 +/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kv ArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF 0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+e oZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfd RUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwN R1AkUTV74bU="

    func testRoundTripEveryType() throws {
        for (type, input, expected) in Self.cases {
            let wire: [UInt8]
            do {
                wire = try parseRData(type, input)
            } catch {
                XCTFail("\(type) '\(input)': \(error)")
                continue
            }
            XCTAssertNoThrow(try RDataWire.validate(type: type, rdata: wire), "\(type) '\(input)'")
            let text = RDataText.format(type: type, rdata: wire)
            XCTAssertEqual(text, expected ?? input, "\(type)")
            // The output parses back to the same wire.
            XCTAssertEqual(try? parseRData(type, text), wire, "\(type) reparse of '\(text)'")
            // And the RFC 3597 form of the same data parses to the same wire.
            XCTAssertEqual(try? parseRData(type, RDataText.generic(wire)), wire, "\(type) via \\#")
        }
    }

    func testEveryTableTypeIsCovered() {
        let covered = Set(Self.cases.map(\.0.rawValue))
        for type in RDataSchema.table.keys where ![3, 4, 8, 9].contains(type) {
            XCTAssertTrue(covered.contains(type), "no round-trip case for \(RRType(type))")
        }
    }

    /// Every record of the root zone: parse, format, parse again to the same wire.
    func testRootZone() throws {
        let path = "/work/shared/data/root.zone"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw XCTSkip("no root.zone") }
        var count = 0
        let start = ContinuousClock.now
        for line in text.split(separator: "\n") where !line.hasPrefix(";") {
            let f = lexFields(String(line))
            guard f.count >= 5, let type = TypeMnemonic.parse(f[3].bytes) else { continue }
            let wire = try RDataText.parse(type: type, fields: Array(f[4...]), origin: .root)
            try RDataWire.validate(type: type, rdata: wire)
            let again = try parseRData(type, RDataText.format(type: type, rdata: wire), origin: .root)
            XCTAssertEqual(again, wire)
            count += 1
        }
        XCTAssertEqual(count, 22094)
        print("root zone: \(count) records parsed, formatted and reparsed in \(ContinuousClock.now - start)")
    }
}
