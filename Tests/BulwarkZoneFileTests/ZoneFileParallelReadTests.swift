import Foundation
import XCTest
@testable import BulwarkZoneFile

/// The pieces read on several threads must join into exactly what the sequential
/// reader produces: the same records, in the same order, from the same lines.
final class ZoneFileParallelReadTests: XCTestCase {
    private let origin = ZoneFileTestSupport.name("example.com.")

    /// A zone text exercising everything a cut must respect: directives between
    /// records, blank owners, multi-line entries, quoted text holding `;`, `(` and `"`.
    private func bigZone(lines: Int = 6000, tail: String = "") -> String {
        var s = "$ORIGIN example.com.\n$TTL 3600\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n"
        for i in 0..<lines {
            switch i % 7 {
            case 0: s += "h\(i) IN A 10.0.\(i / 256 % 256).\(i % 256)\n"
            case 1: s += "    IN AAAA 2001:db8::\(i)\n"  // blank owner: the previous one
            case 2: s += "t\(i) 300 IN TXT \"semi ; colon\" \"paren ( open\" \"quote \\\" inside\"\n"
            case 3: s += "m\(i) IN MX ( 10\n        mail ) ; a comment ( with a paren\n"
            case 4: s += "; a comment line\n\n"
            case 5 where i % 700 == 5: s += "$TTL \(100 + i)\n"
            case 6 where i % 1400 == 6: s += "$ORIGIN sub\(i).example.com.\n"
            default: s += "x\(i) IN CNAME h\(i - i % 7)\n"
            }
        }
        return s + tail
    }

    private func read(_ text: String, threads: Int?, piece: Int = 4096, fileName: String = "big.zone") throws -> ParsedZone {
        var reader = ZoneFileReader(origin: origin)
        reader.readThreads = threads
        reader.minimumPieceSize = piece
        return try reader.read(text: text, fileName: fileName)
    }

    private func assertSame(_ a: ParsedZone, _ b: ParsedZone, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.records.count, b.records.count, file: file, line: line)
        XCTAssertEqual(a.records, b.records, file: file, line: line)
        XCTAssertEqual(a.recordSources, b.recordSources, file: file, line: line)
        XCTAssertEqual(a.files, b.files, file: file, line: line)
        XCTAssertEqual(a.warnings, b.warnings, file: file, line: line)
    }

    func testPiecesJoinIntoTheSequentialResult() throws {
        let text = bigZone()
        let sequential = try read(text, threads: 1)
        XCTAssertGreaterThan(sequential.records.count, 4000)
        for threads in [2, 3, 4] {
            assertSame(try read(text, threads: threads), sequential)
        }
        // And the pieces were really read apart (no quiet fallback to sequential).
        var reader = ZoneFileReader(origin: origin)
        reader.readThreads = 4
        reader.minimumPieceSize = 4096
        var parser = ZoneFileParser(options: reader)
        parser.zone.files = ["big.zone"]
        parser.includeStack = ["big.zone"]
        let bytes = Array(text.utf8)
        let tookPieces = bytes.withUnsafeBytes { parser.readInPieces($0, name: "big.zone", origin: origin) }
        XCTAssertTrue(tookPieces)
        XCTAssertEqual(parser.zone.records, sequential.records)
    }

    func testTheCutsFallOnLinesThatStartWithAnOwner() {
        let text = Array(bigZone().utf8)
        text.withUnsafeBytes { buffer in
            let cuts = ZoneFileCutter.cuts(buffer, pieces: 8, minimumPiece: 4096)
            XCTAssertEqual(cuts.count, 7)
            XCTAssertEqual(cuts, cuts.sorted())
            for cut in cuts {
                XCTAssertEqual(buffer[cut - 1], 0x0A)
                XCTAssertFalse([0x20, 0x09, UInt8(ascii: ";"), UInt8(ascii: "$")].contains(buffer[cut]))
            }
        }
    }

    func testADollarLineInsideParenthesesIsNotTakenForADirective() throws {
        // The quick scan sees a `$TTL` line; it is record data inside parentheses. The check
        // of each piece's end state catches it, and the result is the sequential reader's.
        let text = bigZone(lines: 3000) + "t IN TXT ( \"a\"\n$TTL 99 )\n" + bigZone(lines: 3000).replacingOccurrences(of: "IN SOA", with: "IN TXT \"x\" ;")
        let sequential = try read(text, threads: 1)
        XCTAssertTrue(sequential.records.contains { $0.type == .txt && $0.rdata.count == 10 })
        assertSame(try read(text, threads: 4), sequential)
    }

    func testACutInsideParenthesesFallsBackToOneRead() throws {
        // Every line of the long entry starts with an owner-like token: the cut may land
        // inside it, and the pieces around it must then not be used.
        var text = "$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
        text += "big IN TXT (\n" + (0..<4000).map { "chunk\($0)\n" }.joined() + ")\n"
        let sequential = try read(text, threads: 1)
        XCTAssertEqual(sequential.records.count, 2)
        assertSame(try read(text, threads: 4), sequential)
    }

    func testAnErrorLateInTheFileIsReportedAsTheSequentialReaderDoes() throws {
        let text = bigZone(tail: "bad IN A 300.1.2.3\n")
        var messages: [[String]] = []
        for threads in [1, 4] {
            XCTAssertThrowsError(try read(text, threads: threads)) { error in
                messages.append((error as! ZoneFileError).issues.map(\.description))
            }
        }
        XCTAssertEqual(messages.count, 2)
        XCTAssertEqual(messages[0], messages[1])
        XCTAssertTrue(messages[0].first?.contains("big.zone:") ?? false)
    }

    func testWithoutTTLDirectiveTheFileIsReadSequentially() throws {
        // RFC 1035 §5.1: an omitted TTL is the previous record's; the pieces cannot know it.
        var text = "@ 600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
        for i in 0..<3000 { text += "h\(i) IN A 10.0.\(i / 256).\(i % 256)\n" }
        let parallel = try read(text, threads: 4)
        XCTAssertEqual(parallel.records.last?.ttl, 600)
        assertSame(parallel, try read(text, threads: 1))
    }

    func testIncludedFilesKeepTheirIndicesAcrossPieces() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parallel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "inc1 IN A 192.0.2.10\n".write(to: dir.appendingPathComponent("one.inc"), atomically: true, encoding: .utf8)
        try "inc2 IN A 192.0.2.20\n".write(to: dir.appendingPathComponent("two.inc"), atomically: true, encoding: .utf8)
        let text = bigZone(lines: 3000) + "$INCLUDE one.inc\n" + bigZone(lines: 3000).replacingOccurrences(of: "IN SOA", with: "IN TXT \"x\" ;") + "$INCLUDE two.inc\n"
        let path = dir.appendingPathComponent("main.zone").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var sequentialReader = ZoneFileReader(origin: origin)
        sequentialReader.readThreads = 1
        var parallelReader = ZoneFileReader(origin: origin)
        parallelReader.readThreads = 4
        parallelReader.minimumPieceSize = 4096
        let parallel = try parallelReader.read(path: path)
        assertSame(parallel, try sequentialReader.read(path: path))
        XCTAssertEqual(parallel.files.count, 3)
    }
}
