import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
import Foundation
import XCTest
@testable import BulwarkTransfer

/// Zone differences, the journal, AXFR/IXFR streams and their messages.
final class TransferTests: XCTestCase {
    static func zone(serial: UInt32, body: String) throws -> Zone {
        let text = """
        $ORIGIN example.
        $TTL 300
        @ IN SOA ns1.example. admin.example. \(serial) 3600 600 86400 300
        @ IN NS ns1.example.
        ns1 IN A 192.0.2.53
        \(body)
        """
        let origin = try DNSName("example.")
        return try Zone(origin: origin, records: try ZoneFileReader(origin: origin).read(text: text).records)
    }

    /// Reads every record of a message (answer section), following compression pointers.
    static func answers(_ m: [UInt8]) throws -> [ResourceRecord] {
        try m.withUnsafeBytes { b in
            var r = WireReader(b, offset: 12)
            let qd = Int(b[4]) << 8 | Int(b[5]), an = Int(b[6]) << 8 | Int(b[7])
            for _ in 0..<qd { try r.skipName(); try r.skip(4) }
            var out: [ResourceRecord] = []
            for _ in 0..<an {
                let owner = try r.readName()
                let type = RRType(try r.readU16()), cls = RRClass(try r.readU16()), ttl = try r.readU32()
                let length = Int(try r.readU16())
                let rdata = try RDataWire.read(type: type, from: &r, length: length)
                out.append(ResourceRecord(owner: owner, type: type, rrClass: cls, ttl: ttl, rdata: rdata))
            }
            return out
        }
    }

    func testDiffAndCondense() throws {
        let v1 = try Self.zone(serial: 1, body: "a IN A 192.0.2.1\nb IN A 192.0.2.2\nm IN MX 10 a.example.")
        let v2 = try Self.zone(serial: 2, body: "a IN A 192.0.2.1\nb IN A 192.0.2.3\nm IN MX 10 A.EXAMPLE.")
        let v3 = try Self.zone(serial: 3, body: "a IN A 192.0.2.1\nb IN A 192.0.2.2\nc IN TXT new")
        let d12 = ZoneDiff.between(v1, v2)
        XCTAssertEqual(d12.fromSerial, 1)
        XCTAssertEqual(d12.toSerial, 2)
        // The MX target changed case only: the same record (RFC 4034 §6.2).
        XCTAssertEqual(d12.removed.map(\.owner.description), ["b.example."])
        XCTAssertEqual(d12.added.map(\.owner.description), ["b.example."])
        let d23 = ZoneDiff.between(v2, v3)
        XCTAssertEqual(Set(d23.removed.map(\.owner.description)), ["b.example.", "m.example."])
        XCTAssertEqual(Set(d23.added.map(\.owner.description)), ["b.example.", "c.example."])
        // 1 → 3: b's change cancels out; m removed, c added.
        let c = try XCTUnwrap(ZoneDiff.condense([d12, d23]))
        XCTAssertEqual(c.fromSerial, 1)
        XCTAssertEqual(c.toSerial, 3)
        XCTAssertEqual(c.removed.map(\.owner.description), ["m.example."])
        XCTAssertEqual(c.added.map(\.owner.description), ["c.example."])
        XCTAssertEqual(ZoneDiff.between(v1, v1).added, [])
    }

    /// The difference an edit records is the one a comparison of the versions finds.
    func testDiffOfAnEditIsTheComparisonOfItsVersions() throws {
        let origin = try DNSName("example.")
        func records(_ text: String) throws -> [ResourceRecord] {
            try ZoneFileReader(origin: origin).read(text: "$ORIGIN example.\n" + text).records
        }
        let v1 = try Self.zone(serial: 1, body: "a IN A 192.0.2.1\na IN A 192.0.2.9\nb IN A 192.0.2.2\nm IN MX 10 a.example.")
        var edit = ZoneEdit()
        edit.replace(try DNSName("a.example."), .a, with: try records("a 300 IN A 192.0.2.1\na 300 IN A 192.0.2.5"))
        edit.replace(try DNSName("b.example."), .a, with: [])
        edit.replace(try DNSName("c.example."), .txt, with: try records("c 60 IN TXT new"))
        edit.replace(origin, .soa, with: try records("@ 300 IN SOA ns1.example. admin.example. 2 3600 600 86400 300"))
        let v2 = try v1.applying(edit)
        let fromEdit = ZoneDiff(try XCTUnwrap(v2.edit), from: v1, to: v2), compared = ZoneDiff.between(v1, v2)
        XCTAssertEqual(fromEdit.fromSerial, 1)
        XCTAssertEqual(fromEdit.toSerial, 2)
        XCTAssertEqual(Set(fromEdit.removed), Set(compared.removed))
        XCTAssertEqual(Set(fromEdit.added), Set(compared.added))
        XCTAssertEqual(Set(fromEdit.removed.map { "\($0.owner) \($0.rdata)" }), ["a.example. [192, 0, 2, 9]", "b.example. [192, 0, 2, 2]"])
    }

    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "bulwark-journal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func diffs(_ n: Int, padding: Int = 0) throws -> [ZoneDiff] {
        var zones: [Zone] = []
        for s in 1...(n + 1) {
            zones.append(try Self.zone(serial: UInt32(s), body: "v IN TXT \"\(s)\(String(repeating: "x", count: padding))\""))
        }
        return (0..<n).map { ZoneDiff.between(zones[$0], zones[$0 + 1]) }
    }

    func testJournalSurvivesReopenAndChains() throws {
        let dir = try tempDir()
        let origin = try DNSName("example.")
        let d = try diffs(3)
        do {
            let j = try ZoneJournal(zone: origin, directory: dir, maxSize: 1 << 20)
            for x in d { try j.append(x) }
            XCTAssertEqual(j.range?.first, 1)
            XCTAssertEqual(j.range?.last, 4)
        }
        let j = try ZoneJournal(zone: origin, directory: dir, maxSize: 1 << 20)
        XCTAssertEqual(j.entryCount, 3)
        XCTAssertEqual(j.diffs(from: 2, to: 4), Array(d[1...]))
        XCTAssertNil(j.diffs(from: 7, to: 4))
        XCTAssertNil(j.diffs(from: 1, to: 9))
        // A gap (from 10) starts the journal anew.
        let ten = try Self.zone(serial: 10, body: ""), eleven = try Self.zone(serial: 11, body: "z IN A 192.0.2.9")
        try j.append(ZoneDiff.between(ten, eleven))
        XCTAssertEqual(j.entryCount, 1)
        XCTAssertEqual(j.range?.first, 10)
        XCTAssertEqual(try ZoneJournal(zone: origin, directory: dir, maxSize: 1 << 20).range?.first, 10)
    }

    func testJournalIsBoundedDroppingOldest() throws {
        let dir = try tempDir()
        let d = try diffs(20, padding: 200)
        let j = try ZoneJournal(zone: try DNSName("example."), directory: dir, maxSize: 4096)
        for x in d { try j.append(x) }
        XCTAssertLessThanOrEqual(j.size, 4096)
        let attrs = try FileManager.default.attributesOfItem(atPath: j.path)
        XCTAssertLessThanOrEqual((attrs[.size] as! NSNumber).intValue, 4096)
        XCTAssertEqual(j.range?.last, 21)
        XCTAssertGreaterThan(j.range!.first, 1)  // the oldest were dropped
        XCTAssertNil(j.diffs(from: 1, to: 21))
        XCTAssertNotNil(j.diffs(from: j.range!.first, to: 21))
    }

    func testJournalTornTailIsCutOff() throws {
        let dir = try tempDir()
        let origin = try DNSName("example.")
        let d = try diffs(2)
        let path: String
        do {
            let j = try ZoneJournal(zone: origin, directory: dir, maxSize: 1 << 20)
            for x in d { try j.append(x) }
            path = j.path
        }
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        bytes.removeLast(5)  // the second entry cut short
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let j = try ZoneJournal(zone: origin, directory: dir, maxSize: 1 << 20)
        XCTAssertEqual(j.entryCount, 1)
        XCTAssertEqual(j.range?.last, 2)
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue, j.size)
        XCTAssertEqual(ZoneJournal.fileName(for: .root), "root.journal")
        XCTAssertEqual(ZoneJournal.fileName(for: try DNSName("Example.COM.")), "example.com.journal")
    }

    /// A write the disk refuses (the file swapped for /dev/full: ENOSPC on every write)
    /// fails the append and empties the journal instead of leaving it torn; once the disk
    /// takes writes again the journal starts anew from the next change.
    func testJournalWriteRefusedByTheDiskEmptiesIt() throws {
        let dir = try tempDir()
        let origin = try DNSName("example.")
        let d = try diffs(4)
        let j = try ZoneJournal(zone: origin, directory: dir, maxSize: 1 << 20)
        try j.append(d[0])
        try j.append(d[1])
        try FileManager.default.removeItem(atPath: j.path)
        try FileManager.default.createSymbolicLink(atPath: j.path, withDestinationPath: "/dev/full")
        XCTAssertThrowsError(try j.append(d[2]))
        XCTAssertEqual(j.entryCount, 0)
        XCTAssertNil(j.diffs(from: 1, to: 4))
        try FileManager.default.removeItem(atPath: j.path)
        try j.append(d[3])
        XCTAssertEqual(j.range?.first, 4)
        XCTAssertEqual(try ZoneJournal(zone: origin, directory: dir, maxSize: 1 << 20).diffs(from: 4, to: 5), [d[3]])
    }

    func testAXFRStreamSplitsWithSOAFirstAndLastAndCompression() throws {
        var body = ""
        for i in 0..<300 { body += "host\(i) IN A 192.0.2.\(i % 250)\nhost\(i) IN MX 10 mail.example.\n" }
        let zone = try Self.zone(serial: 7, body: body)
        let k = try TSIGKey(name: "k", algorithm: "hmac-sha256", secret: tsigVectorSecret)
        let (request, verifier) = TSIGRequestSigner.sign(MessageWriter(id: 9, flags: 0, question: (zone.origin, .axfr, .in)).bytes, key: k)
        guard case .verified(let signer) = TSIGServer.verify(request: request, keyring: TSIGKeyring([k])) else { return XCTFail() }
        let stream = TransferStream(id: 9, queryFlags: 0, question: (zone.origin, .axfr, .in),
                                    records: ZoneTransfer.axfrRecords(zone), signer: signer, maxMessageSize: 4096)
        let messages = stream.all()
        XCTAssertGreaterThan(messages.count, 3)
        var v = verifier
        var all: [ResourceRecord] = []
        for (i, m) in messages.enumerated() {
            XCTAssertLessThanOrEqual(m.count, 4096)
            XCTAssertEqual(m[4] << 8 | m[5], i == 0 ? 1 : 0)  // the question in the first only
            XCTAssertEqual(m[2] & 0x84, 0x84)  // QR, AA
            try v.verify(m)
            all += try Self.answers(m)
        }
        try v.finish()
        XCTAssertEqual(all.first?.type, .soa)
        XCTAssertEqual(all.last?.type, .soa)
        XCTAssertEqual(all.count, zone.recordCount + 1)
        XCTAssertEqual(Set(all.dropLast()), Set(zone.records))
        // Compression: far below the uncompressed size.
        let uncompressed = zone.records.reduce(0) { $0 + $1.owner.wire.count + 10 + $1.rdata.count }
        XCTAssertLessThan(messages.reduce(0) { $0 + $1.count }, uncompressed * 3 / 4)
    }

    func testIXFRPlanAndSequence() throws {
        let dir = try tempDir()
        let z1 = try Self.zone(serial: 1, body: "a IN A 192.0.2.1")
        let z2 = try Self.zone(serial: 2, body: "a IN A 192.0.2.2")
        let z3 = try Self.zone(serial: 3, body: "a IN A 192.0.2.2\nb IN A 192.0.2.3")
        let j = try ZoneJournal(zone: z1.origin, directory: dir, maxSize: 1 << 20)
        try j.append(ZoneDiff.between(z1, z2))
        try j.append(ZoneDiff.between(z2, z3))
        XCTAssertEqual(ZoneTransfer.plan(clientSerial: 3, zone: z3, journal: j), .upToDate)
        XCTAssertEqual(ZoneTransfer.plan(clientSerial: 4, zone: z3, journal: j), .upToDate)  // newer (RFC 1982)
        XCTAssertEqual(ZoneTransfer.plan(clientSerial: 0, zone: z3, journal: j), .full)
        XCTAssertEqual(ZoneTransfer.plan(clientSerial: 3 &+ (1 << 31) &+ 1, zone: z3, journal: j), .full)  // far behind
        guard case .incremental(let d) = ZoneTransfer.plan(clientSerial: 1, zone: z3, journal: j) else { return XCTFail() }
        let stream = TransferStream(id: 1, queryFlags: 0, question: (z3.origin, .ixfr, .in),
                                    records: ZoneTransfer.ixfrRecords([d], current: z3.soaRecord), signer: nil)
        let records = try stream.all().flatMap(Self.answers)
        // SOA 3, SOA 1, -a 192.0.2.1, SOA 3, +a 192.0.2.2, +b, SOA 3.
        XCTAssertEqual(records.map { $0.type == .soa ? "SOA\(SerialNumber.of(soaRData: $0.rdata)!)" : $0.owner.description },
                       ["SOA3", "SOA1", "a.example.", "SOA3", "a.example.", "b.example.", "SOA3"])
    }

    func testIXFRClientSerialAndSerialArithmetic() throws {
        var m = MessageWriter(id: 1, flags: 0, question: (try DNSName("example."), .ixfr, .in))
        let z = try Self.zone(serial: 42, body: "")
        m.append(z.soaRecord, to: .authority)
        XCTAssertEqual(ZoneTransfer.ixfrClientSerial(m.bytes), 42)
        XCTAssertNil(ZoneTransfer.ixfrClientSerial(MessageWriter(id: 1, flags: 0, question: (z.origin, .ixfr, .in)).bytes))
        XCTAssertEqual(SerialArithmetic.compare(1, 2), .less)
        XCTAssertEqual(SerialArithmetic.compare(0xFFFF_FFFF, 0), .less)
        XCTAssertEqual(SerialArithmetic.compare(2, 1), .greater)
        XCTAssertEqual(SerialArithmetic.compare(0, 1 << 31), .undefined)  // neither
    }
}
