import BulwarkControl
import BulwarkServer
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
import Foundation
import XCTest

final class ControlAPITests: XCTestCase {
    /// The records the catalog serves for `name`/`type` in `zone`, as presentation text.
    func served(_ h: APIHarness, _ zone: String, _ name: String, _ type: RRType) throws -> [String] {
        guard let z = h.catalog.zone(named: try DNSName(zone)) else { return [] }
        let owner = try DNSName(name)
        return z.records.filter { $0.owner == owner && $0.type == type }.map { RDataText.format(type: type, rdata: $0.rdata) }.sorted()
    }

    func testOpenAPIAndAuthentication() async throws {
        let h = try await APIHarness.start()
        let doc = try await h.request("GET", "/openapi.json", token: nil)
        XCTAssertEqual(doc.status, 200)
        XCTAssertEqual(doc.json["openapi"] as? String, "3.1.0")
        XCTAssertNotNil((doc.json["paths"] as? [String: Any])?["/v1/zones/{zone}/rrsets"])

        let none = try await h.request("GET", "/v1/zones", token: nil)
        XCTAssertEqual(none.status, 401)
        XCTAssertEqual(none.error["code"] as? String, "unauthorized")
        let wrong = try await h.request("GET", "/v1/zones", token: "bwk_" + String(repeating: "0", count: 64))
        XCTAssertEqual(wrong.status, 401)
        let ok = try await h.request("GET", "/v1/zones", token: h.adminToken)
        XCTAssertEqual(ok.status, 200)
        // X-API-Key works too.
        let alt = try await h.request("GET", "/v1/zones", token: nil, headers: ["X-API-Key": h.adminToken])
        XCTAssertEqual(alt.status, 200)
        await h.stop()
    }

    func testTenantsKeysAndRoles() async throws {
        let h = try await APIHarness.start()
        let (tid, admin) = try await h.tenant("acme")
        let reader = try await h.key(admin, role: "read")
        let writer = try await h.key(admin, role: "write")

        // Keys are hashed at rest: the token appears nowhere in the database.
        let keys = try await h.plane.store.keys(tenantID: tid)
        XCTAssertEqual(keys.count, 3)
        XCTAssertFalse(keys.contains { $0.tokenHash == writer })
        XCTAssertTrue(keys.contains { $0.tokenHash == KeyTokens.hash(writer) })
        let listed = try await h.request("GET", "/v1/keys", token: admin)
        XCTAssertEqual((listed.json["keys"] as? [[String: Any]])?.count, 3)
        XCTAssertFalse(listed.text.contains(writer))

        // 403 by role.
        let r1 = try await h.createZone("acme.test.", token: reader)
        XCTAssertEqual(r1.status, 403, r1.text)
        XCTAssertEqual(r1.error["code"] as? String, "forbidden")
        let r2 = try await h.request("POST", "/v1/keys", token: writer, json: ["name": "x", "role": "read"])
        XCTAssertEqual(r2.status, 403)
        let r3 = try await h.request("GET", "/v1/tenants", token: admin)
        XCTAssertEqual(r3.status, 403, "a tenant's admin is not the operator")
        let created = try await h.createZone("acme.test.", token: writer)
        XCTAssertEqual(created.status, 201, created.text)
        let read = try await h.request("GET", "/v1/zones/acme.test.", token: reader)
        XCTAssertEqual(read.status, 200)
        let del = try await h.request("DELETE", "/v1/zones/acme.test.", token: reader)
        XCTAssertEqual(del.status, 403)

        // Tenants: list, get, duplicate name 409, delete refused while it has zones.
        let tenants = try await h.request("GET", "/v1/tenants", token: h.adminToken)
        XCTAssertEqual((tenants.json["tenants"] as? [[String: Any]])?.count, 2)
        let dup = try await h.request("POST", "/v1/tenants", token: h.adminToken, json: ["name": "acme"])
        XCTAssertEqual(dup.status, 409)
        let get = try await h.request("GET", "/v1/tenants/\(tid)", token: h.adminToken)
        XCTAssertEqual(get.json["name"] as? String, "acme")
        let busy = try await h.request("DELETE", "/v1/tenants/\(tid)", token: h.adminToken)
        XCTAssertEqual(busy.status, 409)

        // Revoking a key: it stops working.
        let readerID = keys.first { $0.tokenHash == KeyTokens.hash(reader) }!.id
        let revoke = try await h.request("DELETE", "/v1/keys/\(readerID)", token: admin)
        XCTAssertEqual(revoke.status, 204)
        let after = try await h.request("GET", "/v1/zones", token: reader)
        XCTAssertEqual(after.status, 401)
        let badRole = try await h.request("POST", "/v1/keys", token: admin, json: ["name": "x", "role": "root"])
        XCTAssertEqual(badRole.status, 422)
        XCTAssertEqual(badRole.error["field"] as? String, "role")
        await h.stop()
    }

    func testUnknownRouteIsAJSONNotFound() async throws {
        let h = try await APIHarness.start()
        let (_, a) = try await h.tenant("a")
        for (method, path) in [("GET", "/v1/nothing"), ("POST", "/v2/zones"), ("GET", "/")] {
            let r = try await h.request(method, path, token: a)
            XCTAssertEqual(r.status, 404, "\(method) \(path): \(r.text)")
            XCTAssertEqual(r.error["code"] as? String, "not_found", r.text)
            XCTAssertTrue((r.error["message"] as? String ?? "").contains(path), r.text)
        }
        await h.stop()
    }

    func testOtherTenantsZoneIsNotFound() async throws {
        let h = try await APIHarness.start()
        let (_, a) = try await h.tenant("a")
        let (_, b) = try await h.tenant("b")
        let r1 = try await h.createZone("a.test.", token: a)
        XCTAssertEqual(r1.status, 201)
        for (method, path) in [("GET", "/v1/zones/a.test."), ("GET", "/v1/zones/a.test./rrsets"),
                               ("GET", "/v1/zones/a.test./zonefile"), ("DELETE", "/v1/zones/a.test."),
                               ("GET", "/v1/zones/a.test./history"), ("GET", "/v1/zones/a.test./rrsets/@/SOA"),
                               ("DELETE", "/v1/zones/a.test./rrsets/@/NS")] {
            let r = try await h.request(method, path, token: b)
            XCTAssertEqual(r.status, 404, "\(method) \(path): \(r.text)")
            XCTAssertEqual(r.error["code"] as? String, "not_found")
        }
        let put = try await h.request("PUT", "/v1/zones/a.test./rrsets/www/A", token: b, json: ["records": ["192.0.2.1"]])
        XCTAssertEqual(put.status, 404)
        let list = try await h.request("GET", "/v1/zones", token: b)
        XCTAssertEqual((list.json["zones"] as? [Any])?.count, 0)
        // The name is taken server-wide: 409 for the other tenant.
        let r2 = try await h.createZone("a.test.", token: b)
        XCTAssertEqual(r2.status, 409)
        let r3 = try await h.createZone("a.test.", token: a)
        XCTAssertEqual(r3.status, 409)
        await h.stop()
    }

    func testZoneLifecycleIsServedAndAudited() async throws {
        let h = try await APIHarness.start()
        let (_, admin) = try await h.tenant("t")
        let c = try await h.createZone("life.test", token: admin)
        XCTAssertEqual(c.status, 201, c.text)
        let serial0 = c.json["serial"] as! Int
        XCTAssertNotNil(c.header("ETag"))
        XCTAssertEqual(try served(h, "life.test.", "life.test.", .ns), ["ns1.life.test."])

        // PUT an RRset: served at once, serial bumped.
        let put = try await h.request("PUT", "/v1/zones/life.test/rrsets/www/A", token: admin,
                                      json: ["ttl": 60, "records": ["192.0.2.1", "192.0.2.2", "192.0.2.1"]])
        XCTAssertEqual(put.status, 200, put.text)
        XCTAssertEqual(put.json["records"] as? [String], ["192.0.2.1", "192.0.2.2"])
        XCTAssertEqual(try served(h, "life.test.", "www.life.test.", .a), ["192.0.2.1", "192.0.2.2"])
        XCTAssertEqual(h.catalog.zone(named: try DNSName("life.test."))!.serial, UInt32(serial0 + 1))
        XCTAssertEqual(h.catalog.entry(named: try DNSName("life.test."))?.provenance, .api)

        // Get, list with filters.
        let one = try await h.request("GET", "/v1/zones/life.test/rrsets/www.life.test./A", token: admin)
        XCTAssertEqual(one.json["ttl"] as? Int, 60)
        let byName = try await h.request("GET", "/v1/zones/life.test/rrsets?name=www", token: admin)
        XCTAssertEqual((byName.json["rrsets"] as? [Any])?.count, 1)
        let byType = try await h.request("GET", "/v1/zones/life.test/rrsets?type=NS", token: admin)
        XCTAssertEqual(((byType.json["rrsets"] as? [[String: Any]])?.first)?["type"] as? String, "NS")
        let missing = try await h.request("GET", "/v1/zones/life.test/rrsets/nope/A", token: admin)
        XCTAssertEqual(missing.status, 404)

        // Batch: several changes at once.
        let batch = try await h.request("PATCH", "/v1/zones/life.test/rrsets", token: admin, json: ["changes": [
            ["action": "replace", "name": "mail", "type": "A", "ttl": 300, "records": ["192.0.2.25"]],
            ["action": "replace", "name": "@", "type": "MX", "ttl": 300, "records": ["10 mail"]],
            ["action": "delete", "name": "www", "type": "A"],
        ]])
        XCTAssertEqual(batch.status, 200, batch.text)
        XCTAssertEqual(try served(h, "life.test.", "life.test.", .mx), ["10 mail.life.test."])
        XCTAssertEqual(try served(h, "life.test.", "www.life.test.", .a), [])

        // Delete an RRset.
        let del = try await h.request("DELETE", "/v1/zones/life.test/rrsets/mail/A", token: admin)
        XCTAssertEqual(del.status, 204)
        XCTAssertEqual(try served(h, "life.test.", "mail.life.test.", .a), [])
        let again = try await h.request("DELETE", "/v1/zones/life.test/rrsets/mail/A", token: admin)
        XCTAssertEqual(again.status, 404)

        // Export, then import a changed copy.
        let export = try await h.request("GET", "/v1/zones/life.test/zonefile", token: admin)
        XCTAssertEqual(export.status, 200)
        XCTAssertTrue(export.text.contains("SOA"), export.text)
        XCTAssertTrue(export.text.contains("10 mail.life.test."), export.text)
        let imported = try await h.request("PUT", "/v1/zones/life.test/zonefile", token: admin,
                                           text: export.text + "ftp\t300\tIN\tA\t192.0.2.21\n")
        XCTAssertEqual(imported.status, 200, imported.text)
        XCTAssertEqual(try served(h, "life.test.", "ftp.life.test.", .a), ["192.0.2.21"])
        let badImport = try await h.request("PUT", "/v1/zones/life.test/zonefile", token: admin, text: "www IN A 1.2.3\n")
        XCTAssertEqual(badImport.status, 422)
        XCTAssertEqual(badImport.error["field"] as? String, "zonefile")

        // History: who, when, what.
        let history = try await h.request("GET", "/v1/zones/life.test/history", token: admin)
        let changes = history.json["changes"] as! [[String: Any]]
        XCTAssertEqual(changes.count, 5)
        XCTAssertEqual(changes.first?["action"] as? String, "import")
        XCTAssertEqual(changes.last?["action"] as? String, "create")
        XCTAssertEqual((changes.first?["key"] as? [String: Any])?["name"] as? String, "t-admin")
        XCTAssertNotNil(changes.first?["at"] as? String)
        let serials = changes.map { $0["serial"] as! Int }
        XCTAssertEqual(serials, serials.sorted(by: >), "serial bumped on every change")

        // Delete the zone: no longer served; history kept.
        let gone = try await h.request("DELETE", "/v1/zones/life.test", token: admin)
        XCTAssertEqual(gone.status, 204)
        XCTAssertNil(h.catalog.zone(named: try DNSName("life.test.")))
        let r4 = try await h.request("GET", "/v1/zones/life.test", token: admin)
        XCTAssertEqual(r4.status, 404)
        await h.stop()
    }

    func testValidationNamesTheField() async throws {
        let h = try await APIHarness.start()
        let (_, admin) = try await h.tenant("v")
        let r5 = try await h.createZone("v.test.", token: admin)
        XCTAssertEqual(r5.status, 201)
        let before = h.catalog.zone(named: try DNSName("v.test."))!.serial

        func patch(_ changes: [[String: Any]]) async throws -> APIHarness.Reply {
            try await h.request("PATCH", "/v1/zones/v.test/rrsets", token: admin, json: ["changes": changes])
        }
        // CNAME beside other data (RFC 1034 §3.6.2): the second change is at fault; nothing applied.
        let cname = try await patch([
            ["action": "replace", "name": "a", "type": "A", "records": ["192.0.2.1"]],
            ["action": "replace", "name": "a", "type": "CNAME", "records": ["b.v.test."]],
        ])
        XCTAssertEqual(cname.status, 422, cname.text)
        XCTAssertEqual(cname.error["code"] as? String, "invalid_field")
        XCTAssertTrue(["changes[0]", "changes[1]"].contains(cname.error["field"] as? String ?? ""), cname.text)
        XCTAssertTrue((cname.error["message"] as? String ?? "").contains("CNAME"), cname.text)
        XCTAssertEqual(try served(h, "v.test.", "a.v.test.", .a), [], "all or nothing")

        let outOfZone = try await patch([["action": "replace", "name": "www.example.com.", "type": "A", "records": ["192.0.2.1"]]])
        XCTAssertEqual(outOfZone.status, 422)
        XCTAssertEqual(outOfZone.error["field"] as? String, "changes[0].name")

        let malformed = try await patch([["action": "replace", "name": "x", "type": "A", "records": ["192.0.2.1", "300.1.2.3"]]])
        XCTAssertEqual(malformed.status, 422)
        XCTAssertEqual(malformed.error["field"] as? String, "changes[0].records[1]")

        let badType = try await patch([["action": "replace", "name": "x", "type": "BOGUS", "records": ["1"]]])
        XCTAssertEqual(badType.error["field"] as? String, "changes[0].type")
        let badTTL = try await patch([["action": "replace", "name": "x", "type": "A", "ttl": -1, "records": ["192.0.2.1"]]])
        XCTAssertEqual(badTTL.error["field"] as? String, "changes[0].ttl")
        let unknown = try await patch([["action": "replace", "name": "x", "type": "A", "recs": ["192.0.2.1"]]])
        XCTAssertEqual(unknown.error["field"] as? String, "changes[0].recs")
        let soaDelete = try await patch([["action": "delete", "name": "@", "type": "SOA"]])
        XCTAssertEqual(soaDelete.status, 422)
        let injection = try await patch([["action": "replace", "name": "x", "type": "A", "records": ["192.0.2.1\nevil 1 IN A 192.0.2.2"]]])
        XCTAssertEqual(injection.status, 422)
        let notJSON = try await h.request("PATCH", "/v1/zones/v.test/rrsets", token: admin, text: "{not json")
        XCTAssertEqual(notJSON.status, 400)
        let putBad = try await h.request("PUT", "/v1/zones/v.test/rrsets/mx/MX", token: admin, json: ["records": ["mail.v.test."]])
        XCTAssertEqual(putBad.status, 422)
        XCTAssertEqual(putBad.error["field"] as? String, "records[0]")

        XCTAssertEqual(h.catalog.zone(named: try DNSName("v.test."))!.serial, before, "no failed change was applied")
        let history = try await h.request("GET", "/v1/zones/v.test/history", token: admin)
        XCTAssertEqual((history.json["changes"] as? [Any])?.count, 1)
        await h.stop()
    }

    func testIfMatch() async throws {
        let h = try await APIHarness.start()
        let (_, admin) = try await h.tenant("e")
        let c = try await h.createZone("e.test.", token: admin)
        let etag = c.header("ETag")!
        let ok = try await h.request("PUT", "/v1/zones/e.test/rrsets/a/A", token: admin, json: ["records": ["192.0.2.1"]],
                                     headers: ["If-Match": etag])
        XCTAssertEqual(ok.status, 200, ok.text)
        XCTAssertNotEqual(ok.header("ETag"), etag)
        let stale = try await h.request("PUT", "/v1/zones/e.test/rrsets/b/A", token: admin, json: ["records": ["192.0.2.2"]],
                                        headers: ["If-Match": etag])
        XCTAssertEqual(stale.status, 412, stale.text)
        XCTAssertEqual(stale.error["code"] as? String, "precondition_failed")
        let staleBatch = try await h.request("PATCH", "/v1/zones/e.test/rrsets", token: admin,
                                             json: ["changes": [["action": "delete", "name": "a", "type": "A"]]], headers: ["If-Match": etag])
        XCTAssertEqual(staleBatch.status, 412)
        let staleDelete = try await h.request("DELETE", "/v1/zones/e.test", token: admin, headers: ["If-Match": etag])
        XCTAssertEqual(staleDelete.status, 412)
        let current = try await h.request("GET", "/v1/zones/e.test", token: admin)
        let fresh = try await h.request("DELETE", "/v1/zones/e.test", token: admin, headers: ["If-Match": current.header("ETag")!])
        XCTAssertEqual(fresh.status, 204)
        await h.stop()
    }

    func testBodyLimitAndRateLimit() async throws {
        let h = try await APIHarness.start(rate: 1, burst: 5, maxBody: 2048)
        let big = try await h.request("POST", "/v1/zones", token: h.adminToken,
                                      json: ["name": "big.test.", "zonefile": String(repeating: "; padding\n", count: 500)])
        XCTAssertEqual(big.status, 413, big.text)
        XCTAssertEqual(big.error["code"] as? String, "body_too_large")
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<8 {
            let r = try await h.request("GET", "/v1/zones", token: h.adminToken)
            statuses.append(r.status)
            if r.status == 429 { retryAfter = r.header("Retry-After") }
        }
        XCTAssertTrue(statuses.contains(429), "\(statuses)")
        XCTAssertEqual(statuses.first, 200)
        XCTAssertNotNil(retryAfter)
        XCTAssertGreaterThanOrEqual(Int(retryAfter ?? "0") ?? 0, 1)
        await h.stop()
    }

    func testZoneFromFileCannotBeManagedThroughAPI() async throws {
        let catalog = ZoneCatalog(store: ZoneStore(ZoneSet(zones: [])))
        let parsed = try ZoneFileReader(origin: try DNSName("file.test.")).read(text: """
        @ 300 IN SOA ns1 host 1 2 3 4 5
        @ 300 IN NS ns1
        ns1 300 IN A 192.0.2.53
        """)
        try catalog.publish(try Zone(origin: parsed.origin, records: parsed.records), from: .file)
        let h = try await APIHarness.start(catalog: catalog)
        let r = try await h.createZone("file.test.", token: h.adminToken)
        XCTAssertEqual(r.status, 409, r.text)
        let imp = try await h.request("PUT", "/v1/zones/file.test/zonefile", token: h.adminToken, text: "@ 300 IN SOA ns1 host 1 2 3 4 5\n@ IN NS ns1\n")
        XCTAssertEqual(imp.status, 409)
        XCTAssertEqual(catalog.entry(named: try DNSName("file.test."))?.provenance, .file)
        await h.stop()
    }

    func testConcurrentBatchesLoseNoUpdate() async throws {
        let h = try await APIHarness.start()
        let (_, admin) = try await h.tenant("c")
        let c = try await h.createZone("c.test.", token: admin)
        let serial0 = c.json["serial"] as! Int
        let n = 24
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<n {
                group.addTask {
                    try await h.request("PATCH", "/v1/zones/c.test/rrsets", token: admin, json: ["changes": [
                        ["action": "replace", "name": "h\(i)", "type": "A", "records": ["192.0.2.\(i + 1)"]],
                        ["action": "replace", "name": "h\(i)", "type": "TXT", "records": ["\"batch \(i)\""]],
                    ]]).status
                }
            }
            var out: [Int] = []
            for try await s in group { out.append(s) }
            return out
        }
        XCTAssertEqual(statuses, Array(repeating: 200, count: n))
        let zone = try await h.request("GET", "/v1/zones/c.test", token: admin)
        XCTAssertEqual(zone.json["version"] as? Int, n + 1)
        XCTAssertEqual(zone.json["serial"] as? Int, serial0 + n)
        XCTAssertEqual((zone.json["rrsets"] as? [Any])?.count, 2 + 2 * n)
        for i in 0..<n {
            XCTAssertEqual(try served(h, "c.test.", "h\(i).c.test.", .a), ["192.0.2.\(i + 1)"])
        }
        XCTAssertEqual(h.catalog.zone(named: try DNSName("c.test."))!.serial, UInt32(serial0 + n))
        await h.stop()
    }

    func testZonesPersistAcrossRestart() async throws {
        let h = try await APIHarness.start()
        let (_, admin) = try await h.tenant("p")
        let r6 = try await h.createZone("p.test.", token: admin)
        XCTAssertEqual(r6.status, 201)
        let put = try await h.request("PUT", "/v1/zones/p.test/rrsets/www/AAAA", token: admin, json: ["records": ["2001:db8::1"]])
        XCTAssertEqual(put.status, 200)
        await h.stop(removing: false)

        let again = try await APIHarness.start(dir: h.dir)
        XCTAssertEqual(try served(again, "p.test.", "www.p.test.", .aaaa), ["2001:db8::1"])
        let z = try await again.request("GET", "/v1/zones/p.test", token: admin)
        XCTAssertEqual(z.status, 200, "keys persist too")
        XCTAssertEqual(z.json["version"] as? Int, 2)
        await again.stop()
    }

    func testSerialArithmetic() {
        XCTAssertTrue(ZoneEditing.serialGreater(2, 1))
        XCTAssertTrue(ZoneEditing.serialGreater(0, 0xFFFF_FFFF))
        XCTAssertFalse(ZoneEditing.serialGreater(1, 2))
        XCTAssertEqual(ZoneEditing.nextSerial(old: 0xFFFF_FFFF, requested: nil), 1)
        XCTAssertEqual(ZoneEditing.nextSerial(old: 10, requested: 5), 11)
        XCTAssertEqual(ZoneEditing.nextSerial(old: 10, requested: 2024010101), 2024010101)
        XCTAssertTrue(KeyTokens.constantTimeEqual("abc", "abc"))
        XCTAssertFalse(KeyTokens.constantTimeEqual("abc", "abd"))
        XCTAssertTrue(KeyTokens.generate().hasPrefix("bwk_"))
    }
}
