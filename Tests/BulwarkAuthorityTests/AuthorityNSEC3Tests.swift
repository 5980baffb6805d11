import BulwarkWire
import BulwarkZoneFile
import XCTest
@testable import BulwarkAuthority
@testable import BulwarkZone

/// NSEC3 denial proofs (RFC 5155 §7.2) on the example zone of RFC 5155 Appendix A
/// (salt aabbccdd, 12 extra iterations, opt-out), checked against the responses of its
/// Appendix B. The NSEC3 chain is made here from the names' hashes; signatures are
/// stand-ins (only their covered type matters to the server).
final class AuthorityNSEC3Tests: XCTestCase {
    static let origin = try! DNSName("example.")

    static let unsigned = """
        $TTL 3600
        @ SOA ns1.example. bugs.x.w.example. 1 3600 300 3600000 3600
        @ NS ns1.example.
        @ NS ns2.example.
        @ MX 1 xx.example.
        a NS ns1.a.example.
        a NS ns2.a.example.
        a DS 58470 5 1 3079F1593EBAD6DC121E202A8B766A6A4837206C
        ns1.a A 192.0.2.5
        ns2.a A 192.0.2.6
        ai A 192.0.2.9
        ai HINFO "KLH-10" "ITS"
        ai AAAA 2001:db8::f00:baa9
        c NS ns1.c.example.
        c NS ns2.c.example.
        ns1.c A 192.0.2.7
        ns2.c A 192.0.2.8
        ns1 A 192.0.2.1
        ns2 A 192.0.2.2
        *.w MX 1 ai.example.
        x.w MX 1 xx.example.
        x.y.w MX 1 xx.example.
        xx A 192.0.2.10
        xx HINFO "KLH-10" "TOPS-20"
        xx AAAA 2001:db8::f00:baaa

        """

    /// The names with an NSEC3 in Appendix A: every authoritative name and empty
    /// non-terminal, the secure delegation `a`, not the opt-out one `c` nor glue.
    static let hashedNames = ["example.", "a.example.", "ai.example.", "ns1.example.", "ns2.example.", "w.example.",
                              "*.w.example.", "x.w.example.", "y.w.example.", "x.y.w.example.", "xx.example."]

    static func hash(_ name: String) -> String {
        String(decoding: RDataFields.base32HexLabel(NSEC3Hash.hash(try! DNSName(name), salt: [0xAA, 0xBB, 0xCC, 0xDD], iterations: 12)), as: UTF8.self)
    }

    /// The NSEC3 chain, the NSEC3PARAM and a stand-in signature of the SOA and of each NSEC3.
    static func signedText(names: [String] = hashedNames) -> String {
        let hashes = names.map(hash).sorted()
        var text = unsigned + "@ NSEC3PARAM 1 0 12 aabbccdd\n"
        let sig = "3600 20150420235959 20051021000000 40430 example. AAAA"
        text += "@ RRSIG SOA 7 1 \(sig)\n"
        for (i, h) in hashes.enumerated() {
            text += "\(h) NSEC3 1 1 12 aabbccdd \(hashes[(i + 1) % hashes.count]) A RRSIG\n"
            text += "\(h) RRSIG NSEC3 7 2 \(sig)\n"
        }
        return text
    }

    static func zone(_ text: String) throws -> Zone {
        let records = try ZoneFileReader(origin: origin).read(text: text, fileName: "rfc5155").records
        return try Zone(origin: origin, records: records)
    }

    static let set = ZoneSet(zones: [try! zone(signedText())])

    /// The authority section as "owner TYPE", NSEC3 owners by the name they hash.
    func shape(_ list: [ResourceRecord]) -> [String] {
        let byHash = Dictionary(uniqueKeysWithValues: Self.hashedNames.map { (Self.hash($0) + ".example.", $0) })
        return list.compactMap { r in
            if r.type == .rrsig {
                let covered = RRType(UInt16(r.rdata[0]) << 8 | UInt16(r.rdata[1]))
                return covered == .nsec3 ? nil : "\(r.owner) RRSIG(\(covered))"
            }
            if r.type == .nsec3 { return "NSEC3(\(byHash[r.owner.description.lowercased()] ?? r.owner.description))" }
            return "\(r.owner) \(r.type)"
        }
    }

    func check(_ name: String, _ type: RRType, rcode: RCode = .noError, answer: [String] = [], authority: [String],
               file: StaticString = #filePath, line: UInt = #line) throws {
        try check(Self.set, name, type, rcode: rcode, answer: answer, authority: authority, file: file, line: line)
    }

    func check(_ set: ZoneSet, _ name: String, _ type: RRType, rcode: RCode = .noError,
               answer: [String] = [], authority: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let p = set.lookup(qname: try DNSName(name), qtype: type, dnssec: true)
        XCTAssertEqual(p.rcode, rcode, file: file, line: line)
        XCTAssertEqual(shape(p.answer), answer, "answer", file: file, line: line)
        XCTAssertEqual(Set(shape(p.authority)), Set(authority), "authority", file: file, line: line)
        XCTAssertEqual(Set(p.authority.map(BulwarkAuthorityTests.line)).count, p.authority.count, "each record once",
                       file: file, line: line)
        // Each NSEC3 with its signature.
        let nsec3 = p.authority.filter { $0.type == .nsec3 }.count
        let sigs = p.authority.filter { $0.type == .rrsig && UInt16($0.rdata[0]) << 8 | UInt16($0.rdata[1]) == 50 }.count
        XCTAssertEqual(nsec3, sigs, "signatures", file: file, line: line)
    }

    func testHashesOfAppendixA() {
        // RFC 5155 Appendix A lists these.
        XCTAssertEqual(Self.hash("example."), "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom")
        XCTAssertEqual(Self.hash("a.example."), "35mthgpgcu1qg68fab165klnsnk3dpvl")
        XCTAssertEqual(Self.hash("ai.example."), "gjeqe526plbf1g8mklp59enfd789njgi")
        XCTAssertEqual(Self.hash("ns1.example."), "2t7b4g4vsa5smi47k61mv5bv1a22bojr")
        XCTAssertEqual(Self.hash("ns2.example."), "q04jkcevqvmu85r014c7dkba38o0ji5r")
        XCTAssertEqual(Self.hash("w.example."), "k8udemvp1j2f7eg6jebps17vp3n8i58h")
        XCTAssertEqual(Self.hash("*.w.example."), "r53bq7cc2uvmubfu5ocmm6pers9tk9en")
        XCTAssertEqual(Self.hash("x.w.example."), "b4um86eghhds6nea196smvmlo4ors995")
        XCTAssertEqual(Self.hash("y.w.example."), "ji6neoaepv8b5o6k4ev33abha8ht9fgc")
        XCTAssertEqual(Self.hash("x.y.w.example."), "2vptu5timamqttgl4luu9kg21e0aor3s")
        XCTAssertEqual(Self.hash("xx.example."), "t644ebqk9bibcna874givr6joj62mlhv")
        XCTAssertEqual(Self.hash("2t7b4g4vsa5smi47k61mv5bv1a22bojr.example."), "kohar7mbb8dc2ce8a9qvl8hon4k53uhi")
        // Mixed case hashes as lower case (canonical form, RFC 4034 §6.2).
        XCTAssertEqual(Self.hash("X.W.Example."), "b4um86eghhds6nea196smvmlo4ors995")
        // No salt, no extra iteration: one SHA-1 (FIPS 180-4) of the wire name.
        XCTAssertEqual(NSEC3Hash.hash(try! DNSName("example."), salt: [], iterations: 0).map { String(format: "%02x", $0) }
            .joined(), sha1Hex([7] + Array("example".utf8) + [0]))
        XCTAssertEqual(Base32Hex.decode(Array("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom".utf8)[...])?.count, 20)
        XCTAssertNil(Base32Hex.decode(Array("0p9mhaveqvm6t7vbl5lop2u3t2rp3toz".utf8)[...]))
    }

    /// SHA-1 through the same code, of a message of any length (padding across blocks).
    func sha1Hex(_ message: [UInt8]) -> String {
        var work = message + [UInt8](repeating: 0, count: 72)
        var schedule = [UInt32](repeating: 0, count: 80)
        var out = [UInt8](repeating: 0, count: 20)
        NSEC3Hash.sha1(&work, count: message.count, schedule: &schedule, out: &out)
        return out.map { String(format: "%02x", $0) }.joined()
    }

    func testSHA1KnownAnswers() {
        // FIPS 180-4 examples, and messages that pad into a second block.
        XCTAssertEqual(sha1Hex(Array("abc".utf8)), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(sha1Hex([]), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(sha1Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(sha1Hex([UInt8](repeating: UInt8(ascii: "a"), count: 1000)),
                       "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }

    func testIndex() throws {
        let zone = Self.set[zone: ZoneIndex(0)]
        XCTAssertEqual(zone.nsec3.nodes.count, Self.hashedNames.count)
        XCTAssertEqual(zone.nsec3.iterations, 12)
        XCTAssertEqual(Array(zone.nsec3.salt), [0xAA, 0xBB, 0xCC, 0xDD])
        XCTAssertTrue(zone.isSigned)
        // Without NSEC3PARAM no chain is used (as NSD and Knot).
        let noParam = try Self.zone(Self.signedText().replacingOccurrences(of: "@ NSEC3PARAM 1 0 12 aabbccdd\n", with: ""))
        XCTAssertTrue(noParam.nsec3.isEmpty)
    }

    func testNameError() throws {
        // B.1: closest encloser x.w, next closer c.x.w covered, *.x.w covered.
        try check("a.c.x.w.example.", .a, rcode: .nxDomain,
                  authority: ["example. SOA", "example. RRSIG(SOA)", "NSEC3(x.w.example.)", "NSEC3(a.example.)",
                              "NSEC3(example.)"])
    }

    func testCoincidingNSEC3AreListedOnce() throws {
        // n2 and the wildcard *.example hash into the same span (ai's): the NSEC3 that covers
        // the next closer name is the one that covers the wildcard, listed once.
        try check("n2.example.", .a, rcode: .nxDomain,
                  authority: ["example. SOA", "example. RRSIG(SOA)", "NSEC3(example.)", "NSEC3(ai.example.)"])
    }

    func testNoData() throws {
        // B.2, B.2.1 (an empty non-terminal), B.6 (DS at the apex, no parent held).
        try check("ns1.example.", .mx, authority: ["example. SOA", "example. RRSIG(SOA)", "NSEC3(ns1.example.)"])
        try check("y.w.example.", .a, authority: ["example. SOA", "example. RRSIG(SOA)", "NSEC3(y.w.example.)"])
        try check("example.", .ds, authority: ["example. SOA", "example. RRSIG(SOA)", "NSEC3(example.)"])
    }

    func testReferrals() throws {
        // B.3: to the opt-out delegation c: the closest provable encloser (the apex) and the
        // NSEC3 covering c (opt-out).
        try check("mc.c.example.", .mx, authority: ["c.example. NS", "NSEC3(example.)", "NSEC3(a.example.)"])
        // The secure delegation a: its DS, signed (stand-in: none here, so just the DS).
        try check("x.a.example.", .a, authority: ["a.example. NS", "a.example. DS"])
    }

    func testDSAtDelegations() throws {
        // RFC 5155 §7.2.4: DS at the opt-out cut c: closest provable encloser proof.
        try check("c.example.", .ds, authority: ["example. SOA", "example. RRSIG(SOA)", "NSEC3(example.)",
                                                 "NSEC3(a.example.)"])
        try check("a.example.", .ds, answer: ["a.example. DS"], authority: [])
    }

    func testWildcards() throws {
        // B.4: the NSEC3 covering the next closer z.w.
        try check("a.z.w.example.", .mx, answer: ["a.z.w.example. MX"], authority: ["NSEC3(ns2.example.)"])
        // B.5: wildcard NODATA: the encloser w, the next closer z.w covered, *.w matching.
        try check("a.z.w.example.", .aaaa, authority: ["example. SOA", "example. RRSIG(SOA)", "NSEC3(w.example.)",
                                                       "NSEC3(ns2.example.)", "NSEC3(*.w.example.)"])
    }

    func testNSEC3OwnerNamesDoNotExist() throws {
        // RFC 5155 §7.2.8: as if the name did not exist; the apex is its closest encloser.
        let owner = Self.hash("ns1.example.") + ".example."
        for type in [RRType.a, .nsec3, .rrsig] {
            let p = Self.set.lookup(qname: try DNSName(owner), qtype: type, dnssec: true)
            XCTAssertEqual(p.rcode, .nxDomain, "\(type)")
            XCTAssertEqual(p.answer.count, 0)
            XCTAssertTrue(shape(p.authority).contains("NSEC3(example.)"))
        }
        // Edits keep it so: an NSEC3 replaced at its owner.
        let zone = Self.set[zone: ZoneIndex(0)]
        let records = zone.records(at: try DNSName(owner), type: .nsec3)
        var edit = ZoneEdit(checksZoneFileRules: false)
        edit.replace(try DNSName(owner), .nsec3, with: records)
        let edited = ZoneSet(zones: [try zone.applying(edit)])
        XCTAssertEqual(edited.lookup(qname: try DNSName(owner), qtype: .nsec3, dnssec: true).rcode, .nxDomain)
    }

    func testWithoutDOBitNoProofs() throws {
        let p = Self.set.lookup(qname: try DNSName("a.c.x.w.example."), qtype: .a)
        XCTAssertEqual(p.authority.map(\.type), [.soa])
    }

    func testApexNSEC3PARAMIsData() throws {
        try check("example.", .nsec3param, answer: ["example. NSEC3PARAM"], authority: [])
    }

    func testUnsignedZoneReferralCarriesNoDS() throws {
        // RFC 4035 §3.1.4 concerns signed zones; NSD and Knot add no DS for unsigned ones.
        let set = ZoneSet(zones: [try Self.zone(Self.unsigned)])
        try check(set, "x.a.example.", .a, authority: ["a.example. NS"])
    }

    func testEditsRebuildTheIndex() throws {
        let zone = Self.set[zone: ZoneIndex(0)]
        // Drop the NSEC3 of xx: a query it matched is now covered by its predecessor.
        var edit = ZoneEdit(checksZoneFileRules: false)
        edit.replace(try DNSName(Self.hash("xx.example.") + ".example."), .nsec3, with: [])
        let edited = try zone.applying(edit)
        XCTAssertEqual(edited.nsec3.nodes.count, Self.hashedNames.count - 1)
        // Back again.
        let full = try Self.zone(Self.signedText())
        let nsec3 = full.records.filter { $0.type == .nsec3 && $0.owner.description.hasPrefix(Self.hash("xx.example.")) }
        var back = ZoneEdit(checksZoneFileRules: false)
        back.replace(nsec3[0].owner, .nsec3, with: nsec3)
        XCTAssertEqual(try edited.applying(back).nsec3.nodes.count, Self.hashedNames.count)
        // A new NSEC3PARAM (other salt): no NSEC3 matches it, the chain is empty.
        var param = ZoneEdit(checksZoneFileRules: false)
        let other = try ZoneFileReader(origin: Self.origin).read(text: "@ 3600 NSEC3PARAM 1 0 0 -\n", fileName: "t").records
        param.replace(Self.origin, .nsec3param, with: other)
        XCTAssertTrue(try zone.applying(param).nsec3.isEmpty)
        // Removing it: no chain either.
        var none = ZoneEdit(checksZoneFileRules: false)
        none.replace(Self.origin, .nsec3param, with: [])
        XCTAssertTrue(try zone.applying(none).nsec3.isEmpty)
        // The edited zone answers from its chain.
        let set = ZoneSet(zones: [edited])
        // xx has no NSEC3 now: the closest provable encloser (the apex), and xx covered by *.w's.
        try check(set, "xx.example.", .mx, authority: ["example. SOA", "example. RRSIG(SOA)", "NSEC3(example.)",
                                                       "NSEC3(*.w.example.)"])
    }
}
