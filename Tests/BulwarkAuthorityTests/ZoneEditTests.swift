import BulwarkTestSupport
import BulwarkWire
import BulwarkZoneFile
import Foundation
import XCTest
@testable import BulwarkAuthority
@testable import BulwarkZone

/// Zones edited one change at a time answer exactly as zones built from scratch from
/// the same records, for every name and type, NXDOMAIN, wildcards and delegations.
final class ZoneEditTests: XCTestCase {
    let origin = try! DNSName("edit.test.")

    func records(_ text: String) throws -> [ResourceRecord] {
        try ZoneFileReader(origin: origin).read(text: text, fileName: "test").records
    }

    /// The zone's records, keyed by owner (lower case) and type: the model edits follow.
    typealias Model = [String: [UInt16: [ResourceRecord]]]

    func model(_ records: [ResourceRecord]) -> (Model, [String]) {
        var m: Model = [:]
        var order: [String] = []
        for r in records {
            let k = r.owner.lowercased().description
            if m[k] == nil { order.append(k) }
            m[k, default: [:]][r.type.rawValue, default: []].append(r)
        }
        return (m, order)
    }

    func flatten(_ m: Model, _ order: [String]) -> [ResourceRecord] {
        // The SOA first; then owners in a fixed order.
        var out: [ResourceRecord] = []
        for k in order { for t in (m[k] ?? [:]).keys.sorted() { out += m[k]![t]! } }
        return out
    }

    let base = """
        @ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
        @ 3600 IN NS ns1
        @ 3600 IN NS ns2.other.test.
        @ 3600 IN MX 10 mail
        ns1 3600 IN A 192.0.2.1
        mail 3600 IN A 192.0.2.25
        www 300 IN A 192.0.2.80
        www 300 IN AAAA 2001:db8::80
        alias 300 IN CNAME www
        *.wild 300 IN TXT "wildcard"
        deep.ent.chain 300 IN A 192.0.2.9
        sub 3600 IN NS ns.sub
        ns.sub 3600 IN A 192.0.2.53
        """

    /// Owners the random edits choose from (relative); some start empty.
    let owners = ["www", "alias", "mail", "ns1", "*.wild", "x.wild", "deep.ent.chain", "ent.chain", "sub", "ns.sub",
                  "a.sub", "new", "new.deeper", "*", "other", "dn", "y.dn", "cn"]

    /// One random replacement (or deletion) of an RRset: its records as zone-file lines.
    func randomChange(_ rng: inout SplitMix64) -> (owner: String, type: RRType, lines: [String]) {
        let owner = owners[rng.below(owners.count)]
        let types: [RRType] = [.a, .aaaa, .txt, .mx, .cname, .ns, .dname, .ds]
        let type = types[rng.below(types.count)]
        if rng.below(4) == 0 { return (owner, type, []) }
        var lines: [String] = []
        let ttl = [60, 300, 3600][rng.below(3)]
        for i in 0..<(1 + rng.below(3)) {
            let data: String
            switch type {
            case .a: data = "192.0.2.\(rng.below(250) + 1)"
            case .aaaa: data = "2001:db8::\(rng.below(9000) + 1)"
            case .txt: data = "\"t\(rng.below(1000))\""
            case .mx: data = "\(rng.below(50)) \(owners[rng.below(owners.count)].replacingOccurrences(of: "*", with: "star"))"
            case .cname: if i > 0 { continue }; data = owners[rng.below(owners.count)].replacingOccurrences(of: "*", with: "star")
            case .ns: data = ["ns.sub", "ns1", "ns9.elsewhere.test."][rng.below(3)]
            case .dname: if i > 0 { continue }; data = "target.test."
            default: data = "\(rng.below(60000)) 13 2 \(String(repeating: "ab", count: 32))"
            }
            lines.append("\(owner) \(ttl) IN \(type) \(data)")
        }
        return (owner, type, lines)
    }

    func questions() throws -> [DNSName] {
        var names = try owners.map { try DNSName($0, origin: origin) }
        names.append(origin)
        for o in ["nope", "a.b.nope", "q.x.wild", "zz.wild", "under.sub", "zz.deep.ent.chain", "y.dn", "z.y.dn", "m.new"] {
            names.append(try DNSName(o, origin: origin))
        }
        return names
    }

    func assertSameAnswers(_ edited: Zone, _ fresh: Zone, step: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = ZoneSet(zones: [edited]), b = ZoneSet(zones: [fresh])
        let types: [RRType] = [.a, .aaaa, .txt, .mx, .cname, .ns, .ds, .soa, .dname, .any]
        for q in try questions() {
            for t in types {
                for dnssec in [false, true] {
                    let x = a.lookup(qname: q, qtype: t, dnssec: dnssec), y = b.lookup(qname: q, qtype: t, dnssec: dnssec)
                    XCTAssertEqual(x, y, "step \(step): \(q) \(t)\nedited:\n\(x)fresh:\n\(y)", file: file, line: line)
                    if x != y { return }
                }
            }
        }
        XCTAssertEqual(Set(edited.records), Set(fresh.records), "step \(step): records", file: file, line: line)
        XCTAssertEqual(edited.recordCount, fresh.recordCount, "step \(step)", file: file, line: line)
        XCTAssertEqual(edited.serial, fresh.serial, "step \(step)", file: file, line: line)
        XCTAssertTrue(edited.hasSameContent(as: fresh), "step \(step): content digest", file: file, line: line)
    }

    func testRandomEditsAnswerAsFreshBuilds() throws {
        for seed in TestSeed.values([1, 2, 3, 4]) {
            var rng = SplitMix64(seed: seed)
            var (m, order) = model(try records(base))
            var zone = try Zone(origin: origin, records: flatten(m, order))
            var applied = 0, refused = 0
            for step in 0..<100 {
                var edit = ZoneEdit()
                var next = m
                var nextOrder = order
                for _ in 0..<(1 + rng.below(3)) {
                    let c = randomChange(&rng)
                    let name = try DNSName(c.owner, origin: origin)
                    let recs = try records(c.lines.joined(separator: "\n"))
                    edit.replace(name, c.type, with: recs)
                    let k = name.lowercased().description
                    if next[k] == nil { nextOrder.append(k) }
                    next[k, default: [:]][c.type.rawValue] = recs.isEmpty ? nil : recs
                }
                // Every change moves the serial, as the control plane does.
                let soa = try records("@ 3600 IN SOA ns1 hostmaster \(step + 2) 7200 3600 1209600 300")
                edit.replace(origin, .soa, with: soa)
                next[origin.description]![RRType.soa.rawValue] = soa
                let edited: Zone
                do {
                    edited = try zone.applying(edit)
                } catch {
                    refused += 1
                    continue  // the previous version stays as it was
                }
                let fresh = try Zone(origin: origin, records: flatten(next, nextOrder))
                try assertSameAnswers(edited, fresh, step: step)
                XCTAssertTrue(edited.edit?.isEdit(of: zone) ?? false)
                zone = edited
                m = next
                order = nextOrder
                applied += 1
            }
            XCTAssertGreaterThan(applied, 30, "seed \(seed)")
            XCTAssertGreaterThan(refused, 5, "seed \(seed): the random changes should break rules sometimes")
        }
    }

    func testEditRecordsWhatChanged() throws {
        let zone = try Zone(origin: origin, records: records(base))
        var edit = ZoneEdit()
        edit.replace(try DNSName("www", origin: origin), .a, with: try records("www 300 IN A 192.0.2.81\nwww 300 IN A 192.0.2.80"))
        edit.replace(try DNSName("www", origin: origin), .aaaa, with: [])
        edit.replace(try DNSName("fresh", origin: origin), .txt, with: try records("fresh 60 IN TXT hello"))
        let next = try zone.applying(edit)
        let removed = Set(next.edit!.removed.map(line)), added = Set(next.edit!.added.map(line))
        XCTAssertEqual(removed, ["www.edit.test. 300 AAAA 2001:db8::80"])
        XCTAssertEqual(added, ["www.edit.test. 300 A 192.0.2.81", "fresh.edit.test. 60 TXT \"hello\""])
        XCTAssertEqual(next.recordCount, zone.recordCount + 1)
        // The old version is untouched.
        XCTAssertEqual(ZoneSet(zones: [zone]).lookup(qname: try DNSName("fresh", origin: origin), qtype: .txt).rcode, .nxDomain)
        XCTAssertEqual(ZoneSet(zones: [zone]).lookup(qname: try DNSName("www", origin: origin), qtype: .aaaa).answer.count, 1)
    }

    func testEditsBreakingTheRulesAreRefused() throws {
        let zone = try Zone(origin: origin, records: records(base))
        func refused(_ owner: String, _ type: RRType, _ lines: String, _ code: ZoneError.Code,
                     file: StaticString = #filePath, line: UInt = #line) throws {
            var edit = ZoneEdit()
            edit.replace(owner == "@" ? origin : try DNSName(owner, origin: origin), type, with: try records(lines))
            XCTAssertThrowsError(try zone.applying(edit), file: file, line: line) {
                XCTAssertEqual(($0 as? ZoneError)?.code, code, "\($0)", file: file, line: line)
            }
        }
        try refused("www", .cname, "www 60 IN CNAME mail", .cnameAndOtherData)
        try refused("alias", .a, "alias 60 IN A 192.0.2.1", .cnameAndOtherData)
        try refused("x", .cname, "x 60 IN CNAME a\nx 60 IN CNAME b", .multipleCNAME)
        try refused("x", .dname, "x 60 IN DNAME a.test.\nx 60 IN DNAME b.test.", .multipleDNAME)
        try refused("www", .ds, "www 60 IN DS 1 13 2 \(String(repeating: "ab", count: 32))", .misplacedDS)
        // DS at the apex: loaded with a warning, as NSD and Knot do.
        var apexDS = ZoneEdit()
        apexDS.replace(origin, .ds, with: try records("@ 60 IN DS 1 13 2 \(String(repeating: "ab", count: 32))"))
        let withDS = try zone.applying(apexDS)
        XCTAssertEqual(withDS.records(at: origin, type: .ds).count, 1)
        XCTAssertTrue(withDS.edit!.warnings.contains { $0.hasPrefix("DS record at the zone apex") }, "\(withDS.edit!.warnings)")
        try refused("www", .soa, "www 60 IN SOA a b 1 2 3 4 5", .multipleSOA)
        try refused("@", .soa, "@ 60 IN SOA a b 1 2 3 4 5\n@ 60 IN SOA c d 1 2 3 4 5", .multipleSOA)
        try refused("@", .ns, "", .noApexNS)
        try refused("@", .soa, "", .noSOA)
        var outside = ZoneEdit()
        outside.replace(try DNSName("www.elsewhere.test."), .a, with: [])
        XCTAssertThrowsError(try zone.applying(outside)) { XCTAssertEqual(($0 as? ZoneError)?.code, .outOfZone) }
    }

    func testWarningsAtTheNamesTouched() throws {
        let zone = try Zone(origin: origin, records: records(base))
        var edit = ZoneEdit()
        edit.replace(try DNSName("txt.sub", origin: origin), .txt, with: try records("txt.sub 60 IN TXT occluded"))
        edit.replace(try DNSName("lame", origin: origin), .ns, with: try records("lame 60 IN NS ns.lame"))
        let warnings = try zone.applying(edit).edit!.warnings
        XCTAssertTrue(warnings.contains("txt.sub.edit.test. TXT is below the delegation at sub.edit.test. and is occluded"), "\(warnings)")
        XCTAssertTrue(warnings.contains("NS target ns.lame.edit.test. has no A or AAAA record in the zone (missing glue)"), "\(warnings)")
    }

    /// Many edits leave unreferenced records behind; past as many as there are live ones
    /// the next edit compacts the zone (a fresh build) with the same answers.
    func testCompactionKeepsAnswers() throws {
        var zone = try Zone(origin: origin, records: records(base))
        let www = try DNSName("www", origin: origin)
        for i in 0..<5000 {
            var edit = ZoneEdit()
            edit.replace(www, .a, with: try records("www 300 IN A 192.0.2.\(i % 250 + 1)"))
            zone = try zone.applying(edit)
        }
        XCTAssertLessThanOrEqual(zone.staleRecords, max(zone.recordCount, 4096))
        let answer = ZoneSet(zones: [zone]).lookup(qname: www, qtype: .a).answer.map(line)
        XCTAssertEqual(answer, ["www.edit.test. 300 A 192.0.2.\(4999 % 250 + 1)"])
    }

    /// An edit of a large zone copies only what it touches: the next version shares
    /// nearly all of its pages with the previous one.
    func testEditSharesUntouchedPages() throws {
        var text = base + "\n"
        for i in 0..<20_000 { text += "h\(i) 300 IN A 10.0.\(i / 250).\(i % 250 + 1)\n" }
        let zone = try Zone(origin: origin, records: records(text))
        var edit = ZoneEdit()
        edit.replace(try DNSName("h77", origin: origin), .a, with: try records("h77 300 IN A 192.0.2.7"))
        let next = try zone.applying(edit)
        XCTAssertEqual(next.sharedBytes(with: zone) + next.ownBytes(apartFrom: zone), next.allocatedBytes)
        XCTAssertLessThan(next.ownBytes(apartFrom: zone), 512 * 1024, "bytes not shared with the previous version")
        XCTAssertGreaterThan(next.sharedBytes(with: zone), 1024 * 1024)
    }
}

/// Readers of the store during a stream of edits see each edit whole or not at all: an
/// edit that changes two names is never half there.
final class ZoneEditConcurrencyTests: XCTestCase {
    func testReadersNeverSeeHalfAnEdit() throws {
        let origin = try DNSName("race.test.")
        let reader = ZoneFileReader(origin: origin)
        func records(_ text: String) throws -> [ResourceRecord] { try reader.read(text: text, fileName: "t").records }
        var zone = try Zone(origin: origin, records: records("""
            @ 300 IN SOA ns hm 1 2 3 4 5
            @ 300 IN NS ns
            a 300 IN TXT v0
            b 300 IN TXT v0
            """))
        let catalog = ZoneCatalog(store: ZoneStore(ZoneSet(zones: [])))
        try catalog.publish(zone, from: .api)
        let a = try DNSName("a.race.test."), b = try DNSName("b.race.test.")
        final class Flags: @unchecked Sendable {
            let lock = NSLock()
            var done = false
            var reads = 0
            var torn: [String] = []
        }
        let flags = Flags()
        let readers = (0..<2).map { _ in
            Thread {
                var reads = 0, torn: [String] = []
                while !flags.lock.withLock({ flags.done }) {
                    let set = catalog.store.current
                    let x = set.lookup(qname: a, qtype: .txt).answer.map(\.rdata)
                    let y = set.lookup(qname: b, qtype: .txt).answer.map(\.rdata)
                    if x != y { torn.append("\(x) \(y)") }
                    reads += 1
                }
                flags.lock.withLock {
                    flags.reads += reads
                    flags.torn += torn
                }
            }
        }
        readers.forEach { $0.start() }
        for v in 1...300 {
            var edit = ZoneEdit()
            edit.replace(a, .txt, with: try records("a 300 IN TXT v\(v)"))
            edit.replace(b, .txt, with: try records("b 300 IN TXT v\(v)"))
            edit.replace(origin, .soa, with: try records("@ 300 IN SOA ns hm \(v + 1) 2 3 4 5"))
            zone = try zone.applying(edit)
            try catalog.publish(zone, from: .api)
        }
        flags.lock.withLock { flags.done = true }
        while readers.contains(where: { !$0.isFinished }) { usleep(1000) }
        XCTAssertEqual(flags.torn, [], "a reader saw half an edit")
        XCTAssertGreaterThan(flags.reads, 300)
        XCTAssertEqual(catalog.store.current.lookup(qname: a, qtype: .txt).answer.count, 1)
    }
}
