import BulwarkWire
import BulwarkZoneFile
import Foundation
import XCTest
@testable import BulwarkAuthority
@testable import BulwarkZone

/// The zones of Fixtures/authority, loaded once.
enum AuthorityFixtures {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path + "/authority"

    static func zone(_ origin: String, file: String? = nil) throws -> Zone {
        let o = try DNSName(origin)
        let name = file ?? String(origin.dropLast()) + ".zone"
        let parsed = try ZoneFileReader(origin: o).read(path: directory + "/" + name)
        return try Zone(origin: o, records: parsed.records)
    }

    static let set: ZoneSet = {
        // swiftlint:disable:next force_try
        ZoneSet(zones: ["example.com.", "child.example.com.", "other.net.", "example."].map { try! zone($0) })
    }()
}

/// One record in dig's layout (owner, TTL, type, rdata), for comparing sections.
func line(_ r: ResourceRecord) -> String {
    "\(r.owner) \(r.ttl) \(r.type) \(RDataText.format(type: r.type, rdata: r.rdata))"
}

final class LookupTests: XCTestCase {
    let set = AuthorityFixtures.set

    func ask(_ name: String, _ type: RRType) throws -> AnswerPlan {
        set.lookup(qname: try DNSName(name), qtype: type)
    }

    func check(_ name: String, _ type: RRType, rcode: RCode = .noError, aa: Bool = true,
               answer: [String] = [], authority: [String] = [], additional: [String]? = nil,
               file: StaticString = #filePath, lineNumber: UInt = #line) throws {
        let p = try ask(name, type)
        XCTAssertEqual(p.rcode, rcode, "rcode \(name) \(type)", file: file, line: lineNumber)
        XCTAssertEqual(p.authoritative, aa, "AA \(name) \(type)", file: file, line: lineNumber)
        XCTAssertEqual(p.answer.map(line), answer, "answer \(name) \(type)", file: file, line: lineNumber)
        XCTAssertEqual(p.authority.map(line), authority, "authority \(name) \(type)", file: file, line: lineNumber)
        if let additional {
            XCTAssertEqual(p.additional.map(line), additional, "additional \(name) \(type)", file: file, line: lineNumber)
        }
    }

    let soaCom = "example.com. 300 SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"
    let soaNet = "other.net. 120 SOA ns.other.net. h.other.net. 3 7200 3600 1209600 120"
    let soaEx = "example. 5 SOA ns1.example. hostmaster.example. 1 2 3 4 5"

    func testExactMatch() throws {
        try check("web.example.com.", .a, answer: ["web.example.com. 3600 A 192.0.2.80"], additional: [])
        try check("WEB.Example.COM.", .aaaa, answer: ["WEB.Example.COM. 3600 AAAA 2001:db8::80"])
    }

    func testNoDataAndNXDomainCarryNegativeSOA() throws {
        // RFC 2308 §3: SOA TTL = min(SOA TTL, MINIMUM), as NSD and Knot.
        try check("web.example.com.", .txt, authority: [soaCom])
        try check("nx.example.com.", .a, rcode: .nxDomain, authority: [soaCom])
        try check("web.example.com.", RRType(999), authority: [soaCom])
        try check("example.com.", .ds, authority: [soaCom])  // no parent held: the zone itself answers
    }

    func testEmptyNonTerminalIsNoData() throws {
        try check("b.c.example.com.", .a, authority: [soaCom])
        try check("c.example.com.", .txt, authority: [soaCom])
        try check("a.b.c.example.com.", .txt, answer: ["a.b.c.example.com. 3600 TXT \"deep\""])
    }

    func testReferral() throws {
        let ns = ["deleg.example.com. 3600 NS ns.deleg.example.com.", "deleg.example.com. 3600 NS ns.other.net."]
        let glue = ["ns.deleg.example.com. 3600 A 192.0.2.99", "ns.deleg.example.com. 3600 AAAA 2001:db8::99"]
        try check("deleg.example.com.", .a, aa: false, authority: ns, additional: glue)
        try check("x.deleg.example.com.", .a, aa: false, authority: ns, additional: glue)  // occluded data
        try check("deep.below.deleg.example.com.", .mx, aa: false, authority: ns, additional: glue)
        try check("deleg.example.com.", .ns, aa: false, authority: ns, additional: glue)
        try check("deleg.example.com.", .any, aa: false, authority: ns, additional: glue)
        try check("x.deleg.example.com.", .ds, aa: false, authority: ns, additional: glue)
        XCTAssertTrue(try ask("deleg.example.com.", .a).glueRequired)
    }

    func testDSAtCutIsAnsweredByTheParent() throws {
        // RFC 4035 §3.1.4.1.
        try check("deleg.example.com.", .ds, answer: ["deleg.example.com. 3600 DS 12345 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE"])
        try check("nods.example.com.", .ds, authority: [soaCom])
        // The child's apex: the parent zone (which we hold) answers DS.
        try check("child.example.com.", .ds, answer: ["child.example.com. 3600 DS 54321 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE"])
    }

    func testChildZoneAnswersBelowItsApex() throws {
        try check("ns1.child.example.com.", .a, answer: ["ns1.child.example.com. 1800 A 192.0.2.77"])
        try check("child.example.com.", .ns, answer: ["child.example.com. 1800 NS ns1.child.example.com."],
                  additional: ["ns1.child.example.com. 1800 A 192.0.2.77"])
    }

    func testApexNSAndMXAdditional() throws {
        try check("example.com.", .ns, answer: ["example.com. 3600 NS ns1.example.com.", "example.com. 3600 NS ns2.example.net."],
                  additional: ["ns1.example.com. 3600 A 192.0.2.53", "ns1.example.com. 3600 AAAA 2001:db8::53"])
        try check("example.com.", .mx, answer: ["example.com. 3600 MX 10 mail.example.com.", "example.com. 3600 MX 20 mail.other.net."],
                  additional: ["mail.example.com. 3600 A 192.0.2.25", "mail.example.com. 3600 AAAA 2001:db8::25"])
        try check("srv.example.com.", .srv, answer: ["srv.example.com. 3600 SRV 0 0 80 web.example.com."],
                  additional: ["web.example.com. 3600 A 192.0.2.80", "web.example.com. 3600 AAAA 2001:db8::80"])
        // Targets in other zones are not added (as NSD and Knot).
        try check("srvx.example.com.", .srv, answer: ["srvx.example.com. 3600 SRV 0 0 80 www.other.net."], additional: [])
    }

    func testCNAME() throws {
        try check("www.example.com.", .a, answer: ["www.example.com. 600 CNAME web.example.com.", "web.example.com. 3600 A 192.0.2.80"])
        try check("www.example.com.", .cname, answer: ["www.example.com. 600 CNAME web.example.com."])
        try check("www.example.com.", .any, answer: ["www.example.com. 600 CNAME web.example.com."])
        try check("www.example.com.", .txt, answer: ["www.example.com. 600 CNAME web.example.com."], authority: [soaCom])
        try check("cnnx.example.com.", .a, rcode: .nxDomain, answer: ["cnnx.example.com. 3600 CNAME nothing.example.com."],
                  authority: [soaCom])
        try check("cn2ent.example.com.", .a, answer: ["cn2ent.example.com. 3600 CNAME c.example.com."], authority: [soaCom])
        // To a name under a cut: the referral, AA kept from the first answer (NSD and Knot).
        try check("cn2deleg.example.com.", .a, answer: ["cn2deleg.example.com. 3600 CNAME x.deleg.example.com."],
                  authority: ["deleg.example.com. 3600 NS ns.deleg.example.com.", "deleg.example.com. 3600 NS ns.other.net."],
                  additional: ["ns.deleg.example.com. 3600 A 192.0.2.99", "ns.deleg.example.com. 3600 AAAA 2001:db8::99"])
    }

    func testCNAMEIntoOtherZones() throws {
        // Followed into the zones we hold, as NSD does; the last zone's data ends it.
        // Ending with data in another zone: that zone's NS in authority, as NSD.
        try check("ext.example.com.", .a, answer: ["ext.example.com. 3600 CNAME www.other.net.",
                                                   "www.other.net. 86400 A 198.51.100.80", "www.other.net. 100 A 198.51.100.81"],
                  authority: ["other.net. 86400 NS ns.other.net."], additional: ["ns.other.net. 86400 A 198.51.100.53"])
        try check("cn2child.example.com.", .a, answer: ["cn2child.example.com. 3600 CNAME www.child.example.com.",
                                                        "www.child.example.com. 1800 A 192.0.2.78"],
                  authority: ["child.example.com. 1800 NS ns1.child.example.com."])
        try check("back.other.net.", .a, answer: ["back.other.net. 86400 CNAME www.example.com.",
                                                  "www.example.com. 600 CNAME web.example.com.", "web.example.com. 3600 A 192.0.2.80"],
                  authority: ["example.com. 3600 NS ns1.example.com.", "example.com. 3600 NS ns2.example.net."])
        try check("chain1.other.net.", .txt, answer: ["chain1.other.net. 86400 CNAME chain2.other.net.",
                                                      "chain2.other.net. 86400 CNAME web.example.com."], authority: [soaCom])
    }

    func testCNAMELoopsStop() throws {
        try check("loop1.example.com.", .a, answer: ["loop1.example.com. 3600 CNAME loop2.example.com.",
                                                     "loop2.example.com. 3600 CNAME loop1.example.com."])
        try check("self.example.com.", .a, answer: ["self.example.com. 3600 CNAME self.example.com."])
    }

    func testDNAME() throws {
        // RFC 6672 §3.1: the DNAME, a CNAME with the DNAME's TTL, then the new name.
        try check("www.d.example.com.", .a, answer: ["d.example.com. 700 DNAME other.net.",
                                                     "www.d.example.com. 700 CNAME www.other.net.",
                                                     "www.other.net. 86400 A 198.51.100.80", "www.other.net. 100 A 198.51.100.81"],
                  authority: ["other.net. 86400 NS ns.other.net."])
        try check("d.example.com.", .dname, answer: ["d.example.com. 700 DNAME other.net."])
        try check("nope.d.example.com.", .cname, answer: ["d.example.com. 700 DNAME other.net.",
                                                          "nope.d.example.com. 700 CNAME nope.other.net."])
        try check("d.example.com.", .a, authority: [soaCom])  // the DNAME owner itself is not redirected
        try check("a.dself.example.com.", .a, rcode: .nxDomain,
                  answer: ["dself.example.com. 3600 DNAME example.com.", "a.dself.example.com. 3600 CNAME a.example.com."],
                  authority: [soaCom])
        try check("nope.d.example.com.", .a, rcode: .nxDomain,
                  answer: ["d.example.com. 700 DNAME other.net.", "nope.d.example.com. 700 CNAME nope.other.net."],
                  authority: [soaNet])
    }

    func testDNAMEOverflowIsYXDomain() throws {
        // RFC 6672 §2.2; NSD answers YXDOMAIN with the DNAME alone.
        let long = String(repeating: "z", count: 60)
        let p = try ask("\(long).x.dl.example.com.", .a)
        XCTAssertEqual(p.rcode, .yxDomain)
        XCTAssertTrue(p.authoritative)
        XCTAssertEqual(p.answer.map(\.type), [.dname])
        XCTAssertEqual(p.authority, [])
    }

    func testWildcards() throws {
        try check("a.b.wild.example.com.", .txt, answer: ["a.b.wild.example.com. 3600 TXT \"wild\""])
        try check("x.wild.example.com.", .mx, answer: ["x.wild.example.com. 3600 MX 10 mail.example.com."],
                  additional: ["mail.example.com. 3600 A 192.0.2.25", "mail.example.com. 3600 AAAA 2001:db8::25"])
        try check("host.wild.example.com.", .txt, authority: [soaCom])  // exists: no synthesis
        try check("a.host.wild.example.com.", .txt, rcode: .nxDomain, authority: [soaCom])
        // A wildcard CNAME is followed.
        try check("x.wc.example.com.", .a, answer: ["x.wc.example.com. 900 CNAME web.example.com.", "web.example.com. 3600 A 192.0.2.80"])
        try check("x.wc.example.com.", .cname, answer: ["x.wc.example.com. 900 CNAME web.example.com."])
        // The source of synthesis exists only as an empty non-terminal (`sub.*.ast`): NODATA.
        try check("x.y.ast.example.com.", .txt, authority: [soaCom])
        // ANY at a wildcard: one RRset (the lowest type, as Knot).
        try check("x.wild.example.com.", .any, answer: ["x.wild.example.com. 3600 MX 10 mail.example.com."])
    }

    /// RFC 4592 §2.2.1: the example zone and its listed queries.
    func testRFC4592Examples() throws {
        try check("host3.example.", .mx, answer: ["host3.example. 3600 MX 10 host1.example."],
                  additional: ["host1.example. 3600 A 192.0.2.3"])
        try check("host3.example.", .a, authority: [soaEx])
        try check("foo.bar.example.", .txt, answer: ["foo.bar.example. 3600 TXT \"this is a wildcard\""])
        try check("host1.example.", .mx, authority: [soaEx])
        try check("sub.*.example.", .mx, authority: [soaEx])
        try check("_telnet._tcp.host1.example.", .srv, rcode: .nxDomain, authority: [soaEx])
        try check("host.subdel.example.", .a, aa: false,
                  authority: ["subdel.example. 3600 NS ns.example.com.", "subdel.example. 3600 NS ns.example.net."])
        try check("ghost.*.example.", .mx, rcode: .nxDomain, authority: [soaEx])
        try check("_tcp.host1.example.", .srv, authority: [soaEx])
        try check("a.sub.*.example.", .txt, rcode: .nxDomain, authority: [soaEx])
        try check("_ssh._tcp.host1.example.", .srv, answer: ["_ssh._tcp.host1.example. 3600 SRV 0 0 22 host1.example."],
                  additional: ["host1.example. 3600 A 192.0.2.3"])
    }

    func testAnyIsOneRRset() throws {
        // RFC 8482 §4.2; Knot's choice (the node's lowest type). NSD prefers SOA here.
        try check("example.com.", .any, answer: ["example.com. 3600 A 192.0.2.1"])
        try check("child.example.com.", .any, answer: ["child.example.com. 1800 NS ns1.child.example.com."],
                  additional: ["ns1.child.example.com. 1800 A 192.0.2.77"])
        try check("b.c.example.com.", .any, authority: [soaCom])
    }

    func testOutsideEveryZoneIsRefused() throws {
        try check("foo.org.", .a, rcode: .refused, aa: false)
        try check("com.", .a, rcode: .refused, aa: false)
        try check(".", .ns, rcode: .refused, aa: false)
    }

    func testZoneBuildErrors() throws {
        let o = try DNSName("e.test.")
        let a = ResourceRecord(owner: o, type: .a, ttl: 1, rdata: [1, 2, 3, 4])
        XCTAssertThrowsError(try Zone(origin: o, records: [a])) { e in
            XCTAssertEqual((e as? ZoneError)?.code, .noSOA)
        }
        let soa = ResourceRecord(owner: o, type: .soa, ttl: 1, rdata: o.wire + o.wire + [UInt8](repeating: 0, count: 20))
        let out = ResourceRecord(owner: try DNSName("x.other."), type: .a, ttl: 1, rdata: [1, 2, 3, 4])
        XCTAssertThrowsError(try Zone(origin: o, records: [soa, out])) { e in
            XCTAssertEqual((e as? ZoneError)?.code, .outOfZone)
        }
        let cname = ResourceRecord(owner: try DNSName("c.e.test."), type: .cname, ttl: 1, rdata: o.wire)
        let cnameA = ResourceRecord(owner: try DNSName("c.e.test."), type: .a, ttl: 1, rdata: [1, 2, 3, 4])
        XCTAssertThrowsError(try Zone(origin: o, records: [soa, cname, cnameA])) { e in
            XCTAssertEqual((e as? ZoneError)?.code, .cnameAndOtherData)
        }
        let z = try Zone(origin: o, records: [soa, a, a])
        XCTAssertEqual(z.records.count, 2)
        XCTAssertEqual(z.serial, 0)
    }

    /// Taking the records (freeing each as it is packed) builds the same zone as copying them.
    func testTakingRecordsBuildsTheSameZone() throws {
        for origin in ["example.com.", "child.example.com.", "other.net.", "example."] {
            let o = try DNSName(origin)
            let parsed = try ZoneFileReader(origin: o).read(path: AuthorityFixtures.directory + "/" + String(origin.dropLast()) + ".zone")
            let copied = try Zone(origin: o, records: parsed.records + parsed.records)
            var taken = parsed.records
            let zone = try Zone(origin: o, takingRecords: &taken)
            XCTAssertTrue(taken.isEmpty)
            XCTAssertEqual(zone.records, copied.records, origin)
            XCTAssertEqual(zone.recordCount, parsed.records.count, origin)
            XCTAssertTrue(zone.hasSameContent(as: copied), origin)
            XCTAssertEqual(zone.rrsets.count, copied.rrsets.count, origin)
            XCTAssertEqual(zone.nameCount, copied.nameCount, origin)
            XCTAssertEqual(zone.signatures.count, copied.signatures.count, origin)
        }
    }
}
