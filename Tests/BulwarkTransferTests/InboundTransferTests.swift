import BulwarkWire
import BulwarkZone
import XCTest
@testable import BulwarkTransfer

/// Transfers in: serial arithmetic, the AXFR/IXFR record sequences, applying IXFR
/// differences, and parsing response messages.
final class InboundTransferTests: XCTestCase {
    let origin = try! DNSName("example.")

    func soa(_ serial: UInt32) -> ResourceRecord {
        var w = WireWriter()
        w.writeName(try! DNSName("ns1.example."))
        w.writeName(try! DNSName("admin.example."))
        for v in [serial, 3600, 600, 86400, 300] { w.writeU32(v) }
        return ResourceRecord(owner: origin, type: .soa, ttl: 3600, rdata: w.bytes)
    }

    func a(_ name: String, _ last: UInt8, ttl: UInt32 = 300) -> ResourceRecord {
        ResourceRecord(owner: try! DNSName(name + ".example."), type: .a, ttl: ttl, rdata: [192, 0, 2, last])
    }

    func ns() -> ResourceRecord {
        ResourceRecord(owner: origin, type: .ns, ttl: 3600, rdata: try! DNSName("ns1.example.").wire)
    }

    // MARK: RFC 1982

    func testSerialArithmetic() {
        XCTAssertEqual(SerialArithmetic.compare(1, 2), .less)
        XCTAssertEqual(SerialArithmetic.compare(2, 1), .greater)
        XCTAssertEqual(SerialArithmetic.compare(5, 5), .equal)
        // Wrap-around: 0xFFFFFFFF + 1 = 0 is newer.
        XCTAssertTrue(SerialArithmetic.isNewer(0, than: 0xFFFF_FFFF))
        XCTAssertTrue(SerialArithmetic.isNewer(10, than: 0xFFFF_FFF0))
        XCTAssertFalse(SerialArithmetic.isNewer(0xFFFF_FFF0, than: 10))
        // RFC 1982 §3.2: exactly 2^31 apart is undefined (never "newer").
        XCTAssertEqual(SerialArithmetic.compare(0, 0x8000_0000), .undefined)
        XCTAssertFalse(SerialArithmetic.isNewer(0x8000_0000, than: 0))
        XCTAssertTrue(SerialArithmetic.isNewer(0x7FFF_FFFF, than: 0))
        XCTAssertEqual(SerialArithmetic.add(0xFFFF_FFFF, 2), 1)
    }

    // MARK: AXFR (RFC 5936 §2.2)

    func testAXFRAcrossMessages() throws {
        var s = TransferSequence(zone: origin, kind: .axfr)
        try s.consume([soa(7), ns()])
        XCTAssertFalse(s.isComplete)
        try s.consume([a("www", 1)])
        try s.consume([a("mail", 2), soa(7)])
        XCTAssertTrue(s.isComplete)
        guard case .full(let first, let records)? = s.outcome else { return XCTFail("not full") }
        XCTAssertEqual(try SOAFields(record: first).serial, 7)
        XCTAssertEqual(records.count, 4)
    }

    func testAXFRRejects() {
        func fails(_ msgs: [[ResourceRecord]], _ why: String) {
            var s = TransferSequence(zone: origin, kind: .axfr)
            XCTAssertThrowsError(try { for m in msgs { try s.consume(m) } }(), why)
        }
        fails([[ns(), soa(1)]], "first record not SOA")
        fails([[soa(1), ns(), soa(2)]], "closing serial differs")
        fails([[soa(1), soa(1), ns()]], "records after the closing SOA")
        fails([[soa(1), ResourceRecord(owner: try! DNSName("www.example.com."), type: .a, ttl: 1, rdata: [1, 2, 3, 4])]], "out of zone")
        var bad = soa(1)
        bad.owner = try! DNSName("www.example.")
        fails([[bad]], "SOA not at the apex")
        fails([[ResourceRecord(owner: origin, type: .soa, ttl: 1, rdata: [0, 0])]], "bad SOA rdata")
    }

    // MARK: IXFR (RFC 1995 §4)

    func testIXFRUpToDate() throws {
        var s = TransferSequence(zone: origin, kind: .ixfr(currentSerial: 5))
        try s.consume([soa(5)])
        guard case .upToDate? = s.outcome else { return XCTFail("expected up to date") }
        // An older serial alone is "up to date" too (nothing newer to take).
        var t = TransferSequence(zone: origin, kind: .ixfr(currentSerial: 5))
        try t.consume([soa(4)])
        guard case .upToDate? = t.outcome else { return XCTFail("expected up to date") }
    }

    func testIXFRIncrementalChained() throws {
        var s = TransferSequence(zone: origin, kind: .ixfr(currentSerial: 1))
        try s.consume([soa(3), soa(1), a("www", 1), soa(2), a("www", 2)])
        try s.consume([soa(2), a("old", 9), soa(3), a("new", 3), soa(3)])
        guard case .incremental(let final, let deltas)? = s.outcome else { return XCTFail("not incremental") }
        XCTAssertEqual(try SOAFields(record: final).serial, 3)
        XCTAssertEqual(deltas.count, 2)
        XCTAssertEqual(deltas[0].deleted, [a("www", 1)])
        XCTAssertEqual(deltas[0].added, [a("www", 2)])
        XCTAssertEqual(deltas[1].deleted, [a("old", 9)])

        let zone = try Zone(origin: origin, records: [soa(1), ns(), a("www", 1), a("old", 9), a("keep", 5)])
        let next = try ZoneDeltaApplier.apply(deltas, to: zone)
        XCTAssertEqual(next.serial, 3)
        XCTAssertEqual(Set(next.records), Set([soa(3), ns(), a("www", 2), a("keep", 5), a("new", 3)]))
    }

    func testIXFRAXFRStyle() throws {
        var s = TransferSequence(zone: origin, kind: .ixfr(currentSerial: 1))
        try s.consume([soa(9), ns(), a("www", 1), soa(9)])
        guard case .full(_, let records)? = s.outcome else { return XCTFail("not full") }
        XCTAssertEqual(records.count, 3)
    }

    func testIXFRRejectsBrokenChains() {
        func fails(_ current: UInt32, _ rrs: [ResourceRecord], _ why: String) {
            var s = TransferSequence(zone: origin, kind: .ixfr(currentSerial: current))
            XCTAssertThrowsError(try s.consume(rrs), why)
        }
        fails(1, [soa(3), soa(2), a("x", 1), soa(3), soa(3)], "starts at a serial that is neither ours nor the new one")
        fails(1, [soa(3), soa(1), soa(2), soa(5), soa(3), soa(3)], "second sequence does not start at the first's end")
        fails(1, [soa(3), soa(1), soa(0), soa(3)], "sequence goes backwards")
        fails(1, [soa(3), soa(1), soa(3), soa(3), a("x", 1)], "records after the closing SOA")
    }

    func testApplyRefusesMissingDeletion() throws {
        let zone = try Zone(origin: origin, records: [soa(1), ns(), a("www", 1)])
        let delta = ZoneDelta(fromSOA: soa(1), toSOA: soa(2), deleted: [a("www", 7)], added: [])
        XCTAssertThrowsError(try ZoneDeltaApplier.apply([delta], to: zone)) { e in
            XCTAssertEqual((e as? TransferError)?.kind, .inconsistent)
        }
        let wrongStart = ZoneDelta(fromSOA: soa(4), toSOA: soa(5), deleted: [], added: [])
        XCTAssertThrowsError(try ZoneDeltaApplier.apply([wrongStart], to: zone))
        // A deletion matches whatever TTL we hold and ignores case in names.
        var upper = a("WWW", 1, ttl: 99)
        upper.owner = try DNSName("WWW.Example.")
        let ok = ZoneDelta(fromSOA: soa(1), toSOA: soa(2), deleted: [upper], added: [])
        let next = try ZoneDeltaApplier.apply([ok], to: zone)
        XCTAssertEqual(Set(next.records), Set([soa(2), ns()]))
    }

    // MARK: Messages

    func response(id: UInt16, flags: UInt16 = 0x8400, qtype: RRType, answers: [ResourceRecord], question: Bool = true) -> [UInt8] {
        var w = WireWriter()
        w.writeU16(id); w.writeU16(flags); w.writeU16(question ? 1 : 0); w.writeU16(UInt16(answers.count)); w.writeU16(0); w.writeU16(0)
        if question { w.writeName(origin); w.writeU16(qtype.rawValue); w.writeU16(1) }
        for r in answers {
            w.writeName(r.owner); w.writeU16(r.type.rawValue); w.writeU16(r.rrClass.rawValue); w.writeU32(r.ttl)
            w.writeU16(UInt16(r.rdata.count)); w.writeBytes(r.rdata)
        }
        return w.bytes
    }

    func testResponseParsing() throws {
        let m = response(id: 42, qtype: .axfr, answers: [soa(1), a("www", 1)])
        let r = try TransferResponse(parsing: m, id: 42, zone: origin, qtype: .axfr, first: true)
        XCTAssertEqual(r.answers.count, 2)
        XCTAssertTrue(r.authoritative)
        // Wrong ID, no QR, TC, a missing question on the first message, trailing junk.
        XCTAssertThrowsError(try TransferResponse(parsing: m, id: 43, zone: origin, qtype: .axfr, first: true))
        XCTAssertThrowsError(try TransferResponse(parsing: response(id: 42, flags: 0x0400, qtype: .axfr, answers: []), id: 42, zone: origin, qtype: .axfr, first: true))
        XCTAssertThrowsError(try TransferResponse(parsing: response(id: 42, flags: 0x8600, qtype: .axfr, answers: []), id: 42, zone: origin, qtype: .axfr, first: true))
        let noQ = response(id: 42, qtype: .axfr, answers: [a("www", 1)], question: false)
        XCTAssertThrowsError(try TransferResponse(parsing: noQ, id: 42, zone: origin, qtype: .axfr, first: true))
        XCTAssertNoThrow(try TransferResponse(parsing: noQ, id: 42, zone: origin, qtype: .axfr, first: false))
        XCTAssertThrowsError(try TransferResponse(parsing: m + [0], id: 42, zone: origin, qtype: .axfr, first: true))
        XCTAssertThrowsError(try TransferResponse(parsing: Array(m.dropLast(2)), id: 42, zone: origin, qtype: .axfr, first: true))
        // Another question, a meta type in the answer, a class other than IN.
        XCTAssertThrowsError(try TransferResponse(parsing: m, id: 42, zone: origin, qtype: .ixfr, first: true))
        var opt = a("www", 1); opt.type = .opt
        XCTAssertThrowsError(try TransferResponse(parsing: response(id: 1, qtype: .axfr, answers: [opt]), id: 1, zone: origin, qtype: .axfr, first: true))
        var ch = a("www", 1); ch.rrClass = .ch
        XCTAssertThrowsError(try TransferResponse(parsing: response(id: 1, qtype: .axfr, answers: [ch]), id: 1, zone: origin, qtype: .axfr, first: true))
        // Bad A rdata length.
        var bad = a("www", 1); bad.rdata = [1, 2, 3]
        XCTAssertThrowsError(try TransferResponse(parsing: response(id: 1, qtype: .axfr, answers: [bad]), id: 1, zone: origin, qtype: .axfr, first: true))
    }

    func testIXFRQueryCarriesOurSOA() throws {
        let q = TransferQuery.make(id: 7, zone: origin, qtype: .ixfr, ixfrSOA: soa(5))
        XCTAssertEqual(Array(q[4..<12]), [0, 1, 0, 0, 0, 1, 0, 0])  // QD 1, NS 1 (RFC 1995 §3)
        XCTAssertEqual(Array(q.suffix(20)), Array(soa(5).rdata.suffix(20)))
    }

    /// A scripted stream: answers the query with prepared messages.
    final class ScriptedStream: DNSMessageStream {
        var replies: [([UInt8]) -> [UInt8]]
        var sent: [[UInt8]] = []
        init(_ replies: [([UInt8]) -> [UInt8]]) { self.replies = replies }
        func send(_ message: [UInt8]) throws(TransferError) { sent.append(message) }
        func receive() throws(TransferError) -> [UInt8] {
            guard !replies.isEmpty else { throw TransferError(.closed, "closed") }
            return replies.removeFirst()(sent.last!)
        }
    }

    func testClientLimitsAndErrors() throws {
        func idOf(_ q: [UInt8]) -> UInt16 { UInt16(q[0]) << 8 | UInt16(q[1]) }
        let big = (0..<200).map { a("h\($0)", UInt8($0 % 250)) }
        let stream = ScriptedStream([
            { self.response(id: idOf($0), qtype: .axfr, answers: [self.soa(1)] + big) },
            { self.response(id: idOf($0), qtype: .axfr, answers: big, question: false) },
        ])
        let client = TransferClient(zone: origin, maxTransferSize: 5000)
        XCTAssertThrowsError(try client.transfer(on: stream, ixfrFrom: nil)) { e in
            XCTAssertEqual((e as? TransferError)?.kind, .oversized)
        }
        // The connection ends before the closing SOA.
        let cut = ScriptedStream([{ self.response(id: idOf($0), qtype: .axfr, answers: [self.soa(1), self.ns()]) }])
        XCTAssertThrowsError(try TransferClient(zone: origin, maxTransferSize: 1 << 20).transfer(on: cut, ixfrFrom: nil)) { e in
            XCTAssertEqual((e as? TransferError)?.kind, .closed)
        }
        // NOTAUTH from the primary.
        let refused = ScriptedStream([{ self.response(id: idOf($0), flags: 0x8009, qtype: .axfr, answers: []) }])
        XCTAssertThrowsError(try TransferClient(zone: origin, maxTransferSize: 1 << 20).transfer(on: refused, ixfrFrom: nil)) { e in
            XCTAssertEqual((e as? TransferError)?.rcode, .notAuth)
        }
        // A complete AXFR.
        let good = ScriptedStream([{ self.response(id: idOf($0), qtype: .axfr, answers: [self.soa(1), self.ns(), self.soa(1)]) }])
        guard case .full(_, let records) = try TransferClient(zone: origin, maxTransferSize: 1 << 20).transfer(on: good, ixfrFrom: nil) else {
            return XCTFail("not full")
        }
        XCTAssertEqual(records.count, 2)
    }
}

final class NotifyMessageTests: XCTestCase {
    func testParseAndAnswer() throws {
        let zone = try DNSName("example.")
        var w = WireWriter()
        w.writeU16(0xBEEF); w.writeU16(0x2000 | 0x0400)  // opcode 4, AA
        w.writeU16(1); w.writeU16(1); w.writeU16(0); w.writeU16(0)
        w.writeName(zone); w.writeU16(6); w.writeU16(1)
        w.writeBytes([0xC0, 12]); w.writeU16(6); w.writeU16(1); w.writeU32(60)
        var soa = WireWriter()
        soa.writeName(try DNSName("ns.example.")); soa.writeName(try DNSName("h.example."))
        for v: UInt32 in [2026, 1, 2, 3, 4] { soa.writeU32(v) }
        w.writeU16(UInt16(soa.bytes.count)); w.writeBytes(soa.bytes)
        let n = try NotifyRequest(parsing: w.bytes)
        XCTAssertEqual(n.zone, zone)
        XCTAssertEqual(n.serial, 2026)
        let r = n.response(rcode: .noError)
        XCTAssertEqual(Array(r[0..<4]), [0xBE, 0xEF, 0xA4, 0x00])  // QR, opcode 4, AA, NOERROR
        XCTAssertEqual(Array(r[4..<6]), [0, 1])
        XCTAssertEqual(Array(r[12...]), zone.wire + [0, 6, 0, 1])
        XCTAssertEqual(n.response(rcode: .refused)[3] & 0xF, 5)
        // Not a NOTIFY, a response, two questions, truncated.
        var q = w.bytes; q[2] = 0x00
        XCTAssertThrowsError(try NotifyRequest(parsing: q))
        q = w.bytes; q[2] |= 0x80
        XCTAssertThrowsError(try NotifyRequest(parsing: q))
        q = w.bytes; q[5] = 2
        XCTAssertThrowsError(try NotifyRequest(parsing: q))
        XCTAssertThrowsError(try NotifyRequest(parsing: Array(w.bytes.dropLast(3))))
        XCTAssertEqual(NotifyRequest.headerOnlyResponse(to: w.bytes, rcode: .formErr)?[3], 0x01)
    }
}

final class TSIGTransferAuthenticatorTests: XCTestCase {
    func testChainedVerificationAndFailures() throws {
        let key = try TSIGKey(name: "xfr-key", algorithm: "hmac-sha256", secret: "YnVsd2Fyay1zZWNvbmRhcnktdGVzdC1rZXktMzJvY3Q=")
        let zone = try DNSName("example.")
        let query = TransferQuery.make(id: 9, zone: zone, qtype: .axfr)
        let auth = TSIGTransferAuthenticator(key: key)
        // The primary side verifies our request and signs three response messages.
        func exchange() throws -> (checker: any TransferResponseChecker, messages: [[UInt8]]) {
            let (signed, checker) = try auth.sign(query: query)
            guard case .verified(var signer) = TSIGServer.verify(request: signed, keyring: TSIGKeyring([key])) else {
                XCTFail("request not verified"); throw TransferError(.tsig, "")
            }
            var header = Array(query[0..<12]); header[2] |= 0x84
            let bodies = (0..<3).map { _ in header + Array(query[12...]) }
            return (checker, bodies.map { signer.sign($0) })
        }
        var (checker, messages) = try exchange()
        for m in messages { try checker.check(m) }
        try checker.finish()
        // A flipped MAC octet in the second message.
        (checker, messages) = try exchange()
        try checker.check(messages[0])
        var bad = messages[1]; bad[bad.count - 10] ^= 1
        XCTAssertThrowsError(try checker.check(bad)) { XCTAssertEqual(($0 as? TransferError)?.kind, .tsig) }
        // The last message unsigned.
        (checker, messages) = try exchange()
        try checker.check(messages[0])
        try checker.check(messages[1])
        var unsigned = Array(messages[2][..<(messages[2].count - TSIG.recordLength(key: key, otherData: 0))])
        unsigned[11] = 0
        try? checker.check(unsigned)
        XCTAssertThrowsError(try checker.finish())
        // A stale clock on our side: the responses are signed "now", we think it is an hour later.
        var late = TSIGTransferAuthenticator(key: key)
        late.now = { TSIG.now() + 3600 }
        let (signed, lateChecker) = try late.sign(query: query)
        guard case .verified(var signer) = TSIGServer.verify(request: signed, keyring: TSIGKeyring([key]), now: TSIG.now() + 3600) else {
            return XCTFail("request not verified")
        }
        var c = lateChecker
        var header = Array(query[0..<12]); header[2] |= 0x84
        XCTAssertThrowsError(try c.check(signer.sign(header + Array(query[12...]))))
    }
}
