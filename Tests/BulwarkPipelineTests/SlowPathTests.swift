import BulwarkDefences
import BulwarkTestSupport
import BulwarkTransfer
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
import Logging
import XCTest
@testable import BulwarkPipeline

/// Messages that leave the fast path: TSIG-signed queries, transfers, NOTIFY.
final class SlowPathTests: XCTestCase {
    let key = try! TSIGKey(name: "k", algorithm: "hmac-sha256", secret: "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=")
    let client = ClientAddress("192.0.2.1")!

    func responder(_ router: SlowPathRouter) throws -> QueryResponder {
        try Self.exampleResponder(router)
    }

    /// A responder for zone `example.` (SOA, NS, ns1, www) with `router` and `defences`.
    static func exampleResponder(_ router: SlowPathRouter, defences: DefenceSettings = DefenceSettings()) throws
        -> QueryResponder {
        let text = """
        $ORIGIN example.
        $TTL 300
        @ IN SOA ns1.example. admin.example. 1 3600 600 86400 300
        @ IN NS ns1.example.
        ns1 IN A 192.0.2.53
        www IN A 192.0.2.80
        """
        let origin = try DNSName("example.")
        let zone = try Zone(origin: origin, records: try ZoneFileReader(origin: origin).read(text: text).records)
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        return QueryResponder(store: ZoneStore(ZoneSet(zones: [zone])), defences: defences, slowPath: router,
                              logger: quiet)
    }

    func ask(_ r: QueryResponder, _ message: [UInt8], transport: Transport = .udp) -> [UInt8] {
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 65535, alignment: 16)
        defer { out.deallocate() }
        let n = message.withUnsafeBytes { r.respond(to: $0, transport: transport, client: client, into: out) }
        return n > 0 ? Array(out[0..<n]) : []
    }

    func query(_ name: String, _ type: RRType, opcode: Opcode = .query) throws -> [UInt8] {
        MessageWriter(id: 0x4242, flags: UInt16(opcode.rawValue) << 11, question: (try DNSName(name), type, .in)).bytes
    }

    func testSignedQueryGetsSignedAnswer() throws {
        let r = try responder(SlowPathRouter(keyring: TSIGKeyring([key])))
        var (signed, verifier) = TSIGRequestSigner.sign(try query("www.example.", .a), key: key)
        let answer = ask(r, signed)
        XCTAssertEqual(answer[3] & 0x0F, 0)
        XCTAssertEqual(answer[7], 1)  // the A record
        XCTAssertNoThrow(try verifier.verify(answer))
        XCTAssertNoThrow(try verifier.finish())
    }

    func testSignedAnswerCarriesTheServerCookieInsideTheMAC() throws {
        let r = try responder(SlowPathRouter(keyring: TSIGKeyring([key])))
        let clientCookie: [UInt8] = [0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57]
        let query = TestClient.ednsQuery("www.example.", id: 0x4243, options: [(EDNSOption.cookie, clientCookie)])
        var (signed, verifier) = TSIGRequestSigner.sign(query, key: key)
        let answer = ask(r, signed)
        XCTAssertNoThrow(try verifier.verify(answer))
        XCTAssertEqual(answer[7], 1)  // the A record
        // The COOKIE option (10): our client cookie echoed, then a 16-octet server cookie.
        let at = try XCTUnwrap(Self.find([0, 10, 0, 24] + clientCookie, in: answer))
        XCTAssertEqual(answer[at + 12], 1)  // RFC 9018 version
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    func testUnknownKeyAndBadSecretAreRefusedWithTSIGErrors() throws {
        let other = try TSIGKey(name: "k", algorithm: "hmac-sha256", secret: "c2VjcmV0LW5vdC10aGUtc2FtZQ==")
        let r = try responder(SlowPathRouter(keyring: TSIGKeyring([other])))
        var (signed, verifier) = TSIGRequestSigner.sign(try query("www.example.", .a), key: key)
        let answer = ask(r, signed)
        XCTAssertEqual(answer[3] & 0x0F, 9)  // NOTAUTH
        XCTAssertThrowsError(try verifier.verify(answer)) { XCTAssertEqual($0 as? TSIGFailure, .peer(.badSig, rcode: 9)) }
        let r2 = try responder(SlowPathRouter())
        (signed, verifier) = TSIGRequestSigner.sign(try query("www.example.", .a), key: key)
        XCTAssertThrowsError(try verifier.verify(ask(r2, signed))) { XCTAssertEqual($0 as? TSIGFailure, .peer(.badKey, rcode: 9)) }
    }

    final class Recorder: SlowPathHandler, @unchecked Sendable {
        var seen: [(SlowPathKind, TSIGKey?)] = []
        func handle(_ request: SlowPathRequest) -> SlowPathReply {
            seen.append((request.kind, request.key))
            guard request.kind == .notify else { return .notHandled }
            var m = MessageWriter(id: request.query!.id, flags: HeaderFlags.qr | HeaderFlags.aa | (4 << 11),
                                  question: (request.qname!, request.query!.qtype, .in)).bytes
            if case .verified(var s) = request.tsig { m = s.sign(m) }
            return .message(m)
        }
    }

    func testHandlersReceiveTheirKindsWithTheVerifiedKey() throws {
        let router = SlowPathRouter(keyring: TSIGKeyring([key]))
        let recorder = Recorder()
        router.register(recorder, for: [.notify, .transfer])
        let r = try responder(router)
        var (notify, verifier) = TSIGRequestSigner.sign(try query("example.", .soa, opcode: .notify), key: key)
        let answer = ask(r, notify)
        XCTAssertEqual((answer[2] >> 3) & 0xF, 4)
        XCTAssertNoThrow(try verifier.verify(answer))
        // Without a handler's answer, AXFR over UDP gets what the fast path says (NOTIMP).
        let axfr = ask(r, try query("example.", .axfr))
        XCTAssertEqual(axfr[3] & 0x0F, 4)
        XCTAssertEqual(recorder.seen.map(\.0), [.notify, .transfer])
        XCTAssertEqual(recorder.seen[0].1, key)
        XCTAssertNil(recorder.seen[1].1)
        // A plain query never reaches the slow path; an unsigned NOTIFY without a handler is NOTIMP.
        _ = ask(r, try query("www.example.", .a))
        XCTAssertEqual(recorder.seen.count, 2)
        XCTAssertEqual(ask(try responder(SlowPathRouter()), try query("example.", .soa, opcode: .notify))[3] & 0x0F, 4)
    }
}
