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
        XCTAssertEqual(tables, ["api_keys", "changes", "rrsets", "schema_migrations", "tenants", "zones"])
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
