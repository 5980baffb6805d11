import BulwarkWire
import XCTest
@testable import BulwarkAuthority
@testable import BulwarkZone

/// A response read back from the wire, names decompressed.
struct DecodedResponse {
    var id: UInt16
    var flags: UInt16
    var rcode: UInt16 { flags & 0xF }
    var questionName: [UInt8]
    var answer: [ResourceRecord] = []
    var authority: [ResourceRecord] = []
    var additional: [ResourceRecord] = []
    var opt: ResourceRecord?
    var size: Int

    var aa: Bool { flags & HeaderFlags.aa != 0 }
    var tc: Bool { flags & HeaderFlags.tc != 0 }
}

enum TestWire {
    static func query(_ name: String, _ type: RRType, qclass: UInt16 = 1, id: UInt16 = 0x1234, flags: UInt16 = 0x0100,
                      edns: UInt16? = nil, dnssecOK: Bool = false) throws -> [UInt8] {
        var w = WireWriter()
        w.writeU16(id); w.writeU16(flags)
        w.writeU16(1); w.writeU16(0); w.writeU16(0); w.writeU16(edns == nil ? 0 : 1)
        w.writeBytes(try DNSName(name).wire)
        w.writeU16(type.rawValue); w.writeU16(qclass)
        if let edns {
            w.writeU8(0); w.writeU16(41); w.writeU16(edns); w.writeU8(0); w.writeU8(0)
            w.writeU16(dnssecOK ? 0x8000 : 0); w.writeU16(0)
        }
        return w.bytes
    }

    /// Answers `message` with `set` and returns the response bytes.
    static func respond(_ set: ZoneSet, _ message: [UInt8], maxSize: Int? = nil, scratch: inout AnswerScratch) -> [UInt8] {
        var out = [UInt8](repeating: 0xEE, count: 65535)
        let n = message.withUnsafeBytes { msg -> Int in
            let parsed = QueryParser.parse(msg)
            guard case .query(let q) = parsed else { XCTFail("query did not parse: \(parsed)"); return 0 }
            let limit = maxSize ?? (q.edns.map { Int($0.udpPayloadSize) } ?? 512)
            return out.withUnsafeMutableBytes { o in
                set.respond(to: q, message: msg, into: o, maxSize: limit, ourPayloadSize: 1232, scratch: &scratch)
            }
        }
        return Array(out[0..<n])
    }

    static func decode(_ bytes: [UInt8]) throws -> DecodedResponse {
        try bytes.withUnsafeBytes { buf in
            var r = WireReader(buf)
            let id = try r.readU16(), flags = try r.readU16()
            let qd = try r.readU16(), an = try r.readU16(), ns = try r.readU16(), ar = try r.readU16()
            XCTAssertEqual(qd, 1)
            let qname = try r.readName()
            try r.skip(4)
            var d = DecodedResponse(id: id, flags: flags, questionName: qname.wire, size: bytes.count)
            func record() throws -> ResourceRecord {
                let owner = try r.readName()
                let type = RRType(try r.readU16())
                let cls = RRClass(try r.readU16())
                let ttl = try r.readU32()
                let len = Int(try r.readU16())
                let end = r.offset + len
                var rdata: [UInt8] = []
                // Names in the RFC 1035 types may be compressed (RFC 3597 §4): expand them.
                switch type.rawValue {
                case 2, 3, 4, 5, 7, 8, 9, 12:
                    rdata = try r.readName().wire
                case 6, 14:
                    rdata = try r.readName().wire + r.readName().wire
                    rdata += try r.readBytes(end - r.offset)
                case 15:
                    rdata = try r.readBytes(2) + r.readName().wire
                default:
                    rdata = try r.readBytes(len)
                }
                XCTAssertEqual(r.offset, end, "rdata length of \(owner) \(type)")
                return ResourceRecord(owner: owner, type: type, rrClass: cls, ttl: ttl, rdata: rdata)
            }
            for _ in 0..<an { d.answer.append(try record()) }
            for _ in 0..<ns { d.authority.append(try record()) }
            for _ in 0..<ar {
                let rec = try record()
                if rec.type == .opt { d.opt = rec } else { d.additional.append(rec) }
            }
            XCTAssertEqual(r.offset, bytes.count, "trailing bytes")
            return d
        }
    }
}

final class EncoderTests: XCTestCase {
    let set = AuthorityFixtures.set
    var scratch = AnswerScratch()

    func roundTrip(_ name: String, _ type: RRType, edns: UInt16? = 4096, maxSize: Int? = nil) throws -> DecodedResponse {
        let q = try TestWire.query(name, type, edns: edns)
        return try TestWire.decode(TestWire.respond(set, q, maxSize: maxSize, scratch: &scratch))
    }

    /// Every lookup case: the bytes say what the plan says.
    func testBytesMatchThePlan() throws {
        let cases: [(String, RRType)] = [
            ("web.example.com.", .a), ("WEB.example.COM.", .aaaa), ("web.example.com.", .txt), ("nx.example.com.", .a),
            ("b.c.example.com.", .a), ("deleg.example.com.", .a), ("x.deleg.example.com.", .a), ("deleg.example.com.", .ds),
            ("child.example.com.", .ds), ("ns1.child.example.com.", .a), ("example.com.", .ns), ("example.com.", .mx),
            ("example.com.", .soa), ("example.com.", .any), ("srv.example.com.", .srv), ("www.example.com.", .a),
            ("ext.example.com.", .a), ("back.other.net.", .a), ("chain1.other.net.", .a), ("loop1.example.com.", .a),
            ("www.d.example.com.", .a), ("Nope.D.example.com.", .aaaa), ("a.dself.example.com.", .a),
            ("a.b.wild.example.com.", .txt), ("x.wild.example.com.", .mx), ("x.wc.example.com.", .a),
            ("x.wcx.example.com.", .a), ("host3.example.", .mx), ("_ssh._tcp.host1.example.", .srv),
            ("host.subdel.example.", .a), ("cn2deleg.example.com.", .a), ("cn2child.example.com.", .a),
            ("x.manyns.example.com.", .a), ("\(String(repeating: "z", count: 60)).x.dl.example.com.", .a),
        ]
        for (name, type) in cases {
            let d = try roundTrip(name, type, edns: 4096, maxSize: 65535)
            let p = set.lookup(qname: try DNSName(name), qtype: type)
            XCTAssertEqual(d.rcode, p.rcode.rawValue, "\(name) \(type)")
            XCTAssertEqual(d.aa, p.authoritative, "\(name) \(type)")
            XCTAssertFalse(d.tc, "\(name) \(type)")
            // Owners compressed against the question take its case: compare without case.
            func lower(_ l: [ResourceRecord]) -> [String] { l.map { line($0).lowercased() } }
            XCTAssertEqual(lower(d.answer), lower(p.answer), "\(name) \(type)")
            XCTAssertEqual(lower(d.authority), lower(p.authority), "\(name) \(type)")
            XCTAssertEqual(lower(d.additional), lower(p.additional), "\(name) \(type)")
            XCTAssertEqual(d.questionName, try DNSName(name).wire, "question copied with its case")
            XCTAssertNotNil(d.opt)
        }
    }

    func testHeaderAndQuestion() throws {
        let q = try TestWire.query("WwW.Example.Com.", .a, id: 0xBEEF, flags: 0x0110)  // RD and CD
        let d = try TestWire.decode(TestWire.respond(set, q, scratch: &scratch))
        XCTAssertEqual(d.id, 0xBEEF)
        // RD echoed; CD not (NSD and Knot do not echo it).
        XCTAssertEqual(d.flags, HeaderFlags.qr | HeaderFlags.aa | HeaderFlags.rd)
        XCTAssertEqual(d.questionName, try DNSName("WwW.Example.Com.").wire)
        // The owner of the first answer points at the question: the client's case.
        XCTAssertEqual(d.answer.first?.owner.wire, try DNSName("WwW.Example.Com.").wire)
        XCTAssertNil(d.opt)
    }

    func testCompression() throws {
        let bytes = try TestWire.respond(set, TestWire.query("example.com.", .ns), scratch: &scratch)
        // Header 12 + question 17; NS records: owner pointer (2) + 10 + "ns1"+pointer (6) / ns2.example.net (17).
        // Additional: owner pointer + A, owner pointer + AAAA.
        XCTAssertEqual(bytes.count, 12 + 17 + (2 + 10 + 6) + (2 + 10 + 17) + (2 + 10 + 4) + (2 + 10 + 16))
        let d = try TestWire.decode(bytes)
        XCTAssertEqual(d.answer.count, 2)
    }

    func testEDNSEchoesDO() throws {
        let q = try TestWire.query("web.example.com.", .a, edns: 1232, dnssecOK: true)
        let d = try TestWire.decode(TestWire.respond(set, q, scratch: &scratch))
        XCTAssertEqual(d.opt?.rrClass.rawValue, 1232)  // our payload size
        XCTAssertEqual(d.opt?.ttl, 0x0000_8000)  // DO echoed, version 0
    }

    func testTruncatedAnswerIsEmptyWithTC() throws {
        // As NSD and Knot: nothing of the answer, TC, AA kept; the OPT stays.
        let d = try roundTrip("big.example.com.", .txt, edns: nil)
        XCTAssertTrue(d.tc)
        XCTAssertTrue(d.aa)
        XCTAssertEqual(d.answer.count + d.authority.count + d.additional.count, 0)
        XCTAssertEqual(d.size, 12 + 21)
        let e = try roundTrip("big.example.com.", .txt, edns: 1232)
        XCTAssertTrue(e.tc)
        XCTAssertNotNil(e.opt)
        XCTAssertEqual(e.size, 12 + 21 + 11)
        let full = try roundTrip("big.example.com.", .txt, edns: 4096)
        XCTAssertFalse(full.tc)
        XCTAssertEqual(full.answer.count, 12)
    }

    func testReferralGlueThatDoesNotFitSetsTC() throws {
        // RFC 9471: the NS RRset fits in 512, not all the glue below the cut.
        let d = try roundTrip("x.manyns.example.com.", .a, edns: nil)
        XCTAssertTrue(d.tc)
        XCTAssertFalse(d.aa)
        XCTAssertEqual(d.authority.count, 20)
        XCTAssertGreaterThan(d.additional.count, 0)
        XCTAssertLessThanOrEqual(d.size, 512)
        let big = try roundTrip("x.manyns.example.com.", .a, edns: 4096)
        XCTAssertFalse(big.tc)
        XCTAssertEqual(big.additional.count, 40)
    }

    func testAdditionalThatDoesNotFitIsDropped() throws {
        // MX additional addresses are optional: left out without TC.
        let d = try roundTrip("example.com.", .mx, edns: nil, maxSize: 12 + 16 + 2 * 30)
        XCTAssertFalse(d.tc)
        XCTAssertEqual(d.answer.count, 2)
        XCTAssertEqual(d.additional.count, 0)
    }

    func testRefusedAndOtherClasses() throws {
        let outside = try TestWire.decode(TestWire.respond(set, TestWire.query("foo.org.", .a, edns: 1232), scratch: &scratch))
        XCTAssertEqual(outside.rcode, RCode.refused.rawValue)
        XCTAssertFalse(outside.aa)
        XCTAssertNotNil(outside.opt)
        let chaos = try TestWire.decode(TestWire.respond(set, TestWire.query("web.example.com.", .a, qclass: 3), scratch: &scratch))
        XCTAssertEqual(chaos.rcode, RCode.refused.rawValue)
        XCTAssertEqual(chaos.answer.count, 0)
        // QCLASS * is answered as IN (as Knot).
        let any = try TestWire.decode(TestWire.respond(set, TestWire.query("web.example.com.", .a, qclass: 255), scratch: &scratch))
        XCTAssertEqual(any.rcode, 0)
        XCTAssertTrue(any.aa)
        XCTAssertEqual(any.answer.count, 1)
        // Transfers do not belong here: AXFR NOTIMP, IXFR NOTAUTH (NSD and Knot without transfer setup).
        let axfr = try TestWire.decode(TestWire.respond(set, TestWire.query("example.com.", .axfr), scratch: &scratch))
        XCTAssertEqual(axfr.rcode, RCode.notImp.rawValue)
        let ixfr = try TestWire.decode(TestWire.respond(set, TestWire.query("example.com.", .ixfr), scratch: &scratch))
        XCTAssertEqual(ixfr.rcode, RCode.notAuth.rawValue)
    }

    func testScratchIsReusedAcrossQueries() throws {
        // Same scratch, many queries: stale compression entries must never leak between responses.
        for _ in 0..<3 {
            for name in ["www.example.com.", "back.other.net.", "x.wild.example.com.", "nx.example.com."] {
                let d = try roundTrip(name, .a)
                let p = set.lookup(qname: try DNSName(name), qtype: .a)
                XCTAssertEqual(d.answer.map(line), p.answer.map(line))
                XCTAssertEqual(d.authority.map(line), p.authority.map(line))
            }
        }
    }
}
