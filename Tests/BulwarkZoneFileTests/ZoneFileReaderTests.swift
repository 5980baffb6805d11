import BulwarkTestSupport
import BulwarkWire
import Foundation
import XCTest
@testable import BulwarkZoneFile

private let n = ZoneFileTestSupport.name

final class ZoneFileReaderTests: XCTestCase {
    // MARK: Names, origin, owners

    func testOriginAtSignRelativeAndAbsoluteNames() throws {
        let zone = try parse("""
        $TTL 300
        @ IN A 192.0.2.1
        www IN A 192.0.2.2
        abs.example.com. IN A 192.0.2.3
        $ORIGIN sub.example.com.
        x IN A 192.0.2.4
        $ORIGIN deeper
        y IN A 192.0.2.5
        @ IN A 192.0.2.6
        """)
        XCTAssertEqual(zone.records.map(\.owner), [
            n("example.com."), n("www.example.com."), n("abs.example.com."), n("x.sub.example.com."),
            n("y.deeper.sub.example.com."), n("deeper.sub.example.com."),
        ])
        XCTAssertEqual(zone.records[0].rdata, [192, 0, 2, 1])
        XCTAssertTrue(zone.records.allSatisfy { $0.ttl == 300 && $0.rrClass == .in && $0.type == .a })
    }

    func testOmittedOwnerIsPreviousOwner() throws {
        let zone = try parse("""
        $TTL 300
        www IN A 192.0.2.1
            IN A 192.0.2.2
        \tIN AAAA 2001:db8::1
        mail IN A 192.0.2.3
          A 192.0.2.4
        """)
        XCTAssertEqual(zone.records.map(\.owner), [
            n("www.example.com."), n("www.example.com."), n("www.example.com."),
            n("mail.example.com."), n("mail.example.com."),
        ])
    }

    func testOwnerCacheRespectsOriginChange() throws {
        let zone = try parse("""
        $TTL 300
        www A 192.0.2.1
        $ORIGIN example.org.
        www A 192.0.2.2
        """)
        XCTAssertEqual(zone.records.map(\.owner), [n("www.example.com."), n("www.example.org.")])
    }

    func testEscapedDotInsideLabel() throws {
        let zone = try parse("$TTL 1\na\\.b A 192.0.2.1\nc\\046d A 192.0.2.2\n")
        XCTAssertEqual(zone.records[0].owner.labels.first, Array("a.b".utf8))
        XCTAssertEqual(zone.records[0].owner.labelCount, 3)
        XCTAssertEqual(zone.records[1].owner.labels.first, Array("c.d".utf8))
    }

    // MARK: TTL and class

    func testTTLAndClassInEitherOrderAndOmitted() throws {
        let zone = try parse("""
        $TTL 100
        a 200 IN A 192.0.2.1
        b IN 300 A 192.0.2.2
        c IN A 192.0.2.3
        d 400 A 192.0.2.4
        e A 192.0.2.5
        f CLASS1 TYPE1 192.0.2.6
        g in a 192.0.2.7
        """)
        XCTAssertEqual(zone.records.map(\.ttl), [200, 300, 100, 400, 100, 100, 100])
        XCTAssertTrue(zone.records.allSatisfy { $0.type == .a && $0.rrClass == .in })
    }

    func testTTLUnits() {
        func ttl(_ s: String) -> UInt32? { Array(s.utf8).withUnsafeBytes { TTLText.parse($0) } }
        XCTAssertEqual(ttl("0"), 0)
        XCTAssertEqual(ttl("3600"), 3600)
        XCTAssertEqual(ttl("1h30m"), 5400)
        XCTAssertEqual(ttl("1H30M"), 5400)
        XCTAssertEqual(ttl("1w2d"), 777_600)
        XCTAssertEqual(ttl("1W2D3h4m5S"), 604_800 + 172_800 + 10_800 + 240 + 5)
        XCTAssertEqual(ttl("1h30"), 3630)
        XCTAssertEqual(ttl("4294967295"), UInt32.max)
        XCTAssertNil(ttl("4294967296"))
        XCTAssertNil(ttl("7102w"))
        XCTAssertNil(ttl(""))
        XCTAssertNil(ttl("h"))
        XCTAssertNil(ttl("1x"))
        XCTAssertNil(ttl("1hh"))
        XCTAssertNil(ttl("-1"))
    }

    func testDollarTTLWithUnits() throws {
        let zone = try parse("$TTL 1d\na A 192.0.2.1\n$TTL 2h30m\nb A 192.0.2.2\n")
        XCTAssertEqual(zone.records.map(\.ttl), [86400, 9000])
    }

    /// Without $TTL: the SOA takes its MINIMUM (with a warning, as BIND), later
    /// records the last TTL given (RFC 1035 §5.1).
    func testDefaultTTLWithoutDollarTTL() throws {
        let zone = try parse("""
        @ SOA ns hostmaster 1 7200 3600 1209600 900
        @ NS ns
        ns 60 A 192.0.2.1
        www A 192.0.2.2
        """)
        XCTAssertEqual(zone.records.map(\.ttl), [900, 900, 60, 60])
        XCTAssertEqual(zone.warnings.count, 1)
        XCTAssertEqual(zone.warnings.first?.location, SourceLocation(file: "t.zone", line: 1))
        XCTAssertTrue(zone.warnings.first?.message.contains("MINIMUM") ?? false)
    }

    func testNoTTLAtAllIsAnError() {
        let errors = parseErrors("\nwww A 192.0.2.1\n")
        XCTAssertEqual(errors.map(\.location?.line), [2])
        XCTAssertTrue(errors[0].message.contains("no TTL"))
    }

    func testClassDifferentFromZoneIsRejected() {
        let errors = parseErrors("$TTL 1\na IN A 192.0.2.1\nb CH A 192.0.2.1\nc CLASS3 A 192.0.2.1\n")
        XCTAssertEqual(errors.map(\.location?.line), [3, 4])
        XCTAssertTrue(errors[0].description.hasPrefix("t.zone:3: class CH differs"))
    }

    func testLargeTTLWarns() throws {
        let zone = try parse("a 2147483648 A 192.0.2.1\n")
        XCTAssertEqual(zone.records[0].ttl, 2_147_483_648)
        XCTAssertEqual(zone.warnings.map(\.location?.line), [1])
    }

    // MARK: Lexical structure

    func testParenthesesCommentsAndBlankLines() throws {
        let zone = try parse("""
        ; a comment line

        $TTL 3600 ; comment after a directive
        @ IN SOA ns1.example.com. ( hostmaster.example.com.
              2026010101 ; serial
              ; a comment-only line inside
              7200 3600
              1209600 300 )
        www IN A ( 192.0.2.1 ) ; trailing
        txt IN TXT "semi;colon" "(paren)"
        """)
        XCTAssertEqual(zone.records.count, 3)
        XCTAssertEqual(zone.serial, 2026010101)
        XCTAssertEqual(zone.location(ofRecord: 0)?.line, 4)
        XCTAssertEqual(zone.location(ofRecord: 1)?.line, 9)
        XCTAssertEqual(zone.location(ofRecord: 2)?.line, 10)
        XCTAssertEqual(zone.records[2].rdata, [10] + Array("semi;colon".utf8) + [7] + Array("(paren)".utf8))
    }

    func testCRLFAndNoFinalNewline() throws {
        let zone = try parse("$TTL 60\r\nwww A 192.0.2.1\r\n    A 192.0.2.2")
        XCTAssertEqual(zone.records.count, 2)
        XCTAssertEqual(zone.records[1].owner, n("www.example.com."))
    }

    func testQuotedStringsWithEscapesAndSeveralStrings() throws {
        let zone = try parse(#"""
        $TTL 60
        a TXT "v=spf1 mx -all" "second string"
        b TXT "quote \" inside" "\065\066C" "back\\slash"
        c TXT unquoted "" "tab\	x"
        """#)
        XCTAssertEqual(records(zone, "a.example.com.", .txt)[0].rdata,
                       [14] + Array("v=spf1 mx -all".utf8) + [13] + Array("second string".utf8))
        XCTAssertEqual(records(zone, "b.example.com.", .txt)[0].rdata,
                       [14] + Array(#"quote " inside"#.utf8) + [3] + Array("ABC".utf8) + [10] + Array(#"back\slash"#.utf8))
        XCTAssertEqual(records(zone, "c.example.com.", .txt)[0].rdata,
                       [8] + Array("unquoted".utf8) + [0] + [5] + Array("tab\tx".utf8))
    }

    func testGenericTypeClassAndData() throws {
        // RFC 3597 §5.
        let zone = try parse("""
        $TTL 60
        a CLASS1 TYPE65280 \\# 3 010203
        b IN TYPE1 \\# 4 C0000201
        c IN A \\# 4 C0000202
        d IN TYPE65281 \\# 0
        """)
        XCTAssertEqual(zone.records.map(\.type), [RRType(65280), .a, .a, RRType(65281)])
        XCTAssertEqual(zone.records.map(\.rdata), [[1, 2, 3], [192, 0, 2, 1], [192, 0, 2, 2], []])
    }

    func testTypeMnemonicsAreCaseInsensitive() throws {
        let zone = try parse("$TTL 60\na aaaa 2001:db8::1\nb Mx 10 a\nc nsec3param 1 0 0 -\n")
        XCTAssertEqual(zone.records.map(\.type), [.aaaa, .mx, .nsec3param])
    }

    // MARK: Errors, with their lines

    func testBadAddressNamesFileAndLine() {
        let errors = parseErrors("$TTL 60\n\nwww A 1.2.3\n")
        XCTAssertEqual(errors.count, 1)
        XCTAssertEqual(errors[0].location, SourceLocation(file: "t.zone", line: 3))
        XCTAssertTrue(errors[0].description.hasPrefix("t.zone:3: "), errors[0].description)
        XCTAssertTrue(errors[0].description.contains("1.2.3"), errors[0].description)
    }

    func testSeveralErrorsAreAllReported() {
        let errors = parseErrors("""
        $TTL 60
        a A 192.0.2.1
        b BOGUS 1
        c 1x A 192.0.2.1
        d A 300.1.1.1
        e..x A 192.0.2.1
        f A 192.0.2.2
        $FOO bar
        g IN ANY 1
        h IN
        """)
        XCTAssertEqual(errors.map(\.location?.line), [3, 4, 5, 6, 8, 9, 10])
        XCTAssertTrue(errors[0].message.contains("unknown type 'BOGUS'"), errors[0].message)
        XCTAssertTrue(errors[1].message.contains("bad TTL '1x'"), errors[1].message)
        XCTAssertTrue(errors[3].message.contains("bad owner name 'e..x'"), errors[3].message)
        XCTAssertTrue(errors[4].message.contains("unknown directive"), errors[4].message)
        XCTAssertTrue(errors[5].message.contains("ANY"), errors[5].message)
        XCTAssertTrue(errors[6].message.contains("missing record type"), errors[6].message)
    }

    func testTXTStringOver255OctetsIsAnError() {
        let long = String(repeating: "x", count: 256)
        let errors = parseErrors("$TTL 60\nok TXT \"\(String(repeating: "y", count: 255))\"\nbad TXT \"\(long)\"\n")
        XCTAssertEqual(errors.map(\.location?.line), [3])
        XCTAssertTrue(errors[0].message.contains("TXT"), errors[0].message)
    }

    func testTTLOrClassGivenTwice() {
        let errors = parseErrors("$TTL 60\na 300 300 A 192.0.2.1\nb IN IN A 192.0.2.1\nc 1 IN 2 A 192.0.2.1\n")
        XCTAssertEqual(errors.map(\.location?.line), [2, 3, 4])
        XCTAssertTrue(errors[0].message.contains("TTL given twice"), errors[0].message)
        XCTAssertTrue(errors[1].message.contains("class given twice"), errors[1].message)
    }

    func testErrorCap() {
        let text = "$TTL 60\n" + String(repeating: "a A 1\n", count: 50)
        let errors = parseErrors(text, maxErrors: 10)
        XCTAssertEqual(errors.count, 11)
        XCTAssertTrue(errors.last!.message.contains("too many errors"))
    }

    func testRecordsAfterBadOwnerAreSkippedQuietly() {
        let errors = parseErrors("$TTL 60\na..b A 192.0.2.1\n  A 192.0.2.2\nok A 192.0.2.3\nbad A x\n")
        XCTAssertEqual(errors.map(\.location?.line), [2, 5])
    }

    func testBlankOwnerOnFirstRecord() {
        let errors = parseErrors("$TTL 60\n  A 192.0.2.1\n")
        XCTAssertEqual(errors.map(\.location?.line), [2])
    }

    func testUnbalancedParentheses() {
        var errors = parseErrors("$TTL 60\na A 192.0.2.1 )\nb A 192.0.2.2\n")
        XCTAssertEqual(errors.map(\.location?.line), [2])
        XCTAssertTrue(errors[0].message.contains("parenthes"))
        errors = parseErrors("$TTL 60\na A 192.0.2.1\nb SOA ns host ( 1 2 3\n 4 5\n")
        XCTAssertEqual(errors.map(\.location?.line), [3])
    }

    func testUnterminatedQuote() {
        let errors = parseErrors("$TTL 60\na TXT \"open\nb A 192.0.2.1\nc A x\n")
        XCTAssertEqual(errors.map(\.location?.line), [2, 4])
        XCTAssertTrue(errors[0].message.contains("quoted"))
    }

    func testDirectiveArguments() {
        let errors = parseErrors("$ORIGIN\n$TTL\n$TTL abc\n$ORIGIN a..b\n$INCLUDE\n$GENERATE 1-2 a A 1.2.3.$\n")
        XCTAssertEqual(errors.map(\.location?.line), [1, 2, 3, 4, 5, 6])
    }

    // MARK: Files and $INCLUDE

    func testRFC1035ExampleZone() throws {
        let path = ZoneFileTestSupport.fixtures + "/isi.edu.zone"
        let zone = try ZoneFileReader(origin: n("ISI.EDU.")).read(path: path)
        XCTAssertEqual(zone.records.count, 17)
        XCTAssertEqual(zone.serial, 20)
        let soa = zone.records[0]
        XCTAssertEqual(soa.type, .soa)
        XCTAssertEqual(soa.ttl, 60)  // SOA MINIMUM, no $TTL
        XCTAssertTrue(soa.rdata.starts(with: n("VENERA.ISI.EDU.").wire))
        // `Action\.domains`: one label holding a dot.
        let rname = try DNSName(wire: Array(soa.rdata[n("VENERA.ISI.EDU.").wire.count..<(soa.rdata.count - 20)]))
        XCTAssertEqual(rname.labels.first, Array("Action.domains".utf8))
        XCTAssertEqual(records(zone, "ISI.EDU.", .ns).count, 3)
        XCTAssertEqual(records(zone, "ISI.EDU.", .mx).count, 2)
        XCTAssertEqual(records(zone, "VENERA.ISI.EDU.", .a).map(\.rdata), [[10, 1, 0, 52], [128, 9, 0, 32]])
        XCTAssertEqual(records(zone, "STOOGES.ISI.EDU.", .mg).count, 3)
        XCTAssertTrue(zone.records.allSatisfy { $0.ttl == 60 })
        // Included records carry the included file's name and line.
        let moe = zone.records.firstIndex { $0.type == .mb }!
        XCTAssertEqual(zone.location(ofRecord: moe)?.line, 1)
        XCTAssertTrue(zone.location(ofRecord: moe)?.file.hasSuffix("ISI-MAILBOXES.TXT") ?? false)
        XCTAssertEqual(zone.location(ofRecord: 0)?.line, 2)
        XCTAssertEqual(ZoneChecker.check(zone).filter(\.isError), [])
    }

    func testIncludeWithOriginAndRelativePath() throws {
        let path = ZoneFileTestSupport.fixtures + "/example.com.zone"
        let zone = try ZoneFileReader(origin: n("example.com.")).read(path: path)
        XCTAssertEqual(zone.serial, 2026010101)
        XCTAssertEqual(records(zone, "lab.example.com.", .a).map(\.rdata), [[192, 0, 2, 50]])
        XCTAssertEqual(records(zone, "host1.lab.example.com.", .a).count, 1)
        XCTAssertEqual(records(zone, "host2.example.com.", .a).count, 1)
        // After the include the origin is example.com. again.
        XCTAssertEqual(records(zone, "after.example.com.", .a).count, 1)
        XCTAssertEqual(records(zone, "www.example.com.", .a).map(\.ttl), [300, 300])
        XCTAssertEqual(records(zone, "mail.example.com.", .a).map(\.ttl), [3600])
        XCTAssertEqual(zone.files.count, 2)
        let issues = ZoneChecker.check(zone)
        XCTAssertEqual(issues, [], "\(issues)")
    }

    func testIncludeLoopIsAnError() {
        let path = ZoneFileTestSupport.fixtures + "/loop-a.zone"
        XCTAssertThrowsError(try ZoneFileReader(origin: n("loop.test.")).read(path: path)) { error in
            let errors = (error as! ZoneFileError).errors
            XCTAssertEqual(errors.count, 1)
            XCTAssertTrue(errors[0].message.contains("loop"), errors[0].message)
            XCTAssertEqual(errors[0].location?.line, 2)
            XCTAssertTrue(errors[0].location?.file.hasSuffix("loop-b.inc") ?? false)
        }
    }

    func testIncludeDepthIsLimited() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zf-depth-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for k in 0..<30 {
            try "$INCLUDE f\(k + 1).inc\nh\(k) 60 A 192.0.2.1\n".write(
                to: dir.appendingPathComponent("f\(k).inc"), atomically: true, encoding: .utf8)
        }
        let reader = ZoneFileReader(origin: n("example.com."), maxIncludeDepth: 5)
        XCTAssertThrowsError(try reader.read(path: dir.appendingPathComponent("f0.inc").path)) { error in
            let errors = (error as! ZoneFileError).errors
            XCTAssertEqual(errors.count, 1)
            XCTAssertTrue(errors[0].message.contains("nested"), errors[0].message)
            XCTAssertEqual(errors[0].location?.line, 1)
            XCTAssertTrue(errors[0].location?.file.hasSuffix("f5.inc") ?? false, "\(errors[0])")
        }
    }

    func testIncludeMissingFileAndDisabledIncludes() {
        let errors = parseErrors("$TTL 1\n\n$INCLUDE /nonexistent/file.inc\n")
        XCTAssertEqual(errors.map(\.location?.line), [3])
        XCTAssertTrue(errors[0].message.contains("/nonexistent/file.inc"))
        let reader = ZoneFileReader(origin: n("example.com."), allowInclude: false)
        XCTAssertThrowsError(try reader.read(text: "$INCLUDE /etc/hostname\n", fileName: "t.zone")) { error in
            XCTAssertEqual((error as! ZoneFileError).errors.map(\.location?.line), [1])
        }
    }

    func testMissingFile() {
        XCTAssertThrowsError(try ZoneFileReader(origin: .root).read(path: "/nonexistent.zone")) { error in
            XCTAssertTrue((error as! ZoneFileError).description.contains("/nonexistent.zone"))
        }
    }

    /// Hostile input: mutated zone text must give errors, never a crash.
    func testMutatedInputNeverCrashes() throws {
        let base = Array(try String(contentsOfFile: ZoneFileTestSupport.fixtures + "/example.com.zone", encoding: .utf8).utf8)
        let alphabet = Array(" \t\n;()\"\\$@.#0123456789aZ*".utf8) + [0, 0xFF]
        var rng = TestSeed.generator(1035)
        let reader = ZoneFileReader(origin: n("example.com."), allowInclude: false)
        for _ in 0..<3000 {
            var bytes = base
            for _ in 0..<(1 + Int(rng.next() % 6)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                }
            }
            if let zone = try? reader.read(bytes: bytes, fileName: "fuzz") {
                _ = ZoneChecker.check(zone)
            }
        }
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? reader.read(bytes: bytes, fileName: "fuzz")
        }
    }

    // MARK: The real root zone

    func testRootZone() throws {
        guard let path = ZoneFileTestSupport.rootZonePath else { throw XCTSkip("root.zone not found") }
        let zone = try ZoneFileReader(origin: .root).read(path: path)
        XCTAssertGreaterThan(zone.records.count, 20_000)
        XCTAssertLessThan(zone.records.count, 25_000)
        XCTAssertEqual(zone.serial, 2026082201)
        XCTAssertEqual(zone.warnings, [])
        XCTAssertEqual(records(zone, ".", .ns).count, 13)
        XCTAssertEqual(records(zone, ".", .dnskey).count, 3)
        XCTAssertEqual(records(zone, "com.", .ns).count, 13)
        XCTAssertEqual(records(zone, "com.", .ds).count, 1)
        XCTAssertEqual(records(zone, "a.root-servers.net.", .a).map(\.rdata), [[198, 41, 0, 4]])
        let issues = ZoneChecker.check(zone)
        XCTAssertEqual(issues.filter(\.isError), [])
    }
}

// MARK: Helpers shared with the checker tests

enum ZoneFileTestSupport {
    static func name(_ text: String) -> DNSName {
        try! DNSName(text, origin: .root)
    }

    static var fixtures: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
    }

    /// The shared root zone beside the project (`../shared/data/root.zone`).
    static var rootZonePath: String? {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let candidates = [
            url.deletingLastPathComponent().appendingPathComponent("shared/data/root.zone").path,
            "/work/shared/data/root.zone",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
extension XCTestCase {
    func parse(_ text: String, origin: String = "example.com.", file: StaticString = #filePath,
               line: UInt = #line) throws -> ParsedZone {
        do {
            return try ZoneFileReader(origin: ZoneFileTestSupport.name(origin)).read(text: text, fileName: "t.zone")
        } catch {
            XCTFail("unexpected errors:\n\(error)", file: file, line: line)
            throw error
        }
    }

    /// The issues of text expected not to load.
    func parseErrors(_ text: String, origin: String = "example.com.", maxErrors: Int = 100,
                     file: StaticString = #filePath, line: UInt = #line) -> [ZoneIssue] {
        do {
            _ = try ZoneFileReader(origin: ZoneFileTestSupport.name(origin), maxErrors: maxErrors)
                .read(text: text, fileName: "t.zone")
            XCTFail("expected errors", file: file, line: line)
            return []
        } catch {
            return error.errors
        }
    }

    func records(_ zone: ParsedZone, _ owner: String, _ type: RRType) -> [ResourceRecord] {
        let name = ZoneFileTestSupport.name(owner)
        return zone.records.filter { $0.owner == name && $0.type == type }
    }
}
