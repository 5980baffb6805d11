import XCTest
@testable import BulwarkWire

/// Builds query messages byte by byte, so each malformed case is explicit.
struct QueryBuilder {
    var id: UInt16 = 0x1234
    var flags: UInt16 = 0x0100
    var qd: UInt16 = 1, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0
    var question: [UInt8] = try! DNSName("www.example.com.").wire + [0, 1, 0, 1]
    var rest: [UInt8] = []

    func bytes() -> [UInt8] {
        var w = WireWriter()
        w.writeU16(id); w.writeU16(flags)
        w.writeU16(qd); w.writeU16(an); w.writeU16(ns); w.writeU16(ar)
        w.writeBytes(question)
        w.writeBytes(rest)
        return w.bytes
    }

    static func opt(payload: UInt16 = 1232, version: UInt8 = 0, flags: UInt16 = 0, options: [UInt8] = []) -> [UInt8] {
        var w = WireWriter()
        w.writeU8(0); w.writeU16(41); w.writeU16(payload); w.writeU8(0); w.writeU8(version); w.writeU16(flags)
        w.writeU16(UInt16(options.count)); w.writeBytes(options)
        return w.bytes
    }
}

func parse(_ bytes: [UInt8]) -> QueryParseResult {
    bytes.withUnsafeBytes { QueryParser.parse($0) }
}

final class QueryParserTests: XCTestCase {
    func testPlainQuery() {
        guard case .query(let q) = parse(QueryBuilder().bytes()) else { return XCTFail() }
        XCTAssertEqual(q.id, 0x1234)
        XCTAssertEqual(q.qtype, .a)
        XCTAssertEqual(q.qclass, .in)
        XCTAssertEqual(q.qnameLength, 17)
        XCTAssertTrue(q.recursionDesired)
        XCTAssertNil(q.edns)
    }

    func testResponsesAndShortPacketsAreDropped() {
        XCTAssertEqual(parse([1, 2, 3]), .drop)
        var b = QueryBuilder(); b.flags |= HeaderFlags.qr
        XCTAssertEqual(parse(b.bytes()), .drop)
    }

    func testQuestionCountOtherThanOneIsFormErr() {
        var b = QueryBuilder(); b.qd = 0; b.question = []
        guard case .error(let rc, _, _, let qlen, _) = parse(b.bytes()) else { return XCTFail() }
        XCTAssertEqual(rc, .formErr); XCTAssertEqual(qlen, 0)
        b = QueryBuilder(); b.qd = 2; b.question += b.question
        guard case .error(let rc2, _, _, _, _) = parse(b.bytes()) else { return XCTFail() }
        XCTAssertEqual(rc2, .formErr)
    }

    func testHostileQuestionNamesAreFormErr() {
        for q: [UInt8] in [
            [0xC0, 12, 0, 1, 0, 1],                       // pointer at itself / into the header
            [0xC0, 0, 0, 1, 0, 1],                        // pointer into the header
            [64] + [UInt8](repeating: 97, count: 64) + [0, 0, 1, 0, 1],  // label of 64
            [0x41, 0, 0, 1, 0, 1],                        // extended label type
            [3, 97, 98],                                  // truncated
            Array(repeating: [63] + [UInt8](repeating: 97, count: 63), count: 5).flatMap { $0 } + [0, 0, 1, 0, 1],
        ] {
            var b = QueryBuilder(); b.question = q
            guard case .error(let rc, _, _, _, _) = parse(b.bytes()) else { return XCTFail("\(q.prefix(4))") }
            XCTAssertEqual(rc, .formErr)
        }
    }

    func testUnknownOpcodeIsNotImp() {
        var b = QueryBuilder(); b.flags = 15 << 11
        guard case .error(let rc, _, _, let qlen, _) = parse(b.bytes()) else { return XCTFail() }
        XCTAssertEqual(rc, .notImp)
        XCTAssertEqual(qlen, 17)
    }

    func testEDNS() {
        var b = QueryBuilder(); b.ar = 1
        b.rest = QueryBuilder.opt(payload: 4096, flags: 0x8000 | 0x0001, options: [0, 3, 0, 0, 0xFF, 0xEE, 0, 2, 1, 2])
        guard case .query(let q) = parse(b.bytes()), let e = q.edns else { return XCTFail() }
        XCTAssertEqual(e.udpPayloadSize, 4096)
        XCTAssertTrue(e.dnssecOK)
        XCTAssertTrue(e.nsidRequested)
        // Payload sizes below 512 count as 512 (RFC 6891 §6.2.5).
        b.rest = QueryBuilder.opt(payload: 100)
        guard case .query(let q2) = parse(b.bytes()) else { return XCTFail() }
        XCTAssertEqual(q2.edns?.udpPayloadSize, 512)
    }

    func testEDNSVersionOneIsBadVers() {
        var b = QueryBuilder(); b.ar = 1
        b.rest = QueryBuilder.opt(version: 1)
        guard case .error(let rc, _, _, _, let edns) = parse(b.bytes()) else { return XCTFail() }
        XCTAssertEqual(rc, .badVers)
        XCTAssertNotNil(edns)
    }

    func testTwoOPTsOrOverrunningOptionIsFormErr() {
        var b = QueryBuilder(); b.ar = 2
        b.rest = QueryBuilder.opt() + QueryBuilder.opt()
        guard case .error(let rc, _, _, _, _) = parse(b.bytes()) else { return XCTFail() }
        XCTAssertEqual(rc, .formErr)
        b.ar = 1
        b.rest = QueryBuilder.opt(options: [0, 10, 0, 40, 1, 2])
        guard case .error(let rc2, _, _, _, _) = parse(b.bytes()) else { return XCTFail() }
        XCTAssertEqual(rc2, .formErr)
    }

    func testErrorResponseEchoesQuestionAndOPTButNotZ() {
        var b = QueryBuilder(); b.flags = 15 << 11 | HeaderFlags.z | HeaderFlags.rd | HeaderFlags.cd; b.ar = 1
        b.rest = QueryBuilder.opt(flags: 0x8000 | 0x4000)
        let query = b.bytes()
        guard case .error(let rc, let id, let flags, let qlen, let edns) = parse(query) else { return XCTFail() }
        var out = [UInt8](repeating: 0, count: 512)
        let n = query.withUnsafeBytes { q in
            out.withUnsafeMutableBytes { o in
                ResponseHeader.writeError(into: o, query: q, rcode: rc, id: id, queryFlags: flags,
                                          qnameLength: qlen, edns: edns, ourPayloadSize: 1232)
            }
        }
        let resp = Array(out[0..<n])
        let rflags = UInt16(resp[2]) << 8 | UInt16(resp[3])
        XCTAssertEqual(rflags & HeaderFlags.z, 0)
        XCTAssertEqual(rflags & HeaderFlags.qr, HeaderFlags.qr)
        XCTAssertEqual(rflags & 0xF, 4)
        XCTAssertEqual(rflags & HeaderFlags.cd, 0)
        XCTAssertEqual(Array(resp[12..<(12 + 21)]), Array(query[12..<(12 + 21)]))
        // OPT: payload 1232, DO echoed, the unknown flag 0x4000 not echoed.
        let opt = Array(resp[(12 + 21)...])
        XCTAssertEqual(opt, [0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 0])
    }

    /// RD, AD and CD are defined for QUERY only: NOTIMP for another opcode copies none of
    /// them (only QR, the opcode and the rcode are set); a QUERY's RD is still echoed.
    func testNotImpCopiesNoRDADOrCD() {
        for opcode: UInt16 in [1, 2, 3, 5, 6, 15] {
            var b = QueryBuilder()
            b.flags = opcode << 11 | HeaderFlags.rd | HeaderFlags.ad | HeaderFlags.cd
            let query = b.bytes()
            guard case .error(let rc, let id, let flags, let qlen, let edns) = parse(query) else { return XCTFail() }
            XCTAssertEqual(rc, .notImp)
            var out = [UInt8](repeating: 0xFF, count: 512)
            _ = query.withUnsafeBytes { q in
                out.withUnsafeMutableBytes { o in
                    ResponseHeader.writeError(into: o, query: q, rcode: rc, id: id, queryFlags: flags,
                                              qnameLength: qlen, edns: edns, ourPayloadSize: 1232)
                }
            }
            let rflags = UInt16(out[2]) << 8 | UInt16(out[3])
            XCTAssertEqual(rflags, HeaderFlags.qr | opcode << 11 | UInt16(RCode.notImp.rawValue), "opcode \(opcode)")
        }
        let queryFlags = HeaderFlags.rd | HeaderFlags.ad | HeaderFlags.cd
        XCTAssertEqual(ResponseHeader.flags(forQueryFlags: queryFlags, rcode: .noError, authoritative: true),
                       HeaderFlags.qr | HeaderFlags.aa | HeaderFlags.rd)
    }
}
