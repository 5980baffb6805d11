// Scale-out: several `bulwark` API nodes on one PostgreSQL database. A trigger on
// `zones` sends NOTIFY bulwark_zones '<zone name>' when a transaction that changed a
// zone commits (NOTIFY is transactional); every node LISTENs and reloads that zone from
// the database into its catalog, so a change made through node A is answered by node
// B's DNS at once. Zones are re-read in full when the listening connection is
// (re)established and every `resyncInterval`, so a notification lost with a broken
// connection delays a change, never loses it.
import BulwarkSettings
import BulwarkWire
import BulwarkZone
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

public final class PostgresZoneSync: Sendable {
    public static let channel = "bulwark_zones"

    let backend: PostgresBackend
    let catalog: ZoneCatalog
    let logger: Logger
    let resyncInterval: Duration
    /// What this node serves from the API: zone name → (row id, version).
    private let served = NIOLockedValueBox([String: ZoneStamp]())
    /// Zones notified and not reloaded yet (coalesced: a burst of changes to one zone is one reload).
    private let pending = NIOLockedValueBox(Set<String>())
    private let doorbell: AsyncStream<Void>.Continuation
    private let rings: AsyncStream<Void>

    struct ZoneStamp: Equatable {
        var id: String
        var version: Int64
    }

    public init(backend: PostgresBackend, catalog: ZoneCatalog, logger: Logger, resyncInterval: Duration = .seconds(60)) {
        self.backend = backend
        self.catalog = catalog
        self.logger = logger
        self.resyncInterval = resyncInterval
        (rings, doorbell) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The trigger; run once at start-up (under the migration lock).
    public static func installTrigger(on backend: PostgresBackend) async throws {
        try await backend.withTransaction { s in
            try await s.execute("""
                CREATE OR REPLACE FUNCTION bulwark_zone_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' THEN
                        PERFORM pg_notify('\(channel)', OLD.name);
                    ELSE
                        PERFORM pg_notify('\(channel)', NEW.name);
                    END IF;
                    RETURN NULL;
                END
                $$
                """)
            try await s.execute("DROP TRIGGER IF EXISTS zones_notify ON zones")
            try await s.execute("CREATE TRIGGER zones_notify AFTER INSERT OR UPDATE OR DELETE ON zones FOR EACH ROW EXECUTE FUNCTION bulwark_zone_changed()")
        }
    }

    /// A store whose zone writes tell this sync what the node published itself (so the
    /// notification of its own change costs one version check, not a reload).
    public func tracking(_ store: any ControlStore) -> any ControlStore {
        TrackingStore(inner: store, sync: self)
    }

    func noteLocalWrite(_ write: ZoneWrite) {
        switch write {
        case .none: break
        case .put(let zone, _, _, _, _, _): served.withLockedValue { $0[zone.name] = ZoneStamp(id: zone.id, version: zone.version) }
        case .delete(_, let change): served.withLockedValue { $0[change.zoneName] = nil }
        }
    }

    // MARK: Loading

    /// Publishes every zone of the database not served at its current version, and
    /// withdraws API zones the database no longer has. Returns how many it published.
    @discardableResult
    public func resync() async throws -> Int {
        let rows = try await backend.withSession { s in
            try await s.query("SELECT name, id, version FROM zones", [])
        }
        var names = Set<String>()
        var reload: [String] = []
        let known = served.withLockedValue { $0 }
        for r in rows {
            let name = r.text("name")
            names.insert(name)
            if known[name] != ZoneStamp(id: r.text("id"), version: r.int("version")) { reload.append(name) }
        }
        reload += known.keys.filter { !names.contains($0) }
        var published = 0
        for name in reload where try await self.reload(name) { published += 1 }
        return published
    }

    /// Reads zone `name` as committed and publishes it (or withdraws it when gone).
    /// Runs as a (read-only) transaction of this node so that it is ordered with the
    /// node's own writes: an older version is never published over a newer one.
    @discardableResult
    func reload(_ name: String) async throws -> Bool {
        enum Step: Sendable {
            case nothing
            case publish(Zone, ZoneStamp)
            case withdraw
            case broken(String)
        }
        let served = self.served
        let step: Step = try await backend.withTransaction({ s -> Step in
            guard let z = try await SQLControlStore.zone(named: name, in: s) else {
                return served.withLockedValue { $0[name] } == nil ? .nothing : .withdraw
            }
            let stamp = ZoneStamp(id: z.id, version: z.version)
            let known = served.withLockedValue({ $0[name] })
            if known == stamp { return .nothing }
            // Changes of some RRsets since the version served: applied to it, reading only
            // their rows (as the node that made them did).
            if let known, known.id == z.id, known.version < z.version, let origin = try? DNSName(name),
               let base = catalog.entry(named: origin), base.provenance == .api,
               let keys = try await Self.rrsetsChanged(zoneID: z.id, after: known.version, upTo: z.version, in: s) {
                let soaKey = ControlPlane.soaKey(origin)
                // A key changed since the zone's import has a row (a deletion from its text, one
                // without records); with no row at all it was deleted from a zone of rows.
                let rows = try await SQLControlStore.rrsets(zoneID: z.id, keys: keys + [soaKey], in: s)
                    .filter { !$0.records.isEmpty }
                let present = Set(rows.map(\.key))
                if let (zone, _) = try? ZoneEditing.apply(upserts: rows, deletes: keys.filter { !present.contains($0) },
                                                          to: base.zone, fieldOf: { _ in nil }) {
                    return .publish(zone, stamp)
                }
            }
            let content = try await SQLControlStore.content(of: z, in: s)
            do {
                return .publish(try content.zone(origin: try DNSName(name)), stamp)
            } catch {
                return .broken("\(error)")
            }
        }, afterCommit: { [catalog, logger] step in
            switch step {
            case .nothing:
                break
            case .publish(let zone, let stamp):
                do {
                    try catalog.publish(zone, from: .api)
                    served.withLockedValue { $0[name] = stamp }
                } catch {
                    logger.error("API zone \(name) is not served: \(error)")
                }
            case .withdraw:
                if let origin = try? DNSName(name) { catalog.remove(origin, from: .api) }
                served.withLockedValue { $0[name] = nil }
            case .broken(let why):
                logger.error("API zone \(name) is not served: \(why)")
            }
        })
        if case .publish = step { return true }
        return false
    }

    /// The RRsets the versions after `after` up to `target` changed, from their history
    /// rows; nil unless every one of them is there and is an update naming its RRsets.
    static func rrsetsChanged(zoneID: String, after: Int64, upTo target: Int64, in s: any SQLSession) async throws -> [RRsetKey]? {
        let rows = try await s.query("SELECT version, action, detail FROM changes WHERE zone_id = ? AND version > ? AND version <= ? ORDER BY version",
                                     [.text(zoneID), .int(after), .int(target)])
        guard rows.count == Int(target - after) else { return nil }
        var keys: [RRsetKey] = []
        for row in rows {
            guard row.text("action") == "update",
                  let entries = try? JSONSerialization.jsonObject(with: Data(row.text("detail").utf8)) as? [[String: Any]] else {
                return nil
            }
            for entry in entries {
                guard let name = entry["name"] as? String, let type = entry["type"] as? String else { return nil }
                keys.append(RRsetKey(name: name, type: type))
            }
        }
        return keys
    }

    // MARK: Listening

    /// Listens until cancelled, reconnecting after a failure.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.reloadPending() }
            group.addTask { await self.periodicResync() }
            group.addTask { await self.listen() }
        }  // each ends when the caller cancels this task
    }

    private func listen() async {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: PostgresBackend.connectionConfiguration(backend.url), id: 1, logger: backend.logger)
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: Self.channel) { notifications in
                    // Listening now: changes committed from here on are notified; the
                    // resync catches what was committed before.
                    delay = .milliseconds(200)
                    try await self.resync()
                    for try await n in notifications {
                        self.pending.withLockedValue { _ = $0.insert(n.payload) }
                        self.doorbell.yield()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("zone change feed from PostgreSQL interrupted (\(PostgresBackend.describe(error))); reconnecting")
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }

    private func reloadPending() async {
        for await _ in rings {
            let names = pending.withLockedValue { p -> Set<String> in
                defer { p.removeAll() }
                return p
            }
            for name in names.sorted() {
                do {
                    try await reload(name)
                } catch {
                    logger.warning("cannot reload API zone \(name) from PostgreSQL: \(PostgresBackend.describe(error)); retrying")
                    pending.withLockedValue { _ = $0.insert(name) }
                    try? await Task.sleep(for: .milliseconds(500))
                    doorbell.yield()
                }
            }
            if Task.isCancelled { return }
        }
    }

    private func periodicResync() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: resyncInterval)
            if Task.isCancelled { return }
            do { try await resync() } catch {
                logger.warning("zone resync from PostgreSQL failed: \(PostgresBackend.describe(error))")
            }
        }
    }
}

/// Forwards to the real store; its zone writes also tell the sync what was published.
struct TrackingStore: ControlStore {
    let inner: any ControlStore
    let sync: PostgresZoneSync

    func migrate() async throws { try await inner.migrate() }
    func close() async { await inner.close() }
    func createTenant(_ tenant: Tenant) async throws { try await inner.createTenant(tenant) }
    func tenants() async throws -> [Tenant] { try await inner.tenants() }
    func tenant(id: String) async throws -> Tenant? { try await inner.tenant(id: id) }
    func tenant(named name: String) async throws -> Tenant? { try await inner.tenant(named: name) }
    func deleteTenant(id: String) async throws -> Bool { try await inner.deleteTenant(id: id) }
    func createKey(_ key: APIKey) async throws { try await inner.createKey(key) }
    func key(tokenHash: String) async throws -> APIKey? { try await inner.key(tokenHash: tokenHash) }
    func keys(tenantID: String) async throws -> [APIKey] { try await inner.keys(tenantID: tenantID) }
    func deleteKey(id: String, tenantID: String) async throws -> Bool { try await inner.deleteKey(id: id, tenantID: tenantID) }
    func keyCount() async throws -> Int { try await inner.keyCount() }
    func zones(tenantID: String?) async throws -> [StoredZone] { try await inner.zones(tenantID: tenantID) }
    func zone(named name: String) async throws -> StoredZone? { try await inner.zone(named: name) }
    func content(of zone: StoredZone) async throws -> StoredZoneContent { try await inner.content(of: zone) }
    func history(zoneName: String, tenantID: String, limit: Int) async throws -> [ChangeRecord] {
        try await inner.history(zoneName: zoneName, tenantID: tenantID, limit: limit)
    }

    func writeZone<T: Sendable>(
        named name: String,
        reading: RRsetSelection,
        decide: @Sendable (StoredZone?, [StoredRRset]) throws -> (ZoneWrite, T),
        afterCommit: @Sendable (T) -> Void
    ) async throws -> T {
        let sync = self.sync
        let pair = try await inner.writeZone(named: name, reading: reading, decide: { zone, rrsets -> (ZoneWrite, Pair<T>) in
            let (write, result) = try decide(zone, rrsets)
            return (write, Pair(write: write, result: result))
        }, afterCommit: { pair in
            sync.noteLocalWrite(pair.write)
            afterCommit(pair.result)
        })
        return pair.result
    }
}

struct Pair<T: Sendable>: Sendable {
    var write: ZoneWrite
    var result: T
}
