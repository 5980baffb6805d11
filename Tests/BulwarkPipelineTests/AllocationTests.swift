import BulwarkDefences
import BulwarkOps
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
import CMallocCounter
import Foundation
import Logging
import XCTest
@testable import BulwarkPipeline

/// The contract of the query path (STYLE.md pattern 7, swift-nio's allocation counter
/// tests): once warm, `QueryResponder.respond` performs no heap allocation and no free,
/// whatever the answer is. CMallocCounter interposes malloc and counts per thread, so
/// tests running in parallel do not disturb the count.
final class AllocationTests: XCTestCase {
    override func setUpWithError() throws {
        // Under a sanitizer malloc is the sanitizer's and is not counted; the plain run counts.
        try XCTSkipIf(cmc_sanitized() == 1, "built with a sanitizer: allocations are counted in the plain test run")
    }

    static let zoneText = """
        $ORIGIN example.
        $TTL 300
        @       IN SOA   ns1 hostmaster 2026112501 3600 600 86400 300
        @       IN NS    ns1
        @       IN NS    ns2
        @       IN MX    10 mail
        @       IN TXT   "v=spf1 mx -all"
        ns1     IN A     192.0.2.1
        ns2     IN A     192.0.2.2
        ns2     IN AAAA  2001:db8::2
        mail    IN A     192.0.2.25
        www     IN A     192.0.2.10
        www     IN AAAA  2001:db8::10
        alias   IN CNAME www
        chain   IN CNAME alias
        away    IN CNAME www.other.net.
        *.wild  IN A     192.0.2.99
        *.wild  IN TXT   "synthesized"
        sub     IN NS    ns.sub
        sub     IN NS    ns.other.net.
        ns.sub  IN A     198.51.100.1
        ns.sub  IN AAAA  2001:db8::53
        dn      IN DNAME other.net.
        a.b.c.ent IN A   192.0.2.7
        dl      IN NS    o1
        dl      IN NS    zz.dl
        o1      IN A     192.0.2.11
        o1      IN A     192.0.2.12
        \((1...18).map { "zz.dl   IN AAAA  2001:db8::1:\($0)" }.joined(separator: "\n"))
        svc     IN HTTPS 1 . alpn=h2
        svc     IN A     192.0.2.61
        svca    IN HTTPS 0 svc.example.
        \((0..<40).map { "big     IN TXT   \"record \($0) of a set too large for 512 octets\"" }.joined(separator: "\n"))
        """

    static let otherText = """
        $ORIGIN other.net.
        $TTL 600
        @       IN SOA   ns hostmaster 1 3600 600 86400 300
        @       IN NS    ns
        ns      IN A     203.0.113.1
        www     IN A     203.0.113.80
        """

    /// An NSEC3-signed zone (salt, extra iterations, opt-out), its chain made here; the
    /// signatures are stand-ins (the server never reads them).
    static let nsec3Text: String = {
        let body = """
            $ORIGIN n3.test.
            $TTL 300
            @       IN SOA   ns1 hostmaster 1 3600 600 86400 300
            @       IN NS    ns1
            ns1     IN A     192.0.2.1
            www     IN A     192.0.2.10
            *.wild  IN A     192.0.2.99
            a.b.ent IN A     192.0.2.7
            sub     IN NS    ns.sub
            ns.sub  IN A     198.51.100.1
            @       IN NSEC3PARAM 1 0 5 aabbccdd

            """
        let names = ["n3.test.", "ns1.n3.test.", "www.n3.test.", "wild.n3.test.", "*.wild.n3.test.", "ent.n3.test.",
                     "b.ent.n3.test.", "a.b.ent.n3.test."]
        let hashes = names.map {
            String(decoding: RDataFields.base32HexLabel(NSEC3Hash.hash(try! DNSName($0), salt: [0xAA, 0xBB, 0xCC, 0xDD], iterations: 5)), as: UTF8.self)
        }.sorted()
        let sig = "300 20370101000000 20260101000000 12345 n3.test. AAAA"
        var text = body + "@ IN RRSIG SOA 13 2 \(sig)\nwww IN RRSIG A 13 3 \(sig)\n"
        for (i, h) in hashes.enumerated() {
            text += "\(h) IN NSEC3 1 1 5 aabbccdd \(hashes[(i + 1) % hashes.count]) A RRSIG\n"
            text += "\(h) IN RRSIG NSEC3 13 3 \(sig)\n"
        }
        return text
    }()

    struct Case {
        var name: String
        var query: [UInt8]
        var transport: Transport
        /// Expected header: rcode, AA, TC, and the minimum answer/authority/additional counts.
        var rcode: UInt16
        var aa: Bool
        var tc: Bool
        var counts: (an: Int, ns: Int, ar: Int)
    }

    static func query(_ name: String, _ type: UInt16, id: UInt16 = 0xBEEF, qdcount: UInt16 = 1,
                      edns: (payload: UInt16, version: UInt8, dnssecOK: Bool, cookie: Bool)? = nil) throws -> [UInt8] {
        var m: [UInt8] = []
        func u16(_ v: UInt16) { m.append(UInt8(v >> 8)); m.append(UInt8(v & 0xFF)) }
        u16(id); u16(0x0100); u16(qdcount); u16(0); u16(0); u16(edns == nil ? 0 : 1)
        m += try DNSName(name).wire
        u16(type); u16(1)
        if let e = edns {
            m.append(0); u16(41); u16(e.payload); m.append(0); m.append(e.version)
            u16(e.dnssecOK ? 0x8000 : 0)
            if e.cookie {
                u16(12); u16(10); u16(8); m += [1, 2, 3, 4, 5, 6, 7, 8]  // RFC 7873 client cookie
            } else {
                u16(0)
            }
        }
        return m
    }

    /// A query with opcode 15 and RD, AD, CD set.
    static func notImplemented() throws -> [UInt8] {
        var q = try query("www.example.", 1)
        q[2] |= 15 << 3
        q[3] |= 0x30
        return q
    }

    static func cases() throws -> [Case] {
        let plainEDNS = (payload: UInt16(1232), version: UInt8(0), dnssecOK: false, cookie: false)
        let doEDNS = (payload: UInt16(4096), version: UInt8(0), dnssecOK: true, cookie: true)
        return [
            Case(name: "hit A", query: try query("www.example.", 1), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (1, 0, 0)),
            Case(name: "hit AAAA, mixed case, EDNS DO + cookie", query: try query("WwW.ExAmPlE.", 28, edns: doEDNS),
                 transport: .udp, rcode: 0, aa: true, tc: false, counts: (1, 0, 1)),
            Case(name: "apex SOA", query: try query("example.", 6), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (1, 0, 0)),
            Case(name: "MX with additional", query: try query("example.", 15, edns: plainEDNS), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (1, 0, 2)),
            Case(name: "ANY (RFC 8482)", query: try query("example.", 255), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (1, 0, 0)),
            Case(name: "NXDOMAIN", query: try query("q7zk2m9x.example.", 1), transport: .udp,
                 rcode: 3, aa: true, tc: false, counts: (0, 1, 0)),
            Case(name: "NXDOMAIN, EDNS", query: try query("deep.q7zk2m9x.example.", 28, edns: plainEDNS),
                 transport: .udp, rcode: 3, aa: true, tc: false, counts: (0, 1, 1)),
            Case(name: "NODATA", query: try query("www.example.", 15), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (0, 1, 0)),
            Case(name: "empty non-terminal", query: try query("b.c.ent.example.", 1), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (0, 1, 0)),
            Case(name: "referral with glue", query: try query("www.sub.example.", 1), transport: .udp,
                 rcode: 0, aa: false, tc: false, counts: (0, 2, 2)),
            Case(name: "referral: optional glue kept, required glue taken back, TC (RFC 9471)",
                 query: try query("www.dl.example.", 1), transport: .udp,
                 rcode: 0, aa: false, tc: true, counts: (0, 2, 1)),
            Case(name: "HTTPS AliasMode: target's addresses and HTTPS (RFC 9460)", query: try query("svca.example.", 65),
                 transport: .udp, rcode: 0, aa: true, tc: false, counts: (1, 0, 2)),
            Case(name: "HTTPS ServiceMode \".\": the owner's addresses", query: try query("svc.example.", 65),
                 transport: .udp, rcode: 0, aa: true, tc: false, counts: (1, 0, 1)),
            Case(name: "NOTIMP: unknown opcode", query: try notImplemented(), transport: .udp,
                 rcode: 4, aa: false, tc: false, counts: (0, 0, 0)),
            Case(name: "wildcard", query: try query("x42.wild.example.", 1), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (1, 0, 0)),
            Case(name: "wildcard TXT", query: try query("a.b.wild.example.", 16), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (1, 0, 0)),
            Case(name: "CNAME chain", query: try query("chain.example.", 1), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (3, 0, 0)),
            Case(name: "CNAME to another held zone", query: try query("away.example.", 1), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (2, 0, 0)),
            Case(name: "DNAME (RFC 6672)", query: try query("www.dn.example.", 1), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (3, 0, 0)),
            Case(name: "TC: too large for 512", query: try query("big.example.", 16), transport: .udp,
                 rcode: 0, aa: true, tc: true, counts: (0, 0, 0)),
            Case(name: "TCP: the same, whole", query: try query("big.example.", 16), transport: .tcp,
                 rcode: 0, aa: true, tc: false, counts: (40, 0, 0)),
            // NSEC3 proofs (RFC 5155 §7.2): names and wildcards hashed per query.
            Case(name: "NSEC3 positive", query: try query("www.n3.test.", 1, edns: doEDNS), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (2, 0, 1)),
            Case(name: "NSEC3 NXDOMAIN", query: try query("a.b.q7zk2m9x.n3.test.", 1, edns: doEDNS), transport: .udp,
                 rcode: 3, aa: true, tc: false, counts: (0, 6, 1)),
            Case(name: "NSEC3 NODATA", query: try query("www.n3.test.", 16, edns: doEDNS), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (0, 4, 1)),
            Case(name: "NSEC3 empty non-terminal", query: try query("b.ent.n3.test.", 1, edns: doEDNS), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (0, 4, 1)),
            Case(name: "NSEC3 wildcard", query: try query("x.wild.n3.test.", 1, edns: doEDNS), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (1, 2, 1)),
            Case(name: "NSEC3 wildcard NODATA", query: try query("x.wild.n3.test.", 15, edns: doEDNS), transport: .udp,
                 rcode: 0, aa: true, tc: false, counts: (0, 8, 1)),
            // The apex's NSEC3 matches the apex and covers sub (wrapping past the end of the
            // chain): one NSEC3 proves both.
            Case(name: "NSEC3 opt-out referral", query: try query("x.sub.n3.test.", 1, edns: doEDNS), transport: .udp,
                 rcode: 0, aa: false, tc: false, counts: (0, 3, 2)),
            Case(name: "NSEC3 DS at an opt-out cut", query: try query("sub.n3.test.", 43, edns: doEDNS),
                 transport: .udp, rcode: 0, aa: true, tc: false, counts: (0, 4, 1)),
            Case(name: "REFUSED: not ours", query: try query("www.example.org.", 1), transport: .udp,
                 rcode: 5, aa: false, tc: false, counts: (0, 0, 0)),
            // AXFR/IXFR and TSIG-signed messages leave this path (SlowPath.swift; SlowPathTests).
            Case(name: "FORMERR: QDCOUNT 2", query: try query("www.example.", 1, qdcount: 2), transport: .udp,
                 rcode: 1, aa: false, tc: false, counts: (0, 0, 0)),
            Case(name: "BADVERS", query: try query("www.example.", 1, edns: (1232, 1, false, false)),
                 transport: .udp, rcode: 0, aa: false, tc: false, counts: (0, 0, 1)),
        ]
    }

    func u16(_ b: UnsafeMutableRawBufferPointer, at i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }

    /// Counters for every responder here, sampling 1 in 2 queries.
    static let countingHub: OpsHub = {
        var settings = CountingSettings()
        settings.sampleEvery = 2
        settings.ringCapacity = 1 << 14  // (when full, samples are counted as lost: no allocation either)
        return OpsHub(settings: settings)
    }()

    /// A zone read and checked from `text`, as the server loads a zone file.
    static func zone(_ origin: String, _ text: String) throws -> Zone {
        let name = try DNSName(origin)
        let parsed = try ZoneFileReader(origin: name).readChecked(text: text, fileName: "<\(origin)>")
        return try Zone(origin: name, records: parsed.records)
    }

    /// The client every test query comes from.
    static let client = ClientAddress("192.0.2.1")!

    func makeResponder(defences: DefenceSettings = DefenceSettings()) throws -> QueryResponder {
        var zones: [Zone] = []
        for (origin, text) in [("example.", Self.zoneText), ("other.net.", Self.otherText), ("n3.test.", Self.nsec3Text)] {
            zones.append(try Self.zone(origin, text))
        }
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        // With a slow path configured (a keyring, a transfer handler would register): plain
        // queries must not take it, nor pay for it.
        // Counting on too, sampling every query: the contract holds with both.
        return QueryResponder(store: ZoneStore(ZoneSet(zones: zones)), defences: defences,
                              slowPath: SlowPathRouter(), logger: quiet, observer: Self.countingHub.makeWorker(.udp))
    }

    func testInterpositionWorks() {
        XCTAssertEqual(cmc_interposed(), 1, "malloc is not the counting one: the allocation test would see nothing")
        cmc_start()
        let array = [Int](repeating: 7, count: 1000)
        let counts = cmc_stop()
        XCTAssertEqual(array.count, 1000)
        XCTAssertGreaterThanOrEqual(counts.allocations, 1, "an array allocation was not counted")
    }

    /// Every case answers as expected (so the zero below is about real answers).
    func testCasesAnswerAsExpected() throws {
        let responder = try makeResponder()
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 65535, alignment: 16)
        defer { out.deallocate() }
        for c in try Self.cases() {
            let n = c.query.withUnsafeBytes { responder.respond(to: $0, transport: c.transport, client: Self.client, into: out) }
            XCTAssertGreaterThanOrEqual(n, 12, c.name)
            guard n >= 12 else { continue }
            let flags = u16(out, at: 2)
            XCTAssertEqual(flags & 0xF, c.rcode & 0xF, "\(c.name): rcode")
            XCTAssertEqual(flags & HeaderFlags.aa != 0, c.aa, "\(c.name): AA")
            XCTAssertEqual(flags & HeaderFlags.tc != 0, c.tc, "\(c.name): TC")
            XCTAssertGreaterThanOrEqual(Int(u16(out, at: 6)), c.counts.an, "\(c.name): answer count")
            XCTAssertGreaterThanOrEqual(Int(u16(out, at: 8)), c.counts.ns, "\(c.name): authority count")
            XCTAssertGreaterThanOrEqual(Int(u16(out, at: 10)), c.counts.ar, "\(c.name): additional count")
            if c.transport == .udp { XCTAssertLessThanOrEqual(n, 4096, c.name) }
        }
    }

    /// The contract: zero mallocs and zero frees per query after warm-up.
    func testSteadyStateQueryPathAllocatesNothing() throws {
        try assertNoAllocations(try makeResponder(), cases: try Self.cases())
    }

    /// The same with every defence on: an access list the client passes, cookies (a
    /// client cookie only, and a valid server cookie), rate limiting that never limits,
    /// and rate limiting that limits everything (drops and slips).
    func testSteadyStateWithDefencesAllocatesNothing() throws {
        var d = DefenceSettings()
        d.queryACL = AccessList(allow: [try AddressPrefix(parsing: "192.0.2.0/24")],
                                deny: [try AddressPrefix(parsing: "198.51.100.0/24")])
        let secret = CookieSecret(hex: "e5e973e5a6b2a43f48e7dc849e37bfcf")!
        d.cookies.secret = secret
        d.cookies.rotateSeconds = 0
        var rrl = RateLimitSettings()
        rrl.responsesPerSecond = 1_000_000
        rrl.exempt = [try AddressPrefix(parsing: "203.0.113.0/24")]
        d.rateLimit = rrl
        // A query with a valid server cookie for this client, made now.
        var withServerCookie = try Self.query("www.example.", 1, edns: (1232, 0, false, true))
        let cookieAt = withServerCookie.count - 8
        withServerCookie[withServerCookie.count - 13] = 28  // OPT RDLEN: 4 + 24
        withServerCookie[withServerCookie.count - 9] = 24   // COOKIE length
        withServerCookie += [UInt8](repeating: 0, count: 16)
        withServerCookie.withUnsafeMutableBytes { b in
            ServerCookies(secret: secret, rotateSeconds: 0).write(
                clientCookie: b.baseAddress! + cookieAt, client: Self.client,
                now: UInt32(Date().timeIntervalSince1970), into: b.baseAddress! + cookieAt + 8)
        }
        var cases = try Self.cases()
        cases.append(Case(name: "valid server cookie", query: withServerCookie, transport: .udp,
                          rcode: 0, aa: true, tc: false, counts: (1, 0, 1)))
        let responder = try makeResponder(defences: d)
        try assertNoAllocations(responder, cases: cases)
        // Check the cookie was indeed judged valid: the answer carries a renewed one.
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 65535, alignment: 16)
        defer { out.deallocate() }
        let n = withServerCookie.withUnsafeBytes { responder.respond(to: $0, transport: .udp, client: Self.client, into: out) }
        XCTAssertEqual(u16(out, at: 6), 1)
        XCTAssertEqual(u16(out, at: n - 2 - 24), 24, "COOKIE option with a server cookie")

        d.rateLimit!.responsesPerSecond = 1
        let limiting = try makeResponder(defences: d)
        try assertNoAllocations(limiting, cases: cases, answersExpected: false)
        XCTAssertGreaterThan(limiting.rateLimiter!.limitedCount, 1000)
        XCTAssertGreaterThan(limiting.rateLimiter!.slippedCount, 500)
    }

    func assertNoAllocations(_ responder: QueryResponder, cases: [Case], answersExpected: Bool = true,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        // The queries in one raw block, so the loop touches no Swift array.
        let total = cases.reduce(0) { $0 + $1.query.count }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 16)
        defer { block.deallocate() }
        let spans = UnsafeMutableBufferPointer<(Int, Int, Transport)>.allocate(capacity: cases.count)
        defer { spans.deallocate() }
        var at = 0
        for (i, c) in cases.enumerated() {
            c.query.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: block[at..<(at + c.query.count)]).copyMemory(from: $0) }
            spans[i] = (at, c.query.count, c.transport)
            at += c.query.count
        }
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 65535, alignment: 16)
        defer { out.deallocate() }

        func run(_ rounds: Int) -> Int {
            var bytes = 0
            for r in 0..<rounds {
                let (start, count, transport) = spans[r % spans.count]
                let q = UnsafeRawBufferPointer(rebasing: block[start..<(start + count)])
                bytes &+= responder.respond(to: q, transport: transport, client: Self.client, into: out)
            }
            return bytes
        }
        _ = run(cases.count * 3)  // warm-up: scratch buffers and the compression table grow once

        let rounds = 10_000
        cmc_start()
        let bytes = run(rounds)
        let counts = cmc_stop()
        if answersExpected { XCTAssertGreaterThan(bytes, rounds * 12) }
        XCTAssertEqual(counts.allocations, 0, "\(counts.allocations) allocations (\(counts.bytes) bytes) in \(rounds) queries")
        XCTAssertEqual(counts.frees, 0, "\(counts.frees) frees in \(rounds) queries")

        // Each case alone, so a failure names the culprit.
        for (i, c) in cases.enumerated() {
            let (start, count, transport) = spans[i]
            let q = UnsafeRawBufferPointer(rebasing: block[start..<(start + count)])
            cmc_start()
            for _ in 0..<100 { _ = responder.respond(to: q, transport: transport, client: Self.client, into: out) }
            let n = cmc_stop()
            if n.allocations > 0 && ProcessInfo.processInfo.environment["BULWARK_TRACE_ALLOCATIONS"] != nil {
                cmc_trace(1); cmc_start()
                _ = responder.respond(to: q, transport: transport, client: Self.client, into: out)
                _ = cmc_stop(); cmc_trace(0)
            }
            XCTAssertEqual(n.allocations, 0, "\(c.name): \(n.allocations) allocations per 100 queries")
            XCTAssertEqual(n.frees, 0, "\(c.name): \(n.frees) frees per 100 queries")
        }
    }

    /// A reload swaps the zone set: the first query after it may retain the new set, but
    /// allocates nothing once the new set has been seen.
    func testAfterReloadStillAllocatesNothing() throws {
        let query = try Self.query("www.example.", 1)
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 65535, alignment: 16)
        defer { out.deallocate() }
        let store = ZoneStore(ZoneSet(zones: [try Self.zone("example.", Self.zoneText)]))
        let r = QueryResponder(store: store, observer: Self.countingHub.makeWorker(.udp))
        _ = query.withUnsafeBytes { r.respond(to: $0, transport: .udp, client: Self.client, into: out) }
        store.replace(with: ZoneSet(zones: [try Self.zone("example.", Self.zoneText)]))
        query.withUnsafeBytes { q in
            for _ in 0..<3 { _ = r.respond(to: q, transport: .udp, client: Self.client, into: out) }
            cmc_start()
            for _ in 0..<1000 { _ = r.respond(to: q, transport: .udp, client: Self.client, into: out) }
            let n = cmc_stop()
            XCTAssertEqual(n.allocations, 0, "\(n.allocations) allocations per 1000 queries after a reload")
        }
    }
}
