import BulwarkControl
import Foundation
import XCTest

final class SQLiteStoreTests: XCTestCase {
    func testMigrationsRunOnceAndWAL() async throws {
        let dir = NSTemporaryDirectory() + "bulwark-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let backend = try await SQLiteBackend.open(path: dir + "/sub/control.sqlite")
        let first = try await Migrations.run(on: backend)
        XCTAssertEqual(first, Migrations.all.map(\.version))
        let second = try await Migrations.run(on: backend)
        XCTAssertEqual(second, [])
        let mode = try await backend.withSession { try await $0.query("PRAGMA journal_mode", []) }
        XCTAssertEqual(mode.first?.values.values.first?.text, "wal")
        let tables = try await backend.withSession {
            try await $0.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", []).map { $0.text("name") }
        }
        XCTAssertEqual(tables, ["api_keys", "changes", "rrsets", "schema_migrations", "tenants", "zone_texts", "zones"])
        await backend.close()
    }

    func testLaterMigrationsUpgradeAStoreWithZones() async throws {
        let dir = NSTemporaryDirectory() + "bulwark-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let backend = try await SQLiteBackend.open(path: dir + "/control.sqlite")
        // A store as the first schema left it, with a zone of rows.
        try await backend.withTransaction { s in
            try await s.execute("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, summary TEXT NOT NULL, applied_ms BIGINT NOT NULL)", [])
            for statement in Migrations.all[0].statements { try await s.execute(statement, []) }
            try await s.execute("INSERT INTO schema_migrations VALUES (1, 'first', 0)", [])
            try await s.execute("INSERT INTO tenants VALUES ('t', 't', 0)", [])
            try await s.execute("INSERT INTO zones VALUES ('z', 't', 'old.test.', 3, 7, 0, 0)", [])
            try await s.execute("INSERT INTO rrsets VALUES ('z', 'www.old.test.', 'A', 60, '192.0.2.1')", [])
        }
        let applied = try await Migrations.run(on: backend)
        XCTAssertEqual(applied, Array(Migrations.all.map(\.version).dropFirst()))
        let store = SQLControlStore(backend: backend)
        let zone = try await store.zone(named: "old.test.")
        XCTAssertEqual(zone?.version, 3)
        XCTAssertEqual(zone?.textParts, 0)
        let content = try await store.content(of: zone!)
        XCTAssertEqual(content.text, [])
        XCTAssertEqual(content.rows, [StoredRRset(name: "www.old.test.", type: "A", ttl: 60, records: ["192.0.2.1"])])
        await backend.close()
    }

    func testFailedTransactionLeavesNothing() async throws {
        let dir = NSTemporaryDirectory() + "bulwark-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = SQLControlStore(backend: try await SQLiteBackend.open(path: dir + "/control.sqlite"))
        try await store.migrate()
        try await store.createTenant(Tenant(id: "t", name: "t", createdMillis: 0))
        struct Boom: Error {}
        do {
            try await store.backend.withTransaction { s in
                try await s.execute("INSERT INTO tenants (id, name, created_ms) VALUES (?, ?, ?)", [.text("u"), .text("u"), .int(0)])
                throw Boom()
            }
            XCTFail("expected the error")
        } catch is Boom {}
        let names = try await store.tenants().map(\.name)
        XCTAssertEqual(names, ["t"])
        do {
            try await store.createTenant(Tenant(id: "t2", name: "t", createdMillis: 0))
            XCTFail("duplicate name accepted")
        } catch StoreError.conflict {}
        await store.close()
    }
}
