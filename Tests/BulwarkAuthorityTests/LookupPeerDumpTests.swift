import BulwarkWire
import BulwarkZoneFile
import Foundation
import XCTest
@testable import BulwarkAuthority
@testable import BulwarkZone

/// Answers the queries listed in $BULWARK_PEER_QUERIES (one per line: hex of the query,
/// then the size limit) with the authority fixtures and writes the responses in hex to
/// $BULWARK_PEER_OUT, for comparing with NSD and Knot serving the same files. Skipped
/// when the variables are not set.
final class LookupPeerDumpTests: XCTestCase {
    func testDumpResponses() throws {
        let env = ProcessInfo.processInfo.environment
        guard let input = env["BULWARK_PEER_QUERIES"], let output = env["BULWARK_PEER_OUT"] else {
            throw XCTSkip("BULWARK_PEER_QUERIES / BULWARK_PEER_OUT not set")
        }
        // $BULWARK_PEER_ZONES: "origin=path,origin=path" instead of the fixtures.
        var set = AuthorityFixtures.set
        if let zones = env["BULWARK_PEER_ZONES"] {
            set = ZoneSet(zones: try zones.split(separator: ",").map { item in
                let parts = item.split(separator: "=", maxSplits: 1)
                let origin = try DNSName(String(parts[0]))
                let parsed = try ZoneFileReader(origin: origin).read(path: String(parts[1]))
                return try Zone(origin: origin, records: parsed.records)
            })
        }
        var scratch = AnswerScratch()
        var result = ""
        for l in try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n") {
            let parts = l.split(separator: " ")
            var bytes: [UInt8] = []
            var i = parts[0].startIndex
            while i < parts[0].endIndex {
                let j = parts[0].index(i, offsetBy: 2)
                bytes.append(UInt8(parts[0][i..<j], radix: 16)!)
                i = j
            }
            let response = TestWire.respond(set, bytes, maxSize: Int(parts[1])!, scratch: &scratch)
            result += response.map { String(format: "%02x", $0) }.joined() + "\n"
        }
        try result.write(toFile: output, atomically: true, encoding: .utf8)
    }
}
