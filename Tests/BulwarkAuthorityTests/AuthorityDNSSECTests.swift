import BulwarkWire
import XCTest
@testable import BulwarkAuthority
@testable import BulwarkZone

/// Answers with the DO bit (RFC 4035 §3.1) from a small NSEC zone; the same rules
/// were checked against NSD and Knot serving the signed root zone.
final class AuthorityDNSSECTests: XCTestCase {
    static let set = ZoneSet(zones: [try! AuthorityFixtures.zone("sec.test.")])

    /// Each section as "owner TYPE" (RRSIGs as "owner RRSIG(covered)").
    func shape(_ list: [ResourceRecord]) -> [String] {
        list.map { r in
            if r.type == .rrsig { return "\(r.owner) RRSIG(\(RRType(UInt16(r.rdata[0]) << 8 | UInt16(r.rdata[1]))))" }
            if r.type == .nsec { return "\(r.owner) NSEC" }
            return "\(r.owner) \(r.type)"
        }
    }

    func check(_ name: String, _ type: RRType, rcode: RCode = .noError, answer: [String] = [], authority: [String] = [],
               file: StaticString = #filePath, line: UInt = #line) throws {
        let p = Self.set.lookup(qname: try DNSName(name), qtype: type, dnssec: true)
        XCTAssertEqual(p.rcode, rcode, file: file, line: line)
        XCTAssertEqual(shape(p.answer), answer, "answer", file: file, line: line)
        XCTAssertEqual(shape(p.authority), authority, "authority", file: file, line: line)
    }

    func testPositiveAnswerCarriesItsSignature() throws {
        try check("a.sec.test.", .a, answer: ["a.sec.test. A", "a.sec.test. RRSIG(A)"])
        // Without DO, no signatures.
        XCTAssertEqual(Self.set.lookup(qname: try DNSName("a.sec.test."), qtype: .a).answer.count, 1)
    }

    func testNoData() throws {
        try check("a.sec.test.", .txt, authority: ["sec.test. SOA", "sec.test. RRSIG(SOA)", "a.sec.test. NSEC", "a.sec.test. RRSIG(NSEC)"])
        // The SOA's signature takes the SOA's negative TTL (RFC 2308 §3), as NSD and Knot.
        let p = Self.set.lookup(qname: try DNSName("a.sec.test."), qtype: .txt, dnssec: true)
        XCTAssertEqual(p.authority.prefix(2).map(\.ttl), [300, 300])
        // An empty non-terminal: the NSEC that covers it.
        try check("w.sec.test.", .a, authority: ["sec.test. SOA", "sec.test. RRSIG(SOA)", "u.sec.test. NSEC", "u.sec.test. RRSIG(NSEC)"])
    }

    func testNXDomainProvesNameAndWildcardAbsent() throws {
        // b.sec.test. falls between a and d; *.sec.test. between the apex and a.
        try check("b.sec.test.", .a, rcode: .nxDomain,
                  authority: ["sec.test. SOA", "sec.test. RRSIG(SOA)", "a.sec.test. NSEC", "a.sec.test. RRSIG(NSEC)",
                              "sec.test. NSEC", "sec.test. RRSIG(NSEC)"])
        // One NSEC can prove both: listed once.
        try check("0.sec.test.", .a, rcode: .nxDomain,
                  authority: ["sec.test. SOA", "sec.test. RRSIG(SOA)", "sec.test. NSEC", "sec.test. RRSIG(NSEC)"])
    }

    func testWildcardAnswerProvesTheNameAbsent() throws {
        try check("x.w.sec.test.", .txt, answer: ["x.w.sec.test. TXT", "x.w.sec.test. RRSIG(TXT)"],
                  authority: ["*.w.sec.test. NSEC", "*.w.sec.test. RRSIG(NSEC)"])
        // Wildcard NODATA: the covering NSEC and the wildcard's own (here the same one).
        try check("x.w.sec.test.", .a, authority: ["*.w.sec.test. NSEC", "*.w.sec.test. RRSIG(NSEC)", "sec.test. SOA",
                                                   "sec.test. RRSIG(SOA)"])
    }

    func testReferrals() throws {
        // RFC 4035 §3.1.4: a signed DS, or the NSEC proving there is none.
        try check("x.d.sec.test.", .a, authority: ["d.sec.test. NS", "d.sec.test. DS", "d.sec.test. RRSIG(DS)"])
        try check("x.u.sec.test.", .a, authority: ["u.sec.test. NS", "u.sec.test. NSEC", "u.sec.test. RRSIG(NSEC)"])
        // DS at a cut without DS: NODATA with the cut's NSEC.
        try check("u.sec.test.", .ds, authority: ["sec.test. SOA", "sec.test. RRSIG(SOA)", "u.sec.test. NSEC",
                                                  "u.sec.test. RRSIG(NSEC)"])
    }
}
