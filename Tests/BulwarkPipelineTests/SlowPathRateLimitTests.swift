import BulwarkDefences
import BulwarkTransfer
import BulwarkWire
import XCTest
@testable import BulwarkPipeline

/// Response rate limiting covers what leaves the fast path too: a spoofed flood of
/// TSIG-signed queries, transfer requests or NOTIFY over UDP must not reflect one answer
/// per query.
final class SlowPathRateLimitTests: XCTestCase {
    let key = try! TSIGKey(name: "k", algorithm: "hmac-sha256", secret: "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=")
    let victim = ClientAddress("192.0.2.66")!
    let other = ClientAddress("198.51.100.7")!

    func responder(rate: Int, slip: Int) throws -> QueryResponder {
        var defences = DefenceSettings()
        var limit = RateLimitSettings()
        limit.responsesPerSecond = rate
        limit.slip = slip
        defences.rateLimit = limit
        return try SlowPathTests.exampleResponder(SlowPathRouter(keyring: TSIGKeyring([key])), defences: defences)
    }

    func ask(_ r: QueryResponder, _ message: [UInt8], from client: ClientAddress) -> [UInt8] {
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 65535, alignment: 16)
        defer { out.deallocate() }
        let n = message.withUnsafeBytes { r.respond(to: $0, transport: .udp, client: client, into: out) }
        return n > 0 ? Array(out[0..<n]) : []
    }

    func query(_ name: String, _ type: RRType, id: UInt16, opcode: Opcode = .query) throws -> [UInt8] {
        MessageWriter(id: id, flags: UInt16(opcode.rawValue) << 11, question: (try DNSName(name), type, .in)).bytes
    }

    /// Counts (full answers, TC=1 slips, nothing) over `count` copies of `make(id)`.
    func flood(_ r: QueryResponder, count: Int, from client: ClientAddress,
               _ make: (UInt16) throws -> [UInt8]) rethrows -> (full: Int, slipped: Int, dropped: Int) {
        var full = 0, slipped = 0, dropped = 0
        for i in 0..<count {
            let answer = ask(r, try make(UInt16(i + 1)), from: client)
            if answer.isEmpty {
                dropped += 1
            } else if answer[2] & 0x02 != 0 {
                slipped += 1
                XCTAssertEqual(Array(answer[6..<12]), [0, 0, 0, 0, 0, 0], "a slipped answer carries no records")
            } else {
                full += 1
            }
        }
        return (full, slipped, dropped)
    }

    func testSignedQueriesWithAnUnknownKeyAreLimited() throws {
        let r = try responder(rate: 10, slip: 2)
        let stranger = try TSIGKey(name: "stranger", algorithm: "hmac-sha256", secret: "c2VjcmV0LW5vdC10aGUtc2FtZQ==")
        let n = try flood(r, count: 200, from: victim) { id in
            TSIGRequestSigner.sign(try query("www.example.", .a, id: id), key: stranger).0
        }
        // 10 a second (one burst of 10 at most in this instant), the rest half slipped, half dropped.
        XCTAssertLessThanOrEqual(n.full, 12)
        XCTAssertGreaterThan(n.dropped, 80)
        XCTAssertGreaterThan(n.slipped, 80)
        // Another prefix is untouched: its first signed query is answered in full (BADKEY).
        let answer = ask(r, TSIGRequestSigner.sign(try query("www.example.", .a, id: 9), key: stranger).0, from: other)
        XCTAssertEqual(answer[3] & 0x0F, 9)  // NOTAUTH (RFC 8945 §5.2.1: BADKEY)
        XCTAssertEqual(answer[2] & 0x02, 0)
    }

    func testSignedQueriesWithTheKeyAreLimitedButStartSigned() throws {
        let r = try responder(rate: 5, slip: 1)
        var signedAnswers = 0
        var truncated = 0
        for i in 0..<50 {
            var (signed, verifier) = TSIGRequestSigner.sign(try query("www.example.", .a, id: UInt16(i + 1)), key: key)
            let answer = ask(r, signed, from: victim)
            XCTAssertFalse(answer.isEmpty, "slip 1 answers every limited query truncated")
            if answer[2] & 0x02 != 0 {
                truncated += 1
            } else {
                XCTAssertNoThrow(try verifier.verify(answer))
                signedAnswers += 1
            }
        }
        XCTAssertGreaterThanOrEqual(signedAnswers, 5)
        XCTAssertLessThanOrEqual(signedAnswers, 7)
        XCTAssertEqual(truncated, 50 - signedAnswers)
    }

    func testTransferRequestsOverUDPAreLimited() throws {
        let r = try responder(rate: 10, slip: 0)
        // AXFR over UDP is NOTIMP (RFC 5936 §4.2); IXFR over UDP is refused without
        // allow-transfer. Either way the flood gets at most the rate.
        for type in [RRType.axfr, .ixfr] {
            let n = try flood(r, count: 100, from: victim) { id in try query("example.", type, id: id) }
            XCTAssertLessThanOrEqual(n.full, 12, "\(type)")
            XCTAssertEqual(n.slipped, 0)
            XCTAssertGreaterThanOrEqual(n.dropped, 88)
        }
    }

    func testNotifyFloodIsLimited() throws {
        let r = try responder(rate: 10, slip: 0)
        let n = try flood(r, count: 100, from: victim) { id in try query("example.", .soa, id: id, opcode: .notify) }
        XCTAssertLessThanOrEqual(n.full, 12)
        XCTAssertGreaterThanOrEqual(n.dropped, 88)
    }
}
