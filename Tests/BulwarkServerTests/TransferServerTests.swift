import BulwarkConfig
import BulwarkTestSupport
import BulwarkTransfer
import BulwarkWire
import Foundation
import Logging
import XCTest
@testable import BulwarkServer
#if canImport(Glibc)
import Glibc
#endif

/// The server in-process as a primary: AXFR and IXFR over TCP (streamed, signed), the
/// journal written on reload, refusals; over real sockets on 127.0.0.1.
final class TransferServerTests: ServerTestCase {
    override class var directoryPrefix: String { "bulwark-xfr" }

    func zoneText(serial: Int, hosts: Int, www: String) -> String {
        Self.zoneText(serial: serial, www: www,
                      extra: (0..<hosts).map { "host\($0) IN TXT \"record number \($0) of the bulk\"\n" }.joined())
    }

    func start(serial: Int = 1, www: String = "192.0.2.1") async throws {
        try zoneText(serial: serial, hosts: 3000, www: www).write(toFile: dir + "/test.zone", atomically: true, encoding: .utf8)
        try await startSignedPrimary()
    }

    /// Sends `request` over a new connection and reads messages until the second SOA
    /// (or `limit` messages); verifies each with `verifier` when given.
    func transfer(_ request: [UInt8], verifier: TSIGResponseVerifier?, then extra: [UInt8]? = nil)
        -> (messages: [TestResponse], records: Int, soaCount: Int, extraAnswer: TestResponse?) {
        let fd = TestClient.tcpSocket(port: port, timeoutMS: 5000)
        defer { close(fd) }
        // The transfer and a plain query pipelined behind it: the query is answered after.
        TestClient.sendAll(TestClient.framed(request) + (extra.map(TestClient.framed) ?? []), fd: fd)
        var v = verifier
        var messages: [TestResponse] = []
        var records = 0, soas = 0
        while soas < 2, messages.count < 1000, let m = TestClient.readFramed(fd: fd) {
            messages.append(m)
            if v != nil { XCTAssertNoThrow(try v!.verify(m.bytes)) }
            records += m.ancount
            soas += m.answerTypes.filter { $0 == RRType.soa.rawValue }.count
            if m.rcode != 0 { break }
        }
        if v != nil && soas >= 2 { XCTAssertNoThrow(try v!.finish()) }
        let extraAnswer = extra != nil ? TestClient.readFramed(fd: fd) : nil
        return (messages, records, soas, extraAnswer)
    }

    func testSignedAXFRStreamsTheZoneThenAnswersThePipelinedQuery() async throws {
        try await start()
        let (request, verifier) = TSIGRequestSigner.sign(TestClient.query("test.", type: 252, id: 7), key: key)
        let r = transfer(request, verifier: verifier, then: TestClient.query("www.test.", id: 8))
        XCTAssertGreaterThan(r.messages.count, 1)  // ~150 kB: several messages
        XCTAssertEqual(r.soaCount, 2)
        XCTAssertEqual(r.records, 3000 + 4 + 1)  // every record, the SOA twice
        XCTAssertEqual(r.extraAnswer?.id, 8)
        XCTAssertEqual(r.extraAnswer?.answerRData.first, ipv4("192.0.2.1"))
    }

    func testUnsignedAXFRIsRefusedAndUnknownZoneIsNotAuth() async throws {
        try await start()
        let refused = transfer(TestClient.query("test.", type: 252), verifier: nil)
        XCTAssertEqual(refused.messages.first?.rcode, 5)
        let (request, verifier) = TSIGRequestSigner.sign(TestClient.query("other.", type: 252), key: key)
        let notAuth = transfer(request, verifier: nil)
        XCTAssertEqual(notAuth.messages.first?.rcode, 9)
        var v = verifier
        XCTAssertNoThrow(try v.verify(notAuth.messages.first!.bytes))  // the refusal is signed
    }

    func testReloadJournalsTheChangeAndIXFRSendsIt() async throws {
        try await start()
        try zoneText(serial: 2, hosts: 3000, www: "192.0.2.2").write(toFile: dir + "/test.zone", atomically: true, encoding: .utf8)
        server.reload()
        await server.replication.sync()
        let journal = try XCTUnwrap(server.replication.journal(for: try DNSName("test.")))
        XCTAssertEqual(journal.range?.first, 1)
        XCTAssertEqual(journal.range?.last, 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/data/journal/test.journal"))
        // IXFR from 1: SOA 2, SOA 1, www 192.0.2.1, SOA 2, www 192.0.2.2, SOA 2.
        var m = MessageWriter(id: 9, flags: 0, question: (try DNSName("test."), .ixfr, .in))
        m.append(ResourceRecord(owner: try DNSName("test."), type: .soa, ttl: 0,
                                rdata: [0, 0] + [0, 0, 0, 1] + [UInt8](repeating: 0, count: 16)), to: .authority)
        let (request, verifier) = TSIGRequestSigner.sign(m.bytes, key: key)
        let fd = TestClient.tcpSocket(port: port)
        defer { close(fd) }
        TestClient.sendAll(TestClient.framed(request), fd: fd)
        let answer = try XCTUnwrap(TestClient.readFramed(fd: fd))
        var v = verifier
        XCTAssertNoThrow(try v.verify(answer.bytes))
        XCTAssertEqual(answer.answerTypes, [6, 6, 1, 6, 1, 6])
        XCTAssertEqual(answer.answerRData[2], ipv4("192.0.2.1"))
        XCTAssertEqual(answer.answerRData[4], ipv4("192.0.2.2"))
    }
}
