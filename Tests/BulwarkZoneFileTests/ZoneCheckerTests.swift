import XCTest
@testable import BulwarkZoneFile

final class ZoneCheckerTests: XCTestCase {
    private let head = """
    $TTL 3600
    @ SOA ns1 hostmaster 1 7200 3600 1209600 300
    @ NS ns1
    ns1 A 192.0.2.1

    """  // lines 1-4; the test's own records start on line 5

    private func check(_ body: String, origin: String = "example.com.") throws -> [ZoneIssue] {
        let zone = try parse(head + body, origin: origin)
        return ZoneChecker.check(zone)
    }

    private func assertIssues(_ issues: [ZoneIssue], _ expected: [(ZoneIssue.Severity, Int?, String)],
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(issues.count, expected.count, "\(issues)", file: file, line: line)
        for (issue, (severity, issueLine, fragment)) in zip(issues, expected) {
            XCTAssertEqual(issue.severity, severity, "\(issue)", file: file, line: line)
            XCTAssertEqual(issue.location?.line, issueLine, "\(issue)", file: file, line: line)
            XCTAssertTrue(issue.message.contains(fragment), "'\(issue.message)' lacks '\(fragment)'", file: file, line: line)
        }
    }

    func testCleanZone() throws {
        let issues = try check("""
        www A 192.0.2.2
        www AAAA 2001:db8::2
        alias CNAME www
        sub NS ns.sub
        sub DS 12345 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE
        ns.sub A 192.0.2.53
        """)
        XCTAssertEqual(issues, [])
    }

    func testDescriptionCarriesFileAndLine() throws {
        let issues = try check("www CNAME a\nwww A 192.0.2.2\n")
        XCTAssertEqual(issues.map(\.description), ["t.zone:6: www.example.com. has a CNAME and other data (A) (RFC 1034 §3.6.2)"])
    }

    func testMissingSOA() throws {
        let zone = try parse("$TTL 1\n@ NS ns1\nns1 A 192.0.2.1\n")
        // A problem of the whole zone names the file, with no line (line 0).
        assertIssues(ZoneChecker.check(zone), [(.error, 0, "no SOA")])
        XCTAssertTrue(ZoneChecker.check(zone)[0].description.hasPrefix("t.zone: "))
    }

    func testSecondSOAAndSOAOffApex() throws {
        assertIssues(try check("@ SOA ns1 other 2 7200 3600 1209600 300\nsub SOA ns1 hostmaster 1 2 3 4 5\n"), [
            (.error, 5, "more than one SOA"),
            (.error, 6, "not at the zone apex"),
        ])
    }

    func testMissingApexNS() throws {
        let zone = try parse("$TTL 1\n@ SOA ns1 hostmaster 1 2 3 4 5\nns1 A 192.0.2.1\n")
        assertIssues(ZoneChecker.check(zone), [(.error, 2, "no NS records at the zone apex")])
    }

    func testOutOfZone() throws {
        assertIssues(try check("www.example.org. A 192.0.2.1\nexample.com.evil. A 192.0.2.1\n"), [
            (.error, 5, "outside the zone"),
            (.error, 6, "outside the zone"),
        ])
    }

    func testCNAMEAndOtherData() throws {
        assertIssues(try check("www CNAME a\nwww MX 10 mail\n@ CNAME elsewhere.example.\n"), [
            (.error, 2, "CNAME and other data (SOA)"),
            (.error, 6, "CNAME and other data (MX)"),
        ])
    }

    /// RFC 4035 §2.5: RRSIG and NSEC may sit beside a CNAME.
    func testCNAMEWithDNSSECRecords() throws {
        let issues = try check("""
        www CNAME a
        www NSEC zzz.example.com. CNAME RRSIG NSEC
        www RRSIG CNAME 8 3 3600 20260101000000 20250101000000 12345 example.com. AAAA
        """)
        XCTAssertEqual(issues, [])
    }

    func testTwoCNAMEs() throws {
        assertIssues(try check("www CNAME a\nwww CNAME b\n"), [(.error, 6, "more than one CNAME")])
    }

    func testTwoDNAMEsAndDataBelowDNAME() throws {
        assertIssues(try check("d DNAME a.example.net.\nd DNAME b.example.net.\nx.d A 192.0.2.1\n"), [
            (.error, 6, "more than one DNAME"),
            (.warning, 7, "below the DNAME at d.example.com."),
        ])
    }

    func testOccludedDataBelowDelegation() throws {
        assertIssues(try check("""
        sub NS ns.sub
        ns.sub A 192.0.2.53
        ns.sub TXT "not glue"
        www.sub A 192.0.2.80
        deep.www.sub AAAA 2001:db8::1
        sub MX 10 mail
        """), [
            (.warning, 7, "ns.sub.example.com. TXT is below the delegation at sub.example.com."),
            (.warning, 8, "www.sub.example.com. A is below the delegation"),
            (.warning, 9, "deep.www.sub.example.com. AAAA is below the delegation at sub.example.com."),
            (.warning, 10, "sub.example.com. MX is at a delegation point"),
        ])
    }

    /// Glue for a name server below a sibling delegation is still glue.
    func testSiblingGlue() throws {
        let issues = try check("""
        a NS ns.b
        b NS ns.b
        ns.b A 192.0.2.53
        ns.b AAAA 2001:db8::53
        """)
        XCTAssertEqual(issues, [])
    }

    func testMissingGlue() throws {
        assertIssues(try check("sub NS ns.sub\nsub NS ns.elsewhere.example.\n@ NS ns2\n"), [
            (.warning, 5, "NS target ns.sub.example.com. has no A or AAAA"),
            (.warning, 7, "NS target ns2.example.com. has no A or AAAA"),
        ])
    }

    func testTargetsThatAreAliases() throws {
        assertIssues(try check("""
        mail CNAME real
        real A 192.0.2.25
        @ MX 10 mail
        @ MX 20 real
        _sip._tcp SRV 0 5 5060 mail
        sub NS mail
        """), [
            (.warning, 7, "MX target mail.example.com. is an alias (CNAME) (RFC 2181 §10.3)"),
            (.warning, 9, "SRV target mail.example.com. is an alias (CNAME) (RFC 2782)"),
            (.warning, 10, "NS target mail.example.com. is an alias"),
        ])
    }

    func testDSPlacement() throws {
        assertIssues(try check("""
        @ DS 1 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE
        leaf DS 1 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE
        sub NS ns1.example.com.
        sub DS 1 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE
        """), [
            (.warning, 5, "DS record at the zone apex example.com. belongs in the parent zone"),
            (.error, 6, "DS record where there is no delegation"),
        ])
    }

    func testTTLMismatchWithinRRset() throws {
        assertIssues(try check("www 300 A 192.0.2.1\nwww 600 A 192.0.2.2\nwww 900 A 192.0.2.3\nwww 60 AAAA 2001:db8::1\n"), [
            (.warning, 6, "TTLs differ within the RRset www.example.com. A"),
        ])
    }

    func testDuplicatesAreReportedAndDropped() throws {
        var zone = try parse(head + "www A 192.0.2.1\nWWW A 192.0.2.1\nwww A 192.0.2.2\nalias CNAME WWW\nalias CNAME www\n")
        let issues = ZoneChecker.checkRemovingDuplicates(&zone)
        assertIssues(issues, [
            (.warning, 6, "duplicate record WWW.example.com. A"),
            (.warning, 9, "duplicate record alias.example.com. CNAME"),
        ])
        XCTAssertEqual(zone.records.count, 6)
        XCTAssertEqual(zone.recordSources.count, 6)
        XCTAssertEqual(zone.location(ofRecord: 5)?.line, 8)
    }

    /// Names with many records switch to hashed duplicate detection; same results.
    func testDuplicatesAndTTLsAtANameWithManyRecords() throws {
        var body = ""
        for k in 0..<100 { body += "big TXT \"t\(k)\"\n" }  // lines 5...104
        body += "big TXT \"t7\"\n"                            // 105: duplicate
        body += "big 60 TXT \"new\"\n"                         // 106: TTL differs
        body += "big 60 TXT \"newer\"\n"                       // 107: reported once only
        body += "BIG TXT \"t99\"\n"                            // 108: duplicate
        var zone = try parse(head + body)
        assertIssues(ZoneChecker.checkRemovingDuplicates(&zone), [
            (.warning, 105, "duplicate record big.example.com. TXT"),
            (.warning, 106, "TTLs differ within the RRset big.example.com. TXT"),
            (.warning, 108, "duplicate record BIG.example.com. TXT"),
        ])
        XCTAssertEqual(zone.records.count, 3 + 102)
    }

    func testIssueLimit() throws {
        var body = ""
        for k in 0..<20 { body += "w\(k) 60 A 192.0.2.1\nw\(k) 61 A 192.0.2.2\n" }  // 20 warnings
        body += "x.example.org. A 192.0.2.1\n"                                     // 1 error
        let zone = try parse(head + body)
        let issues = ZoneChecker.check(zone, limit: 5)
        XCTAssertEqual(issues.count, 6)
        XCTAssertEqual(issues.last?.severity, .error)
        XCTAssertEqual(issues.last?.message, "16 more issues not listed (1 errors, 15 warnings)")
    }

    func testReadChecked() throws {
        let reader = ZoneFileReader(origin: ZoneFileTestSupport.name("example.com."))
        let zone = try reader.readChecked(text: head + "www A 192.0.2.1\nwww A 192.0.2.1\n", fileName: "t.zone")
        XCTAssertEqual(zone.records.count, 4)
        XCTAssertEqual(zone.warnings.map(\.location?.line), [6])
        XCTAssertThrowsError(try reader.readChecked(text: head + "www CNAME a\nwww A 192.0.2.1\n", fileName: "t.zone")) { error in
            XCTAssertEqual((error as! ZoneFileError).errors.map(\.location?.line), [6])
        }
    }

    func testRootZoneChecks() throws {
        guard let path = ZoneFileTestSupport.rootZonePath else { throw XCTSkip("root.zone not found") }
        var zone = try ZoneFileReader(origin: .root).read(path: path)
        let issues = ZoneChecker.checkRemovingDuplicates(&zone)
        XCTAssertEqual(issues, [])
    }
}
