import BulwarkWire
import XCTest
@testable import BulwarkAuthority
@testable import BulwarkZone

final class CompressionTableTests: XCTestCase {
    /// A response naming more distinct names than the table takes: names first written
    /// once it is full are not taken, so where they come again they are written again
    /// (compressed against their parent), and the message reads back as planned.
    func testMoreNamesThanTheTableTakes() throws {
        let origin = try DNSName("many.test.")
        let count = CompressionTable.limit + 216
        let withAddress = (count - 64)..<count
        var records = [ResourceRecord(owner: origin, type: .soa, ttl: 3600,
                                      rdata: try DNSName("ns0.many.test.").wire + DNSName("h.many.test.").wire
                                          + [UInt8](repeating: 1, count: 20))]
        for i in 0..<count {
            let target = try DNSName("ns\(i).many.test.")
            records.append(ResourceRecord(owner: origin, type: .ns, ttl: 3600, rdata: target.wire))
            if withAddress.contains(i) {
                records.append(ResourceRecord(owner: target, type: .a, ttl: 3600, rdata: [192, 0, UInt8(i >> 8), UInt8(i & 0xFF)]))
            }
        }
        let set = ZoneSet(zones: [try Zone(origin: origin, records: records)])
        var scratch = AnswerScratch()
        let bytes = TestWire.respond(set, try TestWire.query("many.test.", .ns, edns: 4096), maxSize: 65535, scratch: &scratch)
        let d = try TestWire.decode(bytes)
        let plan = set.lookup(qname: origin, qtype: .ns)
        XCTAssertFalse(d.tc)
        XCTAssertEqual(d.answer.count, count)
        XCTAssertEqual(d.answer.map(line), plan.answer.map(line))
        XCTAssertEqual(d.additional.map(line), plan.additional.map(line))
        XCTAssertFalse(d.additional.isEmpty)

        // Answer: the owner a pointer, then "nsN" and a pointer to the apex (registered from
        // the question). Additional: the owners were first written past the table's limit,
        // so "nsN" and a pointer again instead of one pointer.
        func label(_ r: ResourceRecord) -> Int { Int(r.owner.wire[0]) + 1 }
        var expected = 12 + (origin.wire.count + 4)
        for r in d.answer { expected += 2 + 10 + Int(r.rdata[0]) + 1 + 2 }
        for r in d.additional { expected += label(r) + 2 + 10 + 4 }
        expected += 11  // OPT
        XCTAssertEqual(bytes.count, expected)

        // The next response starts with an empty table: compressed as usual again.
        let again = TestWire.respond(set, try TestWire.query("ns599.many.test.", .a), scratch: &scratch)
        XCTAssertEqual(try TestWire.decode(again).answer.map(\.rdata), [[192, 0, 2, 87]])
        let answerStart = 12 + 17 + 4
        XCTAssertEqual(Array(again[answerStart..<(answerStart + 2)]), [0xC0, 12], "the owner points at the question")
    }
}
