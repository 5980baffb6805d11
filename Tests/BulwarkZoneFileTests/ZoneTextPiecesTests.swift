import BulwarkTestSupport
import BulwarkWire
import XCTest
@testable import BulwarkZoneFile

/// Zone text fed in chunks of any size, read in pieces as it arrives, reads as the whole
/// text does: the same records, the same line numbers, the same errors.
final class ZoneTextPiecesTests: XCTestCase {
    let origin = try! DNSName("stream.test.")
    var lastReadApart = false

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

    func feed(_ text: String, pieceSize: Int = 16, chunks sizes: (Int) -> Int) throws -> ParsedZone {
        var pieces = ZoneTextPieces(reader: ZoneFileReader(origin: origin, allowInclude: false), fileName: "body", pieceSize: pieceSize)
        let bytes = Array(text.utf8)
        var i = 0, k = 0
        while i < bytes.count {
            let n = min(bytes.count - i, max(1, sizes(k)))
            bytes[i..<(i + n)].withUnsafeBytes { pieces.feed($0) }
            i += n
            k += 1
        }
        let parsed = try pieces.finish()
        lastReadApart = pieces.readApart
        // The pieces are the text, cut before entries with an owner.
        XCTAssertEqual(Array(pieces.pieces.joined()), bytes)
        for piece in pieces.pieces.dropFirst() {
            XCTAssertTrue(ZoneFileCutter.startsOwner(piece[0]), String(decoding: piece.prefix(20), as: UTF8.self))
        }
        return parsed
    }

    func testChunksReadAsTheWholeText() throws {
        let whole = try ZoneFileReader(origin: origin, allowInclude: false).read(text: text, fileName: "body")
        XCTAssertEqual(whole.records.count, 9)
        var rng = TestSeed.generator(7)
        for sizes in [{ _ in 1 }, { _ in 3 }, { _ in 64 }, { _ in 100_000 }, { (_: Int) in rng.below(40) + 1 }] as [(Int) -> Int] {
            let streamed = try feed(text, chunks: sizes)
            XCTAssertEqual(streamed.records, whole.records)
            XCTAssertEqual(streamed.recordSources, whole.recordSources)
            XCTAssertTrue(lastReadApart)
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

    /// Without $TTL an omitted TTL is the previous record's (RFC 1035 §5.1): pieces cannot
    /// be read apart, and the text is read whole.
    func testTextWithoutDollarTTLReadsAsAWhole() throws {
        var t = "@ 60 IN SOA ns1 hostmaster 1 2 3 4 5\n@ IN NS ns1\n"
        for i in 0..<50 { t += "h\(i) \(i % 2 == 0 ? "\(100 + i) " : "")IN A 192.0.2.\(i + 1)\n" }
        let whole = try ZoneFileReader(origin: origin, allowInclude: false).read(text: t, fileName: "body")
        let pieces = try feed(t, chunks: { _ in 7 })
        XCTAssertEqual(pieces.records, whole.records)
        XCTAssertEqual(pieces.records.map(\.ttl)[3], 100, "h1 takes h0's TTL")
        XCTAssertFalse(lastReadApart)
    }

    /// Random zones with directives, comments, parentheses and quotes, cut into random
    /// chunks and small pieces, read as the whole text.
    func testRandomTextsReadAsTheWhole() throws {
        var rng = TestSeed.generator(20261207)
        for round in 0..<20 {
            var t = "$TTL 300\n@ IN SOA ns1 hostmaster ( 1 2\n 3 4 5 )\n"
            for i in 0..<300 {
                switch rng.below(12) {
                case 0: t += "$ORIGIN s\(rng.below(5)).stream.test.\n"
                case 1: t += "$TTL \(rng.below(1000))\n"
                case 2: t += "; comment ( \" with \(i)\n"
                case 3: t += "t\(i) IN TXT ( \"a ) b\"\n  \"c ; d\" )\n"
                case 4: t += "   IN A 192.0.2.\(rng.below(250))\n"
                case 5: t += "\n"
                default: t += "n\(i) \(rng.below(2) == 0 ? "\(rng.below(9999)) " : "")IN A 198.51.100.\(rng.below(250))\n"
                }
            }
            let whole = try ZoneFileReader(origin: origin, allowInclude: false, maxErrors: 1000).read(text: t, fileName: "body")
            let pieceSize = [1, 16, 100, 1000][round % 4]
            let read = try feed(t, pieceSize: pieceSize, chunks: { _ in rng.below(200) + 1 })
            XCTAssertEqual(read.records, whole.records, "round \(round)")
            XCTAssertEqual(read.recordSources, whole.recordSources, "round \(round)")
            XCTAssertTrue(lastReadApart, "round \(round)")
        }
    }
}
