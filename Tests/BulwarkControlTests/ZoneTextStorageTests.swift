@testable import BulwarkControl
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// Zones imported from text are stored as that text with RRset rows over it: changes,
/// listings, exports, restarts and re-imports see the same zone as one stored as rows.
final class ZoneTextStorageTests: XCTestCase {
    func served(_ h: APIHarness, _ zone: String, _ name: String, _ type: RRType) throws -> [String] {
        guard let z = h.catalog.zone(named: try DNSName(zone)) else { return [] }
        let owner = try DNSName(name)
        return z.records.filter { $0.owner == owner && $0.type == type }.map { RDataText.format(type: type, rdata: $0.rdata) }.sorted()
    }

    /// A zone text using what zone files use: $ORIGIN, $TTL, relative and blank owners,
    /// parentheses, comments, a wildcard, a delegation with glue, non-ASCII text.
    static func zoneText(hosts: Int) -> String {
        var t = """
            $ORIGIN text.test.
            $TTL 3600
            @   IN SOA ns1 hostmaster ( 2024010101 ; serial
                        7200 3600 1209600 300 )
                IN NS ns1
                IN NS ns2.text.test.
            ns1 IN A 192.0.2.53
            ns2 IN A 192.0.2.54
            *.wild 300 IN TXT "wildcard" "café"
            sub IN NS ns.sub
            ns.sub IN A 192.0.2.99

            """
        for i in 0..<hosts {
            t += "h\(i) IN A 198.51.100.\(i % 250 + 1)\n"
            if i % 3 == 0 { t += "    IN AAAA 2001:db8::\(String(i, radix: 16))\n" }
        }
        return t
    }

    func rowCount(_ h: APIHarness, _ table: String) async throws -> Int64 {
        let store = h.plane.store as! SQLControlStore
        return try await store.backend.withSession { s in
            try await s.query("SELECT COUNT(*) AS n FROM \(table)", []).first?.int("n") ?? -1
        }
    }

    func listing(_ h: APIHarness, _ token: String, _ zone: String) async throws -> [[String: String]] {
        let r = try await h.request("GET", "/v1/zones/\(zone)/rrsets", token: token)
        XCTAssertEqual(r.status, 200, r.text)
        return (r.json["rrsets"] as? [[String: Any]] ?? []).map { o in
            ["name": o["name"] as? String ?? "", "type": o["type"] as? String ?? "", "ttl": "\(o["ttl"] ?? "")",
             "records": (o["records"] as? [String] ?? []).joined(separator: "|")]
        }
    }

    func testImportedTextWithChangesOverItSurvivesRestartAndReimport() async throws {
        let h = try await APIHarness.start(maxBody: 1 << 20)
        let (_, admin) = try await h.tenant("t")
        let created = try await h.request("POST", "/v1/zones?name=text.test", token: admin, text: Self.zoneText(hosts: 400))
        XCTAssertEqual(created.status, 201, created.text)

        // Stored as its text: no row per RRset.
        let stored = try await h.plane.store.zone(named: "text.test.")!
        XCTAssertGreaterThan(stored.textParts, 0)
        let rows0 = try await rowCount(h, "rrsets"), parts0 = try await rowCount(h, "zone_texts")
        XCTAssertEqual(rows0, 0)
        XCTAssertGreaterThan(parts0, 0)
        XCTAssertEqual(try served(h, "text.test.", "h7.text.test.", .a), ["198.51.100.8"])

        // Changes over the text: a replace, a deletion of the text's data, a new name.
        let put = try await h.request("PUT", "/v1/zones/text.test/rrsets/h1/A", token: admin, json: ["ttl": 60, "records": ["192.0.2.1"]])
        XCTAssertEqual(put.status, 200, put.text)
        let batch = try await h.request("PATCH", "/v1/zones/text.test/rrsets", token: admin, json: ["changes": [
            ["action": "delete", "name": "h2", "type": "A"],
            ["action": "replace", "name": "new", "type": "TXT", "ttl": 30, "records": ["\"n\""]],
        ]])
        XCTAssertEqual(batch.status, 200, batch.text)
        let gone = try await h.request("DELETE", "/v1/zones/text.test/rrsets/h3/AAAA", token: admin)
        XCTAssertEqual(gone.status, 204, gone.text)
        let missing = try await h.request("DELETE", "/v1/zones/text.test/rrsets/h4/AAAA", token: admin)
        XCTAssertEqual(missing.status, 404, "h4 has no AAAA in the text")
        // A CNAME beside the text's data is refused, as it is beside rows.
        let cname = try await h.request("PUT", "/v1/zones/text.test/rrsets/h5/CNAME", token: admin, json: ["records": ["h6"]])
        XCTAssertEqual(cname.status, 422, cname.text)

        XCTAssertEqual(try served(h, "text.test.", "h1.text.test.", .a), ["192.0.2.1"])
        XCTAssertEqual(try served(h, "text.test.", "h2.text.test.", .a), [])
        XCTAssertEqual(try served(h, "text.test.", "h3.text.test.", .aaaa), [])
        XCTAssertEqual(try served(h, "text.test.", "new.text.test.", .txt), ["\"n\""])
        let one = try await h.request("GET", "/v1/zones/text.test/rrsets/h1/A", token: admin)
        XCTAssertEqual(one.json["records"] as? [String], ["192.0.2.1"])
        let fromText = try await h.request("GET", "/v1/zones/text.test/rrsets/h6/AAAA", token: admin)
        XCTAssertEqual(fromText.json["records"] as? [String], ["2001:db8::6"])
        XCTAssertEqual(fromText.json["ttl"] as? Int, 3600)

        // The listing from the served snapshot equals the one read from the store.
        let listed = try await listing(h, admin, "text.test")
        XCTAssertEqual(listed.count, 400 + 134 + 7 - 1 + 1 - 1, "\(listed.count) RRsets")
        let content = try await h.plane.store.content(of: try await h.plane.store.zone(named: "text.test.")!)
        XCTAssertEqual(content.rows.filter(\.records.isEmpty).map(\.key).sorted(),
                       [RRsetKey(name: "h2.text.test.", type: "A"), RRsetKey(name: "h3.text.test.", type: "AAAA")])
        let fromStore = try content.rrsets(origin: try DNSName("text.test.")).map {
            ["name": $0.name, "type": $0.type, "ttl": "\($0.ttl)", "records": $0.records.joined(separator: "|")]
        }
        XCTAssertEqual(listed, fromStore)
        XCTAssertTrue(listed.contains(["name": "*.wild.text.test.", "type": "TXT", "ttl": "300", "records": "\"wildcard\" \"caf\\195\\169\""]), "\(listed.prefix(12))")
        let export = try await h.request("GET", "/v1/zones/text.test/zonefile", token: admin)
        XCTAssertTrue(export.text.contains("h1.text.test.\t60\tIN\tA\t192.0.2.1"), export.text.prefix(500).description)
        XCTAssertFalse(export.text.contains("h2.text.test.\t3600\tIN\tA"))

        // A change while the served version is not the stored one reads the whole zone.
        let origin = try DNSName("text.test.")
        let snapshot = h.catalog.zone(named: origin)!
        h.catalog.remove(origin, from: .api)
        let blind = try await h.request("PUT", "/v1/zones/text.test/rrsets/h9/A", token: admin, json: ["records": ["192.0.2.9"]])
        XCTAssertEqual(blind.status, 200, blind.text)
        let rebuilt = h.catalog.zone(named: origin)!
        XCTAssertEqual(rebuilt.recordCount, snapshot.recordCount)
        XCTAssertEqual(try served(h, "text.test.", "h9.text.test.", .a), ["192.0.2.9"])
        XCTAssertEqual(try served(h, "text.test.", "h2.text.test.", .a), [])
        XCTAssertEqual(try served(h, "text.test.", "h10.text.test.", .a), ["198.51.100.11"])
        let before = try await listing(h, admin, "text.test")
        let serial = h.catalog.zone(named: origin)!.serial
        await h.stop(removing: false)

        // A restart reads the text and applies the rows over it.
        let again = try await APIHarness.start(dir: h.dir, maxBody: 1 << 20)
        XCTAssertEqual(again.catalog.zone(named: origin)?.serial, serial)
        let after = try await listing(again, admin, "text.test")
        XCTAssertEqual(after, before)
        XCTAssertEqual(try served(again, "text.test.", "h1.text.test.", .a), ["192.0.2.1"])
        XCTAssertEqual(try served(again, "text.test.", "h2.text.test.", .a), [])
        XCTAssertEqual(try served(again, "text.test.", "ns.sub.text.test.", .a), ["192.0.2.99"])

        // A re-import replaces the text and drops the rows; its serial moves on from the stored one.
        let reimport = try await again.request("PUT", "/v1/zones/text.test/zonefile", token: admin, text: Self.zoneText(hosts: 10))
        XCTAssertEqual(reimport.status, 200, reimport.text)
        XCTAssertEqual(again.catalog.zone(named: origin)?.serial, serial + 1)
        XCTAssertEqual(try served(again, "text.test.", "h2.text.test.", .a), ["198.51.100.3"])
        XCTAssertEqual(try served(again, "text.test.", "h11.text.test.", .a), [])
        let rows = try await again.plane.store.content(of: try await again.plane.store.zone(named: "text.test.")!).rows
        XCTAssertEqual(rows.map(\.type), ["SOA"], "only the SOA, whose serial moved, is a row")
        let relisted = try await listing(again, admin, "text.test")
        XCTAssertEqual(relisted.count, 10 + 4 + 7)

        // Deleting the zone deletes its text.
        let deleted = try await again.request("DELETE", "/v1/zones/text.test", token: admin)
        XCTAssertEqual(deleted.status, 204)
        let parts1 = try await rowCount(again, "zone_texts"), rows1 = try await rowCount(again, "rrsets")
        XCTAssertEqual(parts1, 0)
        XCTAssertEqual(rows1, 0)
        await again.stop()
    }

    func testTextThatIsNotUTF8IsStoredAsRows() async throws {
        let h = try await APIHarness.start()
        let (_, admin) = try await h.tenant("t")
        var body = Data(Self.zoneText(hosts: 3).utf8)
        body.append(contentsOf: Array("raw IN TXT \"".utf8) + [0xFF, 0xFE] + Array("\"\n".utf8))
        var req = URLRequest(url: URL(string: h.baseURL + "/v1/zones?name=text.test")!)
        req.httpMethod = "POST"
        req.httpBody = body
        req.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
        req.setValue("text/dns", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await h.session.data(for: req)
        XCTAssertEqual((response as! HTTPURLResponse).statusCode, 201, String(decoding: data, as: UTF8.self))
        let stored = try await h.plane.store.zone(named: "text.test.")
        XCTAssertEqual(stored?.textParts, 0)
        XCTAssertEqual(try served(h, "text.test.", "raw.text.test.", .txt), ["\"\\255\\254\""])
        let rows = try await rowCount(h, "rrsets"), listed = try await listing(h, admin, "text.test")
        XCTAssertEqual(rows, Int64(listed.count))
        await h.stop()
    }

    func testTextIsStoredInPiecesAsSQLText() {
        var text: [UInt8] = []
        for i in 0..<200 { text += Array("n\(i) IN TXT \"\(String(repeating: "é", count: i % 7))\"\n".utf8) }
        var pieces = ZoneTextPieces(reader: ZoneFileReader(origin: try! DNSName("t.test.")), pieceSize: 64)
        text.withUnsafeBytes { pieces.feed($0) }
        _ = try? pieces.finish()
        let strings = ZoneTextStorage.sqlText(pieces.pieces)!
        XCTAssertGreaterThan(strings.count, 10)
        XCTAssertEqual(Array(strings.joined().utf8), text)
        XCTAssertNil(ZoneTextStorage.sqlText([Array("a IN TXT \"\0\"\n".utf8)]))
        XCTAssertNil(ZoneTextStorage.sqlText([[0x61, 0xC3], [0xA9, 0x0A]]), "a character split between pieces")
        XCTAssertEqual(ZoneTextStorage.sqlText([]), [])
    }
}
