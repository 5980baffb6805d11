import BulwarkWire
import BulwarkZoneFile
import XCTest
@testable import BulwarkAuthority
@testable import BulwarkZone

/// The additional section: RFC 9471 glue (taken back RRset by RRset, TC only when glue
/// that must fit cannot), RFC 9609 priming order, RFC 9460 SVCB/HTTPS targets, and the
/// compression table's rollback.
final class AdditionalSectionTests: XCTestCase {
    static func zoneSet(_ origin: String, _ text: String) throws -> ZoneSet {
        let o = try DNSName(origin)
        let parsed = try ZoneFileReader(origin: o).read(text: text)
        return ZoneSet(zones: [try Zone(origin: o, records: parsed.records)])
    }

    /// A delegation whose optional glue (addresses of in-zone names that are not below
    /// the cut, RFC 9471 §2) comes before its required glue in the NS RRset.
    static let edge = try! zoneSet("edge.test.", """
        $TTL 3600
        @       SOA   ns1 hostmaster 1 7200 3600 1209600 300
        @       NS    ns1
        ns1     A     192.0.2.1
        d1      NS    o1
        d1      NS    o2
        d1      NS    o3
        d1      NS    o4
        d1      NS    zz.d1
        o1      A     192.0.2.11
        o1      A     192.0.2.12
        o1      A     192.0.2.13
        o1      AAAA  2001:db8::11
        o1      AAAA  2001:db8::12
        o1      AAAA  2001:db8::13
        o1      AAAA  2001:db8::14
        o2      A     192.0.2.21
        o2      AAAA  2001:db8::21
        o3      A     192.0.2.31
        o3      AAAA  2001:db8::31
        o4      A     192.0.2.41
        o4      AAAA  2001:db8::41
        zz.d1   A     192.0.2.53
        zz.d1   AAAA  2001:db8::53
        ; a delegation whose glue alone cannot fit 512 octets
        d2      NS    ns.d2
        ns.d2   AAAA  2001:db8::1:1
        ns.d2   AAAA  2001:db8::1:2
        ns.d2   AAAA  2001:db8::1:3
        ns.d2   AAAA  2001:db8::1:4
        ns.d2   AAAA  2001:db8::1:5
        ns.d2   AAAA  2001:db8::1:6
        ns.d2   AAAA  2001:db8::1:7
        ns.d2   AAAA  2001:db8::1:8
        ns.d2   AAAA  2001:db8::1:9
        ns.d2   AAAA  2001:db8::1:a
        ns.d2   AAAA  2001:db8::1:b
        ns.d2   AAAA  2001:db8::1:c
        ns.d2   AAAA  2001:db8::1:d
        ns.d2   AAAA  2001:db8::1:e
        ns.d2   AAAA  2001:db8::1:f
        ns.d2   AAAA  2001:db8::1:10
        ns.d2   AAAA  2001:db8::1:11
        ns.d2   AAAA  2001:db8::1:12
        ns.d2   A     192.0.2.99
        ; SVCB and HTTPS (RFC 9460)
        svc1    HTTPS 1 . alpn=h2
        svc1    A     192.0.2.61
        svc1    AAAA  2001:db8::61
        svc2    HTTPS 0 svc1.edge.test.
        svc3    SVCB  1 api.edge.test. port=8443
        svc3    SVCB  2 api2.edge.test. port=8443
        api     A     192.0.2.62
        api2    AAAA  2001:db8::63
        svc4    HTTPS 0 .
        svc4    A     192.0.2.64
        svc5    SVCB  0 svc3.edge.test.
        svc6    HTTPS 1 out.example.net.
        *.wsvc  HTTPS 1 . alpn=h2
        *.wsvc  A     192.0.2.65
        ; targets first written in the additional section (SVCB targets are never
        ; compressed in rdata): a long one that does not fit, then one below it
        svc7    SVCB  1 host.pool.edge.test.
        svc7    SVCB  2 x.host.pool.edge.test.
        host.pool AAAA 2001:db8::7:1
        host.pool AAAA 2001:db8::7:2
        host.pool AAAA 2001:db8::7:3
        host.pool AAAA 2001:db8::7:4
        x.host.pool A  192.0.2.77
        """)

    var scratch = AnswerScratch()

    func respond(_ set: ZoneSet, _ name: String, _ type: RRType, maxSize: Int? = nil) throws -> DecodedResponse {
        try TestWire.decode(TestWire.respond(set, try TestWire.query(name, type), maxSize: maxSize, scratch: &scratch))
    }

    /// The RRsets of a section, in order: "owner type" with their record counts.
    func rrsets(_ records: [ResourceRecord]) -> [String] {
        var out: [String] = []
        var counts: [String: Int] = [:]
        for r in records {
            let key = "\(r.owner.description.lowercased()) \(r.type)"
            if counts[key] == nil { out.append(key) }
            counts[key, default: 0] += 1
        }
        return out.map { "\($0)×\(counts[$0]!)" }
    }

    /// RFC 9471 §3: the glue below the cut is written first, so it fits; the optional
    /// addresses after it go in RRset by RRset, one that does not fit is skipped and the
    /// next tried; no TC, since all required glue is there.
    func testRequiredGlueFirstThenOptionalSkippingWhatDoesNotFit() throws {
        let set = Self.edge
        let full = try respond(set, "www.d1.edge.test.", .a, maxSize: 65535)
        XCTAssertEqual(Array(rrsets(full.additional).prefix(2)),
                       ["zz.d1.edge.test. A×1", "zz.d1.edge.test. AAAA×1"])
        // Then the optional ones: every A before any AAAA (as NSD).
        XCTAssertEqual(Array(rrsets(full.additional).dropFirst(2)),
                       ["o1.edge.test. A×3", "o2.edge.test. A×1", "o3.edge.test. A×1", "o4.edge.test. A×1",
                        "o1.edge.test. AAAA×4", "o2.edge.test. AAAA×1", "o3.edge.test. AAAA×1", "o4.edge.test. AAAA×1"])
        // Room for everything but o1's four AAAA (4 × 28 octets): they are skipped, the
        // three AAAA RRsets after them still go in.
        let fullBytes = try TestWire.respond(set, try TestWire.query("www.d1.edge.test.", .a), maxSize: 65535, scratch: &scratch)
        let limit = fullBytes.count - 4 * 28 + 27
        let cut = try respond(set, "www.d1.edge.test.", .a, maxSize: limit)
        XCTAssertFalse(cut.tc)
        XCTAssertLessThanOrEqual(cut.size, limit)
        XCTAssertEqual(rrsets(cut.additional),
                       ["zz.d1.edge.test. A×1", "zz.d1.edge.test. AAAA×1",
                        "o1.edge.test. A×3", "o2.edge.test. A×1", "o3.edge.test. A×1", "o4.edge.test. A×1",
                        "o2.edge.test. AAAA×1", "o3.edge.test. AAAA×1", "o4.edge.test. AAAA×1"])
        // Without EDNS (512 octets): the glue is there, no TC.
        let plain = try respond(set, "www.d1.edge.test.", .a)
        XCTAssertFalse(plain.tc)
        XCTAssertLessThanOrEqual(plain.size, 512)
        XCTAssertEqual(Array(rrsets(plain.additional).prefix(2)),
                       ["zz.d1.edge.test. A×1", "zz.d1.edge.test. AAAA×1"])
        // The plan says the same order.
        let plan = set.lookup(qname: try DNSName("www.d1.edge.test."), qtype: .a)
        XCTAssertEqual(plan.additional.map(line), full.additional.map(line))
        XCTAssertTrue(plan.glueRequired)
    }

    /// RFC 9471 §3: glue below the cut that cannot fit sets TC; the smaller glue RRset
    /// after the one that did not fit is still written.
    func testRequiredGlueThatCannotFitSetsTC() throws {
        let d = try respond(Self.edge, "www.d2.edge.test.", .a)
        XCTAssertTrue(d.tc)
        XCTAssertFalse(d.aa)
        XCTAssertLessThanOrEqual(d.size, 512)
        XCTAssertEqual(d.authority.count, 1)
        XCTAssertEqual(rrsets(d.additional), ["ns.d2.edge.test. A×1"])  // the AAAA RRset (18 × 28) did not fit
        let tcp = try respond(Self.edge, "www.d2.edge.test.", .a, maxSize: 65535)
        XCTAssertFalse(tcp.tc)
        XCTAssertEqual(rrsets(tcp.additional), ["ns.d2.edge.test. A×1", "ns.d2.edge.test. AAAA×18"])
    }

    /// RFC 9460 §4.2 (as Knot): A, AAAA and the same-type RRset of each TargetName in
    /// the zone; ServiceMode "." is the owner (§2.5.2); AliasMode "." nothing (§2.5.1).
    func testSVCBAndHTTPSTargets() throws {
        let set = Self.edge
        func additional(_ name: String, _ type: RRType) throws -> [String] {
            let plan = set.lookup(qname: try DNSName(name), qtype: type)
            let d = try respond(set, name, type, maxSize: 65535)
            XCTAssertEqual(d.additional.map(line), plan.additional.map(line), name)
            return rrsets(d.additional)
        }
        XCTAssertEqual(try additional("svc1.edge.test.", .https), ["svc1.edge.test. A×1", "svc1.edge.test. AAAA×1"])
        XCTAssertEqual(try additional("svc2.edge.test.", .https),
                       ["svc1.edge.test. A×1", "svc1.edge.test. AAAA×1", "svc1.edge.test. HTTPS×1"])
        XCTAssertEqual(try additional("svc3.edge.test.", .svcb), ["api.edge.test. A×1", "api2.edge.test. AAAA×1"])
        XCTAssertEqual(try additional("svc4.edge.test.", .https), [])
        XCTAssertEqual(try additional("svc5.edge.test.", .svcb), ["svc3.edge.test. SVCB×2"])
        XCTAssertEqual(try additional("svc6.edge.test.", .https), [])
        // A wildcard answer is owned by the query name: "." names no record we could add.
        XCTAssertEqual(try additional("a.wsvc.edge.test.", .https), [])
    }

    /// An RRset that is taken back takes back the names it recorded for compression:
    /// `host.pool` is first written as the owner of an RRset that does not fit; the
    /// owner `x.host.pool` after it must not point at the octets taken back.
    func testRollbackForgetsTheNamesOfWhatWasTakenBack() throws {
        let set = Self.edge
        let full = try TestWire.respond(set, try TestWire.query("svc7.edge.test.", .svcb), maxSize: 65535, scratch: &scratch)
        // Room for all but one of host.pool's four AAAA.
        let limit = full.count - 28
        let d = try respond(set, "svc7.edge.test.", .svcb, maxSize: limit)
        XCTAssertFalse(d.tc)
        XCTAssertEqual(rrsets(d.additional), ["x.host.pool.edge.test. A×1"])
        XCTAssertEqual(d.additional.first?.owner, try DNSName("x.host.pool.edge.test."))
    }

    /// An RRset taken back takes its RRSIGs with it (they follow it in the plan): with
    /// room for the RRSIG(A) but not for the 20 A records, neither is written; the AAAA
    /// and its RRSIG after them are. Not glue: no TC (RFC 4035 §3.1.1).
    func testSkippedRRsetTakesItsSignaturesAlong() throws {
        var text = """
            $TTL 3600
            @    SOA   ns hostmaster 1 7200 3600 1209600 300
            @    NS    ns
            ns   RRSIG A 8 2 3600 20300101000000 20200101000000 1234 sig.test. AAAA
            ns   AAAA  2001:db8::1
            ns   RRSIG AAAA 8 2 3600 20300101000000 20200101000000 1234 sig.test. AAAA

            """
        for i in 1...20 { text += "ns A 192.0.2.\(i)\n" }
        let set = try Self.zoneSet("sig.test.", text)
        let query = try TestWire.query("sig.test.", .ns, edns: 4096, dnssecOK: true)
        let full = try TestWire.decode(TestWire.respond(set, query, maxSize: 65535, scratch: &scratch))
        XCTAssertEqual(full.additional.map(\.type), Array(repeating: RRType.a, count: 20) + [.rrsig, .aaaa, .rrsig])
        let d = try TestWire.decode(TestWire.respond(set, query, maxSize: 180, scratch: &scratch))
        XCTAssertFalse(d.tc)
        XCTAssertEqual(d.additional.map(\.type), [.aaaa, .rrsig])
        XCTAssertEqual(d.additional.last.map { Array($0.rdata.prefix(2)) }, [0, 28], "the RRSIG covers AAAA")
    }

    func testCompressionTableRollback() {
        var entries = [CompressionEntry](repeating: .unused, count: CompressionTable.capacity)
        var log = [UInt16](repeating: 0, count: CompressionTable.limit)
        entries.withUnsafeMutableBufferPointer { e in
            log.withUnsafeMutableBufferPointer { l in
                var t = CompressionTable(entries: e.baseAddress!, log: l.baseAddress!, stamp: 7)
                // Enough keys that probe runs meet (the table has 512 entries).
                let keys = (0..<300).map { CompressionTable.key(ZoneIndex($0 % 3), $0 * 7919) }
                for (i, k) in keys.prefix(200).enumerated() { t.record(k, offset: i, at: t.find(k).at) }
                let mark = t.mark
                for (i, k) in keys.suffix(100).enumerated() { t.record(k, offset: 1000 + i, at: t.find(k).at) }
                XCTAssertEqual(t.find(keys[250]).offset, 1050)
                t.rollback(to: mark)
                XCTAssertEqual(t.mark, 200)
                for (i, k) in keys.prefix(200).enumerated() { XCTAssertEqual(t.find(k).offset, i) }
                for k in keys.suffix(100) { XCTAssertNil(t.find(k).offset) }
            }
        }
    }

    /// RFC 9609: the priming answer without EDNS fills 512 octets with every root
    /// server's A record before any AAAA (as NSD: 13 A and 2 AAAA here), no TC.
    func testPrimingWithoutEDNSCarriesEveryAFirst() throws {
        let servers: [(String, String, String)] = [
            ("a", "198.41.0.4", "2001:503:ba3e::2:30"), ("b", "170.247.170.2", "2801:1b8:10::b"),
            ("c", "192.33.4.12", "2001:500:2::c"), ("d", "199.7.91.13", "2001:500:2d::d"),
            ("e", "192.203.230.10", "2001:500:a8::e"), ("f", "192.5.5.241", "2001:500:2f::f"),
            ("g", "192.112.36.4", "2001:500:12::d0d"), ("h", "198.97.190.53", "2001:500:1::53"),
            ("i", "192.36.148.17", "2001:7fe::53"), ("j", "192.58.128.30", "2001:503:c27::2:30"),
            ("k", "193.0.14.129", "2001:7fd::1"), ("l", "199.7.83.42", "2001:500:9f::42"),
            ("m", "202.12.27.33", "2001:dc3::35"),
        ]
        var text = "$TTL 518400\n. 86400 SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n"
        for (n, _, _) in servers { text += ". NS \(n).root-servers.net.\n" }
        text += "net. 172800 NS a.root-servers.net.\n"
        for (n, a, aaaa) in servers {
            text += "\(n).root-servers.net. A \(a)\n\(n).root-servers.net. AAAA \(aaaa)\n"
        }
        let set = try Self.zoneSet(".", text)
        let d = try respond(set, ".", .ns)
        XCTAssertFalse(d.tc)
        XCTAssertTrue(d.aa)
        XCTAssertEqual(d.answer.count, 13)
        XCTAssertEqual(d.size, 492)  // NSD's size for the same answer
        XCTAssertEqual(d.additional.map(\.type), Array(repeating: RRType.a, count: 13) + [.aaaa, .aaaa])
        XCTAssertEqual(d.additional.prefix(13).map { $0.owner.description },
                       servers.map { "\($0.0).root-servers.net." })
        // With room for everything, every AAAA follows.
        let big = try respond(set, ".", .ns, maxSize: 4096)
        XCTAssertEqual(big.additional.map(\.type), Array(repeating: RRType.a, count: 13) + Array(repeating: .aaaa, count: 13))
    }

    /// Bounds: a buffer of exactly the size limit is never written past, whatever the
    /// answer (the octets after it are a fence).
    func testNoWritePastTheBuffer() throws {
        let set = Self.edge
        for (name, type) in [("www.d1.edge.test.", RRType.a), ("www.d2.edge.test.", .a), ("svc7.edge.test.", .svcb),
                             ("edge.test.", .any), ("nx.edge.test.", .txt)] {
            for capacity in [512, 600, 1232] {
                var out = [UInt8](repeating: 0xEE, count: capacity + 64)
                let query = try TestWire.query(name, type)
                let n = query.withUnsafeBytes { msg -> Int in
                    guard case .query(let q) = QueryParser.parse(msg) else { return -1 }
                    return out.withUnsafeMutableBytes { o in
                        set.respond(to: q, message: msg, into: UnsafeMutableRawBufferPointer(rebasing: o[0..<capacity]),
                                    maxSize: capacity, ourPayloadSize: 1232, scratch: &scratch)
                    }
                }
                XCTAssertGreaterThan(n, 12)
                XCTAssertLessThanOrEqual(n, capacity)
                XCTAssertEqual(Array(out[capacity...]), [UInt8](repeating: 0xEE, count: 64), "\(name) \(capacity)")
                _ = try TestWire.decode(Array(out[0..<n]))
            }
        }
    }
}
