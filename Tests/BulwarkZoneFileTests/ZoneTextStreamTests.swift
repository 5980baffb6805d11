import BulwarkTestSupport
import BulwarkWire
import XCTest
@testable import BulwarkZoneFile

/// Zone text fed in chunks of any size reads as the whole text does: the same records,
/// the same line numbers, the same errors.
final class ZoneTextStreamTests: XCTestCase {
    let origin = try! DNSName("stream.test.")

    let text = """
        $TTL 300
        @ IN SOA ns1 hostmaster ( 2026120701 ; serial, with ( and ) in a comment
                7200 3600
                1209600 300 )
          IN NS ns1
        ns1 IN A 192.0.2.1
            IN AAAA 2001:db8::1
        txt IN TXT "a ; not a comment" "with ( parens" "and \\" a quote"
        multi IN TXT ( "first line ) with a quoted paren"
                       "second line" )
        $ORIGIN sub.stream.test.
        www 60 IN A 192.0.2.2
        $TTL 120
        mail IN MX 10 www
        ; a comment line ( with an open paren
        last IN CNAME www.stream.test.

        """

    func feed(_ text: String, chunks sizes: (Int) -> Int) throws -> ParsedZone {
        var stream = ZoneTextStream(reader: ZoneFileReader(origin: origin, allowInclude: false), fileName: "body", pieceSize: 16)
        let bytes = Array(text.utf8)
        var i = 0, k = 0
        while i < bytes.count {
            let n = min(bytes.count - i, max(1, sizes(k)))
            bytes[i..<(i + n)].withUnsafeBytes { stream.feed($0) }
            i += n
            k += 1
        }
        return try stream.finish()
    }

    func testChunksReadAsTheWholeText() throws {
        let whole = try ZoneFileReader(origin: origin, allowInclude: false).read(text: text, fileName: "body")
        XCTAssertEqual(whole.records.count, 9)
        var rng = TestSeed.generator(7)
        for sizes in [{ _ in 1 }, { _ in 3 }, { _ in 64 }, { _ in 100_000 }, { (_: Int) in rng.below(40) + 1 }] as [(Int) -> Int] {
            let streamed = try feed(text, chunks: sizes)
            XCTAssertEqual(streamed.records, whole.records)
            XCTAssertEqual(streamed.recordSources, whole.recordSources)
        }
    }

    func testErrorsKeepTheirLineNumbers() throws {
        let bad = text + "broken IN A 300.1.2.3\n" + "other IN AAAA nope\n"
        var wholeError: ZoneFileError?
        XCTAssertThrowsError(try ZoneFileReader(origin: origin, allowInclude: false).read(text: bad, fileName: "body")) {
            wholeError = $0 as? ZoneFileError
        }
        XCTAssertThrowsError(try feed(bad, chunks: { _ in 5 })) { error in
            let streamed = (error as? ZoneFileError)?.errors.map(\.description)
            XCTAssertEqual(streamed, wholeError?.errors.map(\.description))
            XCTAssertEqual(streamed?.count, 2)
        }
    }

    /// Only the text of the entry still open is held, not everything fed.
    func testParsedTextIsDropped() throws {
        var stream = ZoneTextStream(reader: ZoneFileReader(origin: origin, allowInclude: false), pieceSize: 1024)
        var line = Array("@ IN SOA ns1 hostmaster 1 2 3 4 5\n@ IN NS ns1\n".utf8)
        line.withUnsafeBytes { stream.feed($0) }
        for i in 0..<10_000 {
            line = Array("h\(i) IN A 192.0.2.1\n".utf8)
            line.withUnsafeBytes { stream.feed($0) }
            XCTAssertLessThan(stream.unparsedCount, 1100)
        }
        XCTAssertEqual(try stream.finish().records.count, 10_002)
    }
}
