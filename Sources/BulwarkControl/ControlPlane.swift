// The control plane's operations, independent of HTTP: authentication, tenants, keys,
// zones and RRsets. Every zone change is one store transaction (checked like a zone
// file, SOA serial bumped, audited) followed, once durable, by a new snapshot published
// through the ZoneCatalog: the DNS server answers with it as soon as the call returns.
import BulwarkSettings
import BulwarkWire
import BulwarkZone
import Foundation
import Logging

public final class ControlPlane: Sendable {
    /// The tenant created at first start; its admin keys manage the other tenants.
    public static let operatorTenantID = "operator"

    public let store: any ControlStore
    public let catalog: ZoneCatalog
    public let limiter: KeyRateLimiter
    public let maxBodyBytes: Int
    let logger: Logger

    public init(store: any ControlStore, catalog: ZoneCatalog, limiter: KeyRateLimiter,
                maxBodyBytes: Int, logger: Logger) {
        self.store = store
        self.catalog = catalog
        self.limiter = limiter
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
    }

    // MARK: Startup

    /// Makes sure the operator tenant and an admin key exist. With `adminKey` (from
    /// BULWARK_ADMIN_KEY) that token becomes an operator admin key; otherwise, when the
    /// database has no key at all, a new token is made and returned (to print once).
    public func bootstrap(adminKey: String?) async throws -> String? {
        if try await store.tenant(id: Self.operatorTenantID) == nil {
            try await store.createTenant(Tenant(id: Self.operatorTenantID, name: "operator", createdMillis: Clock.nowMillis()))
        }
        if let adminKey, !adminKey.isEmpty {
            let hash = KeyTokens.hash(adminKey)
            if try await store.key(tokenHash: hash) == nil {
                try await store.createKey(APIKey(id: KeyTokens.newID(), tenantID: Self.operatorTenantID, name: "bootstrap (BULWARK_ADMIN_KEY)",
                                                 role: .admin, tokenHash: hash, createdMillis: Clock.nowMillis()))
            }
            return nil
        }
        guard try await store.keyCount() == 0 else { return nil }
        let token = KeyTokens.generate()
        try await store.createKey(APIKey(id: KeyTokens.newID(), tenantID: Self.operatorTenantID, name: "bootstrap",
                                         role: .admin, tokenHash: KeyTokens.hash(token), createdMillis: Clock.nowMillis()))
        return token
    }

    /// Publishes every zone in the database, all in one publish; returns how many are
    /// served. A zone that cannot be built or whose name a zone file serves is logged and
    /// skipped.
    @discardableResult
    public func loadZones() async throws -> Int {
        var zones: [Zone] = []
        for z in try await store.zones(tenantID: nil) {
            do {
                let origin = try DNSName(z.name)
                zones.append(try await store.content(of: z).zone(origin: origin))
            } catch {
                logger.error("API zone \(z.name) is not served: \(error)")
            }
        }
        let (changes, conflicts) = catalog.publish(zones, from: .api)
        // Reading the zones' rows leaves many freed chunks: give their pages back, and have
        // glibc gather the chunks here rather than in the first request after start-up that
        // needs a larger block (its malloc_consolidate: ~25 ms after 100,000 small zones).
        if zones.count > 1000 || zones.contains(where: { $0.recordCount > 10_000 }) { trimMallocHeap() }
        for name in conflicts {
            let owner = catalog.entry(named: name).map { "\($0.provenance)" } ?? "another source"
            logger.error("API zone \(name) is not served: zone \(name) is already served from \(owner)")
        }
        return changes.count
    }

    // MARK: Authentication

    /// The caller of a request bearing `token`; 401 without a valid one, 429 when its
    /// key is over its rate.
    public func authenticate(token: String?) async throws -> Caller {
        guard let token, !token.isEmpty, token.utf8.count <= 512 else { throw APIError.unauthorized }
        let hash = KeyTokens.hash(token)
        guard let key = try await store.key(tokenHash: hash), KeyTokens.constantTimeEqual(key.tokenHash, hash) else {
            throw APIError.unauthorized
        }
        if let wait = limiter.take(key.id) {
            var e = APIError(.tooManyRequests, "rate_limited", "too many requests for this key; retry later")
            e.headers[.retryAfter] = String(max(1, Int(wait.rounded(.up))))
            throw e
        }
        return Caller(key: key, isOperator: key.tenantID == Self.operatorTenantID)
    }

    // MARK: Tenants and keys

    func requireOperator(_ caller: Caller) throws(APIError) {
        try caller.require(.admin)
        guard caller.isOperator else {
            throw APIError(.forbidden, "forbidden", "only admin keys of the operator tenant manage tenants")
        }
    }

    public func createTenant(name: String, caller: Caller) async throws -> Tenant {
        try requireOperator(caller)
        let trimmed = name.trimmingSpaces
        guard !trimmed.isEmpty, trimmed.count <= 100 else { throw APIError.invalid("name", "a tenant name of 1 to 100 characters is required") }
        let t = Tenant(id: KeyTokens.newID(), name: trimmed, createdMillis: Clock.nowMillis())
        do { try await store.createTenant(t) } catch StoreError.conflict(let m) { throw APIError.conflict(m) }
        return t
    }

    /// The tenant a caller may act for: its own, or (operator only) the one named.
    func tenantID(for caller: Caller, requested: String?) async throws -> String {
        guard let requested, requested != caller.key.tenantID else { return caller.key.tenantID }
        guard caller.isOperator && caller.key.role == .admin else { throw APIError.notFound("tenant") }
        guard try await store.tenant(id: requested) != nil else { throw APIError.notFound("tenant") }
        return requested
    }

    public func createKey(name: String, role: Role, tenant: String?, caller: Caller) async throws -> (APIKey, String) {
        try caller.require(.admin)
        let tenantID = try await tenantID(for: caller, requested: tenant)
        let token = KeyTokens.generate()
        let key = APIKey(id: KeyTokens.newID(), tenantID: tenantID, name: name, role: role,
                         tokenHash: KeyTokens.hash(token), createdMillis: Clock.nowMillis())
        try await store.createKey(key)
        return (key, token)
    }

    // MARK: Zones

    /// The zone `name` if the caller's tenant owns it; 404 otherwise (another tenant's
    /// zone is indistinguishable from no zone).
    public func ownedZone(_ name: DNSName, caller: Caller) async throws -> StoredZone {
        guard let z = try await store.zone(named: name.description), z.tenantID == caller.key.tenantID else {
            throw APIError.notFound("zone \(name)")
        }
        return z
    }

    /// Every RRset of `zone`, sorted. A zone stored as text is listed from the snapshot
    /// served when that is the version stored (else its text is read).
    public func rrsets(of zone: StoredZone) async throws -> [StoredRRset] {
        let origin = try DNSName(zone.name)
        if zone.textParts > 0, let served = servedSnapshot(origin, serial: zone.serial) {
            return ZoneImport.storedRRsets(served, names: 0..<served.nameCount).sorted { $0.key < $1.key }
        }
        return try await store.content(of: zone).rrsets(origin: origin)
    }

    /// The RRset `key` of `zone`, or nil.
    public func rrset(_ key: RRsetKey, of zone: StoredZone) async throws -> StoredRRset? {
        if zone.textParts > 0, let served = servedSnapshot(try DNSName(zone.name), serial: zone.serial) {
            return ZoneEditing.storedRRset(key, in: served)
        }
        return try await rrsets(of: zone).first { $0.key == key }
    }

    /// The API zone `origin` as served, if its serial is `serial`.
    func servedSnapshot(_ origin: DNSName, serial: UInt32) -> Zone? {
        guard let entry = catalog.entry(named: origin), entry.provenance == .api, entry.zone.serial == serial else { return nil }
        return entry.zone
    }

    public static func etag(_ z: StoredZone) -> String {
        "\"\(z.id.prefix(8))-\(z.version)\""
    }

    /// RFC 9110 §13.1.1: If-Match is a list of entity tags or `*`.
    static func matches(_ ifMatch: String?, _ zone: StoredZone?) -> Bool {
        guard let ifMatch else { return true }
        guard let zone else { return false }
        let tags = ifMatch.split(separator: ",").map { String($0).trimmingSpaces }
        if tags.contains("*") { return true }
        let current = etag(zone)
        return tags.contains { KeyTokens.constantTimeEqual($0, current) || $0 == "W/" + current }
    }

    /// The outcome of a zone change.
    public struct Outcome: Sendable {
        public var zone: StoredZone
        /// The RRsets the change read and wrote, sorted (all of them for a whole-zone change).
        public var rrsets: [StoredRRset]
        public var snapshot: Zone?
        public var warnings: [String]
        /// `rrsets` is every RRset of the zone (a whole-zone change small enough to list).
        public var listsAllRRsets = true
    }

    /// What an edit produces from the RRsets it was given: their new state (absent:
    /// deleted), the RRsets it touched with the request field each came from, and an
    /// audit description.
    public struct Edit: Sendable {
        public var rrsets: [RRsetKey: StoredRRset]
        public var touched: [RRsetKey: String]
        public var detail: [[String: String]]
        /// A serial the request asked for (import, SOA replace): used if it moves forward.
        public var requestedSerial: UInt32?
    }

    /// What a change is about.
    public enum Scope: Sendable {
        /// These RRsets (and the SOA, whose serial moves): the edit sees them only, and the
        /// change costs what it touches.
        case rrsets([RRsetKey])
        /// The whole zone (creation, imports): the edit sees nothing and returns every
        /// RRset; checked as a zone file is, written in bulk.
        case wholeZone
    }

    /// The served snapshot was not the version stored: the change is redone on the whole zone.
    struct StaleSnapshot: Error {}

    /// Runs one zone change: `edit` sees the committed RRsets `scope` names (none when
    /// the zone does not exist yet and `create` is set) in the store's transaction. A change of some RRsets is applied to the snapshot being
    /// served (`Zone.applying`): only the names it touches are checked, only its rows
    /// written, and the new version shares everything else with the old one.
    public func change(
        zone origin: DNSName, caller: Caller, ifMatch: String?, action: String, create: Bool = false,
        mustCreate: Bool = false, scope: Scope, edit: @escaping @Sendable ([RRsetKey: StoredRRset]) throws -> Edit
    ) async throws -> Outcome {
        try caller.require(.write)
        if let existing = catalog.entry(named: origin), existing.provenance != .api {
            // A name belongs to one provenance: a zone file or secondary serves it already.
            throw APIError.conflict("zone \(origin) is served from a \(existing.provenance == .file ? "zone file" : "primary (secondary zone)"); it cannot be managed through the API")
        }
        guard case .rrsets(let keys) = scope else {
            return try await change(origin, caller: caller, ifMatch: ifMatch, action: action, create: create,
                                    mustCreate: mustCreate, reading: .only([]), base: nil, replacing: true, edit: edit)
        }
        if let served = catalog.entry(named: origin), served.provenance == .api {
            do {
                return try await change(origin, caller: caller, ifMatch: ifMatch, action: action, create: create,
                                        mustCreate: mustCreate, reading: .only(keys + [Self.soaKey(origin)]),
                                        base: served.zone, replacing: false, edit: edit)
            } catch is StaleSnapshot {
                logger.notice("zone \(origin): the served version is not the stored one; the change is applied to the whole zone")
            }
        }
        return try await change(origin, caller: caller, ifMatch: ifMatch, action: action, create: create,
                                mustCreate: mustCreate, reading: .all, base: nil, replacing: false, edit: edit)
    }

    /// Publishes a committed change's snapshot (what `writeZone` runs after the commit).
    func publishing(_ origin: DNSName) -> @Sendable (Outcome) -> Void {
        { [catalog, logger] outcome in
            guard let snapshot = outcome.snapshot else { return }
            do {
                try catalog.publish(snapshot, from: .api)
            } catch {
                logger.error("zone \(origin) version \(outcome.zone.version) stored but not served: \(error)")
            }
        }
    }

    static func soaKey(_ origin: DNSName) -> RRsetKey { RRsetKey(name: origin.description, type: "SOA") }

    /// One change in one transaction: with `base`, applied to it (the RRsets read are
    /// those the change touches); without, built whole from the RRsets read (all of them)
    /// or, `replacing`, from those the edit returns.
    private func change(
        _ origin: DNSName, caller: Caller, ifMatch: String?, action: String, create: Bool, mustCreate: Bool,
        reading: RRsetSelection, base: Zone?, replacing: Bool,
        edit: @escaping @Sendable ([RRsetKey: StoredRRset]) throws -> Edit
    ) async throws -> Outcome {
        let tenantID = caller.key.tenantID
        let key = caller.key
        return try await store.writeZone(named: origin.description, reading: reading, decide: { (current, stored) throws -> (ZoneWrite, Outcome) in
            if let current {
                guard current.tenantID == tenantID else {
                    if mustCreate { throw APIError.conflict("zone \(origin) exists") }
                    throw APIError.notFound("zone \(origin)")
                }
                if mustCreate { throw APIError.conflict("zone \(origin) exists") }
            } else if !create {
                throw APIError.notFound("zone \(origin)")
            }
            guard Self.matches(ifMatch, current) else {
                throw current.map { APIError.preconditionFailed(Self.etag($0)) }
                    ?? APIError(.preconditionFailed, "precondition_failed", "If-Match given but zone \(origin) does not exist")
            }
            // The snapshot edited must be the version stored (another API node on the same
            // PostgreSQL may have moved the zone on since this node published it).
            if let base, base.serial != current?.serial { throw StaleSnapshot() }
            var before: [RRsetKey: StoredRRset] = [:]
            for r in stored where !r.records.isEmpty { before[r.key] = r }
            if let base, let current, current.textParts > 0, case .only(let keys) = reading {
                // Stored as imported text: an RRset without a row since is as the text has
                // it, which is what the snapshot of this version serves.
                let rows = Set(stored.map(\.key))
                for key in keys where !rows.contains(key) {
                    if let r = ZoneEditing.storedRRset(key, in: base) { before[key] = r }
                }
            }
            var e = try edit(before)
            // The SOA serial moves forward on every change (RFC 1982 arithmetic).
            let soaKey = Self.soaKey(origin)
            guard var soa = e.rrsets[soaKey], let soaText = soa.records.first else {
                throw APIError.invalid(e.touched[soaKey] ?? "zone", "the zone needs an SOA record at its apex (RFC 1035 §5.2)")
            }
            let proposed = ZoneEditing.serial(ofSOA: soaText) ?? 0
            let serial: UInt32
            if let current {
                let requested = e.requestedSerial ?? (proposed != current.serial ? proposed : nil)
                serial = ZoneEditing.nextSerial(old: current.serial, requested: requested)
            } else {
                serial = proposed == 0 ? Self.initialSerial() : proposed
            }
            soa.records = [ZoneEditing.settingSerial(serial, inSOA: soaText)]
            e.rrsets[soaKey] = soa
            var upserts: [StoredRRset] = []
            for (k, r) in e.rrsets where replacing || before[k] != r { upserts.append(r) }
            let deletes = replacing ? [] : before.keys.filter { e.rrsets[$0] == nil }
            let snapshot: Zone
            let warnings: [String]
            if let base {
                (snapshot, warnings) = try ZoneEditing.apply(upserts: upserts, deletes: deletes, to: base,
                                                             fieldOf: { e.touched[$0] })
            } else {
                let (built, issues) = try ZoneEditing.build(origin: origin, rrsets: Array(e.rrsets.values),
                                                            fieldOf: { e.touched[$0] })
                (snapshot, warnings) = (built, issues.filter { !$0.isError }.map(\.message))
            }
            let now = Clock.nowMillis()
            let zone = StoredZone(id: current?.id ?? KeyTokens.newID(), tenantID: tenantID, name: origin.description,
                                  version: (current?.version ?? 0) + 1, serial: serial,
                                  createdMillis: current?.createdMillis ?? now, updatedMillis: now,
                                  textParts: replacing ? 0 : current?.textParts ?? 0)
            let detailJSON = (try? JSONSerialization.data(withJSONObject: e.detail, options: [.sortedKeys]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "[]"
            let change = ChangeRecord(zoneID: zone.id, zoneName: zone.name, tenantID: tenantID, version: zone.version,
                                      serial: serial, keyID: key.id, keyName: key.name, atMillis: now,
                                      action: current == nil ? "create" : action, detail: detailJSON)
            let outcome = Outcome(zone: zone, rrsets: e.rrsets.values.sorted { $0.key < $1.key }, snapshot: snapshot,
                                  warnings: warnings)
            return (.put(zone: zone, upserts: upserts, deletes: deletes, change: change, replacingAll: replacing && current != nil),
                    outcome)
        }, afterCommit: publishing(origin))
    }

    /// Imports a whole zone (creating it, or replacing every RRset of it) from text read
    /// and built beforehand (`ZoneImport`): one transaction writing the RRsets in bulk.
    /// The serial is the text's when it moves forward (or, for a new zone, is not 0),
    /// else the stored one plus one (RFC 1982).
    public func importZone(_ prepared: PreparedZone, caller: Caller, ifMatch: String?, mustCreate: Bool) async throws -> Outcome {
        try caller.require(.write)
        let origin = prepared.zone.origin
        if let existing = catalog.entry(named: origin), existing.provenance != .api {
            throw APIError.conflict("zone \(origin) is served from a \(existing.provenance == .file ? "zone file" : "primary (secondary zone)"); it cannot be managed through the API")
        }
        let tenantID = caller.key.tenantID
        let key = caller.key
        let logger = self.logger
        let start = ContinuousClock.now
        defer {
            let t = prepared.timings
            logger.info("zone \(origin) imported: \(prepared.zone.recordCount) records; read \(t.read) s, checked and built \(t.build) s, formatted \(t.format) s, stored and served \((ContinuousClock.now - start).seconds) s")
            if prepared.zone.recordCount > 10_000 {
                // The text's records and rows are freed once the reply is out: then give
                // their pages back, so the resident size falls to the zone's.
                DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + 1) { trimMallocHeap() }
            }
        }
        return try await store.writeZone(named: origin.description, reading: .only([]), decide: { (current, _) throws -> (ZoneWrite, Outcome) in
            if let current {
                guard current.tenantID == tenantID, !mustCreate else {
                    if mustCreate { throw APIError.conflict("zone \(origin) exists") }
                    throw APIError.notFound("zone \(origin)")
                }
            }
            guard Self.matches(ifMatch, current) else {
                throw current.map { APIError.preconditionFailed(Self.etag($0)) }
                    ?? APIError(.preconditionFailed, "precondition_failed", "If-Match given but zone \(origin) does not exist")
            }
            let textSerial = prepared.zone.serial
            let serial = current.map { ZoneEditing.nextSerial(old: $0.serial, requested: textSerial) }
                ?? (textSerial == 0 ? Self.initialSerial() : textSerial)
            var snapshot = prepared.zone
            var rrsets = prepared.rrsets
            // Stored as its text, unless it cannot be (then as rows, every RRset).
            var rows = prepared.text.isEmpty ? rrsets : []
            if serial != textSerial {
                // The serial moves on from the stored one: the SOA changes, nothing else; over
                // the text, in a row of its own.
                var soa = snapshot.soaRecord
                soa.rdata.replaceSubrange((soa.rdata.count - 20)..<(soa.rdata.count - 16),
                                          with: withUnsafeBytes(of: serial.bigEndian, Array.init))
                var edit = ZoneEdit()
                edit.replace(origin, .soa, with: [ResourceRecord(owner: origin, type: .soa, ttl: soa.ttl, rdata: soa.rdata)])
                do { snapshot = try snapshot.applying(edit) } catch let error as ZoneError { throw APIError.invalid("zonefile", error.description) }
                let soaKey = Self.soaKey(origin)
                let soaRow = StoredRRset(name: soaKey.name, type: soaKey.type, ttl: soa.ttl,
                                         records: [RDataText.format(type: .soa, rdata: soa.rdata)])
                if let i = rrsets.firstIndex(where: { $0.key == soaKey }) { rrsets[i] = soaRow }
                if let i = rows.firstIndex(where: { $0.key == soaKey }) { rows[i] = soaRow } else { rows.append(soaRow) }
            }
            let now = Clock.nowMillis()
            let zone = StoredZone(id: current?.id ?? KeyTokens.newID(), tenantID: tenantID, name: origin.description,
                                  version: (current?.version ?? 0) + 1, serial: serial,
                                  createdMillis: current?.createdMillis ?? now, updatedMillis: now,
                                  textParts: prepared.text.count)
            let change = ChangeRecord(zoneID: zone.id, zoneName: zone.name, tenantID: tenantID, version: zone.version,
                                      serial: serial, keyID: key.id, keyName: key.name, atMillis: now,
                                      action: current == nil ? "create" : "import",
                                      detail: "[{\"action\":\"import\",\"records\":\"\(snapshot.recordCount)\"}]")
            // A large zone's RRsets are not listed back (GET .../rrsets lists them).
            let listed = !rrsets.isEmpty && rrsets.count <= Self.listedRRsets
            let outcome = Outcome(zone: zone, rrsets: listed ? rrsets.sorted { $0.key < $1.key } : [], snapshot: snapshot,
                                  warnings: prepared.warnings, listsAllRRsets: listed)
            return (.put(zone: zone, upserts: rows, deletes: [], change: change, replacingAll: current != nil,
                         text: prepared.text), outcome)
        }, afterCommit: publishing(origin))
    }

    /// Replies list at most this many RRsets of an imported zone.
    static let listedRRsets = 1000

    public func deleteZone(_ origin: DNSName, caller: Caller, ifMatch: String?) async throws {
        try caller.require(.write)
        let tenantID = caller.key.tenantID
        let key = caller.key
        let catalog = self.catalog
        let _: Bool = try await store.writeZone(named: origin.description, reading: .only([]), decide: { current, _ in
            guard let current, current.tenantID == tenantID else { throw APIError.notFound("zone \(origin)") }
            guard Self.matches(ifMatch, current) else { throw APIError.preconditionFailed(Self.etag(current)) }
            let change = ChangeRecord(zoneID: current.id, zoneName: current.name, tenantID: tenantID,
                                      version: current.version + 1, serial: current.serial, keyID: key.id,
                                      keyName: key.name, atMillis: Clock.nowMillis(), action: "delete", detail: "[]")
            return (.delete(zoneID: current.id, change: change), true)
        }, afterCommit: { _ in
            catalog.remove(origin, from: .api)
        })
    }

    /// A serial for a new zone: today as YYYYMMDD01 (RFC 1912 §2.2's convention).
    static func initialSerial() -> UInt32 {
        let c = Calendar(identifier: .gregorian)
        var utc = c
        utc.timeZone = TimeZone(identifier: "UTC")!
        let d = utc.dateComponents([.year, .month, .day], from: Date())
        return UInt32(d.year! * 1_000_000 + d.month! * 10_000 + d.day! * 100 + 1)
    }

    /// The RRsets of a new zone: SOA (primary = the first name server) and NS.
    public static func skeleton(origin: DNSName, nameservers: [DNSName], hostmaster: DNSName?, ttl: UInt32) -> [StoredRRset] {
        let primary = nameservers.first ?? origin
        let rname = hostmaster ?? ((try? origin.prepending(Array("hostmaster".utf8))) ?? origin)
        let soa = StoredRRset(name: origin.description, type: "SOA", ttl: ttl,
                              records: ["\(primary) \(rname) \(initialSerial()) 7200 3600 1209600 300"])
        let ns = StoredRRset(name: origin.description, type: "NS", ttl: ttl, records: nameservers.map(\.description))
        return nameservers.isEmpty ? [soa] : [soa, ns]
    }
}
