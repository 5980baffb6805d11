// `ControlStore` over portable SQL: the same statements on SQLite and PostgreSQL.
import BulwarkWire

public final class SQLControlStore: ControlStore {
    public let backend: any SQLBackend

    public init(backend: any SQLBackend) {
        self.backend = backend
    }

    public func migrate() async throws {
        try await Migrations.run(on: backend)
    }

    public func close() async {
        await backend.close()
    }

    // MARK: Tenants

    public func createTenant(_ t: Tenant) async throws {
        do {
            try await backend.withTransaction { s in
                try await s.execute("INSERT INTO tenants (id, name, created_ms) VALUES (?, ?, ?)",
                                    [.text(t.id), .text(t.name), .int(t.createdMillis)])
            }
        } catch is SQLConstraintViolation {
            throw StoreError.conflict("a tenant named '\(t.name)' exists")
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await backend.withSession { s in
            try await s.query("SELECT id, name, created_ms FROM tenants ORDER BY name", []).map(Self.tenant)
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await backend.withSession { s in
            try await s.query("SELECT id, name, created_ms FROM tenants WHERE id = ?", [.text(id)]).first.map(Self.tenant)
        }
    }

    public func tenant(named name: String) async throws -> Tenant? {
        try await backend.withSession { s in
            try await s.query("SELECT id, name, created_ms FROM tenants WHERE name = ?", [.text(name)]).first.map(Self.tenant)
        }
    }

    public func deleteTenant(id: String) async throws -> Bool {
        try await backend.withTransaction { s in
            let zones = try await s.query("SELECT COUNT(*) AS n FROM zones WHERE tenant_id = ?", [.text(id)])
            if (zones.first?.int("n") ?? 0) > 0 { throw StoreError.conflict("the tenant still has zones") }
            let found = try await s.query("SELECT id FROM tenants WHERE id = ?", [.text(id)])
            if found.isEmpty { return false }
            try await s.execute("DELETE FROM api_keys WHERE tenant_id = ?", [.text(id)])
            try await s.execute("DELETE FROM tenants WHERE id = ?", [.text(id)])
            return true
        }
    }

    static func tenant(_ r: SQLRow) -> Tenant {
        Tenant(id: r.text("id"), name: r.text("name"), createdMillis: r.int("created_ms"))
    }

    // MARK: Keys

    public func createKey(_ k: APIKey) async throws {
        do {
            try await backend.withTransaction { s in
                try await s.execute(
                    "INSERT INTO api_keys (id, tenant_id, name, role, token_sha256, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                    [.text(k.id), .text(k.tenantID), .text(k.name), .text(k.role.rawValue), .text(k.tokenHash), .int(k.createdMillis)])
            }
        } catch is SQLConstraintViolation {
            throw StoreError.conflict("this key exists")
        }
    }

    static let keyColumns = "id, tenant_id, name, role, token_sha256, created_ms"

    public func key(tokenHash: String) async throws -> APIKey? {
        try await backend.withSession { s in
            try await s.query("SELECT \(Self.keyColumns) FROM api_keys WHERE token_sha256 = ?", [.text(tokenHash)]).first.map(Self.key)
        }
    }

    public func keys(tenantID: String) async throws -> [APIKey] {
        try await backend.withSession { s in
            try await s.query("SELECT \(Self.keyColumns) FROM api_keys WHERE tenant_id = ? ORDER BY created_ms, id", [.text(tenantID)]).map(Self.key)
        }
    }

    public func deleteKey(id: String, tenantID: String) async throws -> Bool {
        try await backend.withTransaction { s in
            let found = try await s.query("SELECT id FROM api_keys WHERE id = ? AND tenant_id = ?", [.text(id), .text(tenantID)])
            if found.isEmpty { return false }
            try await s.execute("DELETE FROM api_keys WHERE id = ?", [.text(id)])
            return true
        }
    }

    public func keyCount() async throws -> Int {
        try await backend.withSession { s in
            Int(try await s.query("SELECT COUNT(*) AS n FROM api_keys", []).first?.int("n") ?? 0)
        }
    }

    static func key(_ r: SQLRow) -> APIKey {
        APIKey(id: r.text("id"), tenantID: r.text("tenant_id"), name: r.text("name"),
               role: Role(rawValue: r.text("role")) ?? .read, tokenHash: r.text("token_sha256"),
               createdMillis: r.int("created_ms"))
    }

    // MARK: Zones

    static let zoneColumns = "id, tenant_id, name, version, serial, created_ms, updated_ms, text_parts"

    public func zones(tenantID: String?) async throws -> [StoredZone] {
        try await backend.withSession { s in
            if let tenantID {
                return try await s.query("SELECT \(Self.zoneColumns) FROM zones WHERE tenant_id = ? ORDER BY name", [.text(tenantID)]).map(Self.zone)
            }
            return try await s.query("SELECT \(Self.zoneColumns) FROM zones ORDER BY name", []).map(Self.zone)
        }
    }

    public func zone(named name: String) async throws -> StoredZone? {
        try await backend.withSession { s in
            try await Self.zone(named: name, in: s)
        }
    }

    static func zone(named name: String, in s: any SQLSession) async throws -> StoredZone? {
        try await s.query("SELECT \(zoneColumns) FROM zones WHERE name = ?", [.text(name)]).first.map(zone)
    }

    public func content(of zone: StoredZone) async throws -> StoredZoneContent {
        guard zone.textParts > 0 else {
            return StoredZoneContent(text: [], rows: try await rrsets(zoneID: zone.id))
        }
        return try await backend.withTransaction { s in
            try await Self.content(of: zone, in: s)
        }
    }

    static func content(of zone: StoredZone, in s: any SQLSession) async throws -> StoredZoneContent {
        let parts = zone.textParts == 0 ? []
            : try await s.query("SELECT text FROM zone_texts WHERE zone_id = ? ORDER BY part", [.text(zone.id)])
        return StoredZoneContent(text: parts.map { $0.text("text") }, rows: try await rrsets(zoneID: zone.id, in: s))
    }

    func rrsets(zoneID: String) async throws -> [StoredRRset] {
        try await backend.withSession { s in
            try await Self.rrsets(zoneID: zoneID, in: s)
        }
    }

    /// Every RRset of `zone`: its rows, over its text when it has some.
    static func allRRsets(of zone: StoredZone, in s: any SQLSession) async throws -> [StoredRRset] {
        guard zone.textParts > 0 else { return try await rrsets(zoneID: zone.id, in: s) }
        return try await content(of: zone, in: s).rrsets(origin: try DNSName(zone.name))
    }

    static func rrsets(zoneID: String, in s: any SQLSession) async throws -> [StoredRRset] {
        try await s.query("SELECT name, type, ttl, rdata FROM rrsets WHERE zone_id = ? ORDER BY name, type", [.text(zoneID)])
            .map(rrset)
    }

    /// The RRsets of `keys` the zone has (by primary key: one indexed read each).
    static func rrsets(zoneID: String, keys: [RRsetKey], in s: any SQLSession) async throws -> [StoredRRset] {
        var out: [StoredRRset] = []
        for key in Set(keys) {
            let rows = try await s.query("SELECT name, type, ttl, rdata FROM rrsets WHERE zone_id = ? AND name = ? AND type = ?",
                                         [.text(zoneID), .text(key.name), .text(key.type)])
            out += rows.map(rrset)
        }
        return out
    }

    static func rrset(_ r: SQLRow) -> StoredRRset {
        StoredRRset(name: r.text("name"), type: r.text("type"), ttl: UInt32(truncatingIfNeeded: r.int("ttl")),
                    records: r.text("rdata").split(separator: "\n", omittingEmptySubsequences: true).map(String.init))
    }

    static func zone(_ r: SQLRow) -> StoredZone {
        StoredZone(id: r.text("id"), tenantID: r.text("tenant_id"), name: r.text("name"), version: r.int("version"),
                   serial: UInt32(truncatingIfNeeded: r.int("serial")), createdMillis: r.int("created_ms"),
                   updatedMillis: r.int("updated_ms"), textParts: Int(r.int("text_parts")))
    }

    public func history(zoneName: String, tenantID: String, limit: Int) async throws -> [ChangeRecord] {
        try await backend.withSession { s in
            try await s.query("""
                SELECT zone_id, version, zone_name, tenant_id, serial, key_id, key_name, at_ms, action, detail
                FROM changes WHERE zone_name = ? AND tenant_id = ? ORDER BY at_ms DESC, version DESC LIMIT ?
                """, [.text(zoneName), .text(tenantID), .int(Int64(limit))]).map { r in
                ChangeRecord(zoneID: r.text("zone_id"), zoneName: r.text("zone_name"), tenantID: r.text("tenant_id"),
                             version: r.int("version"), serial: UInt32(truncatingIfNeeded: r.int("serial")),
                             keyID: r.text("key_id"), keyName: r.text("key_name"), atMillis: r.int("at_ms"),
                             action: r.text("action"), detail: r.text("detail"))
            }
        }
    }

    public func writeZone<T: Sendable>(
        named name: String,
        reading: RRsetSelection,
        decide: @Sendable (StoredZone?, [StoredRRset]) throws -> (ZoneWrite, T),
        afterCommit: @Sendable (T) -> Void
    ) async throws -> T {
        let (_, result) = try await backend.withTransaction({ s -> (ZoneWrite, T) in
            let zone = try await Self.zone(named: name, in: s)
            var rrsets: [StoredRRset] = []
            if let zone {
                switch reading {
                case .all: rrsets = try await Self.allRRsets(of: zone, in: s)
                case .only(let keys): rrsets = try await Self.rrsets(zoneID: zone.id, keys: keys, in: s)
                }
            }
            let (write, result) = try decide(zone, rrsets)
            try await Self.apply(write, existing: zone, in: s)
            return (write, result)
        }, afterCommit: { afterCommit($0.1) })
        return result
    }

    static func apply(_ write: ZoneWrite, existing: StoredZone?, in s: any SQLSession) async throws {
        switch write {
        case .none:
            return
        case .put(let z, let upserts, let deletes, let change, let replacingAll, let text):
            let whole = replacingAll || existing == nil
            // The text the zone is stored over: an import's (or none), else as it was.
            let textParts = whole ? text.count : (existing?.textParts ?? 0)
            do {
                if existing == nil {
                    try await s.execute("INSERT INTO zones (id, tenant_id, name, version, serial, created_ms, updated_ms, text_parts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                        [.text(z.id), .text(z.tenantID), .text(z.name), .int(z.version), .int(Int64(z.serial)),
                                         .int(z.createdMillis), .int(z.updatedMillis), .int(Int64(textParts))])
                } else {
                    try await s.execute("UPDATE zones SET version = ?, serial = ?, updated_ms = ?, text_parts = ? WHERE id = ?",
                                        [.int(z.version), .int(Int64(z.serial)), .int(z.updatedMillis), .int(Int64(textParts)), .text(z.id)])
                }
            } catch is SQLConstraintViolation {
                throw StoreError.conflict("zone \(z.name) exists")
            }
            if whole {
                if existing != nil {
                    try await s.execute("DELETE FROM rrsets WHERE zone_id = ?", [.text(z.id)])
                    try await s.execute("DELETE FROM zone_texts WHERE zone_id = ?", [.text(z.id)])
                }
                for (i, part) in text.enumerated() {
                    try await s.execute("INSERT INTO zone_texts (zone_id, part, text) VALUES (?, ?, ?)",
                                        [.text(z.id), .int(Int64(i)), .text(part)])
                }
                try await insert(upserts, zoneID: z.id, in: s)
                try await insert(change, in: s)
                return
            }
            for key in deletes {
                try await s.execute("DELETE FROM rrsets WHERE zone_id = ? AND name = ? AND type = ?",
                                    [.text(z.id), .text(key.name), .text(key.type)])
                if textParts > 0 {
                    // Deleted from the text: a row without records says so.
                    try await s.execute("INSERT INTO rrsets (zone_id, name, type, ttl, rdata) VALUES (?, ?, ?, 0, '')",
                                        [.text(z.id), .text(key.name), .text(key.type)])
                }
            }
            for r in upserts {
                // Portable upsert: delete then insert inside the transaction.
                try await s.execute("DELETE FROM rrsets WHERE zone_id = ? AND name = ? AND type = ?",
                                    [.text(z.id), .text(r.name), .text(r.type)])
                try await s.execute("INSERT INTO rrsets (zone_id, name, type, ttl, rdata) VALUES (?, ?, ?, ?, ?)",
                                    [.text(z.id), .text(r.name), .text(r.type), .int(Int64(r.ttl)), .text(r.records.joined(separator: "\n"))])
            }
            try await insert(change, in: s)
        case .delete(let zoneID, let change):
            try await s.execute("DELETE FROM rrsets WHERE zone_id = ?", [.text(zoneID)])
            try await s.execute("DELETE FROM zone_texts WHERE zone_id = ?", [.text(zoneID)])
            try await s.execute("DELETE FROM zones WHERE id = ?", [.text(zoneID)])
            try await insert(change, in: s)
        }
    }

    /// Inserts RRsets many rows to a statement (an import of a million names is a few
    /// thousand statements, not a million).
    static func insert(_ rrsets: [StoredRRset], zoneID: String, in s: any SQLSession) async throws {
        let perStatement = 500  // 2,500 parameters: within SQLite's and PostgreSQL's limits
        var start = 0
        while start < rrsets.count {
            let chunk = rrsets[start..<min(start + perStatement, rrsets.count)]
            var sql = "INSERT INTO rrsets (zone_id, name, type, ttl, rdata) VALUES "
            var binds: [SQLValue] = []
            binds.reserveCapacity(chunk.count * 5)
            for (i, r) in chunk.enumerated() {
                sql += i == 0 ? "(?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?)"
                binds += [.text(zoneID), .text(r.name), .text(r.type), .int(Int64(r.ttl)), .text(r.records.joined(separator: "\n"))]
            }
            try await s.execute(sql, binds)
            start += chunk.count
        }
    }

    static func insert(_ c: ChangeRecord, in s: any SQLSession) async throws {
        try await s.execute("""
            INSERT INTO changes (zone_id, version, zone_name, tenant_id, serial, key_id, key_name, at_ms, action, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(c.zoneID), .int(c.version), .text(c.zoneName), .text(c.tenantID), .int(Int64(c.serial)),
                  .text(c.keyID), .text(c.keyName), .int(c.atMillis), .text(c.action), .text(c.detail)])
    }
}
