// What the control plane keeps, and the protocol every storage backend implements.
// `SQLControlStore` implements it over any `SQLBackend` (SQLite today, PostgreSQL next).

public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    case read, write, admin

    var rank: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .admin: 2
        }
    }

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

public struct Tenant: Sendable, Hashable {
    public var id: String
    public var name: String
    public var createdMillis: Int64

    public init(id: String, name: String, createdMillis: Int64) {
        self.id = id
        self.name = name
        self.createdMillis = createdMillis
    }
}

public struct APIKey: Sendable, Hashable {
    public var id: String
    public var tenantID: String
    public var name: String
    public var role: Role
    /// Hex SHA-256 of the token.
    public var tokenHash: String
    public var createdMillis: Int64

    public init(id: String, tenantID: String, name: String, role: Role, tokenHash: String, createdMillis: Int64) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.role = role
        self.tokenHash = tokenHash
        self.createdMillis = createdMillis
    }
}

public struct StoredZone: Sendable, Hashable {
    public var id: String
    public var tenantID: String
    /// Lower case, final dot.
    public var name: String
    public var version: Int64
    public var serial: UInt32
    public var createdMillis: Int64
    public var updatedMillis: Int64
    /// How many parts of imported zone text the zone is stored as (0: RRset rows only).
    public var textParts: Int

    public init(id: String, tenantID: String, name: String, version: Int64, serial: UInt32,
                createdMillis: Int64, updatedMillis: Int64, textParts: Int = 0) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.version = version
        self.serial = serial
        self.createdMillis = createdMillis
        self.updatedMillis = updatedMillis
        self.textParts = textParts
    }
}

/// A zone as stored: the zone-file text it was imported from (in parts cut at entry
/// boundaries; none for a zone made of RRsets), and RRset rows over it. A row replaces
/// the text's RRset of its key; a row without records deletes it. An import writes its
/// text as it came (no row per RRset), and each later change writes the rows it
/// touches, as Knot keeps a zone file and a journal of changes over it.
public struct StoredZoneContent: Sendable {
    public var text: [String]
    public var rows: [StoredRRset]

    public init(text: [String], rows: [StoredRRset]) {
        self.text = text
        self.rows = rows
    }
}

/// Identifies an RRset in a zone: owner (lower case, final dot) and type mnemonic.
public struct RRsetKey: Sendable, Hashable, Comparable {
    public var name: String
    public var type: String

    public init(name: String, type: String) {
        self.name = name
        self.type = type
    }

    public static func < (a: RRsetKey, b: RRsetKey) -> Bool {
        (a.name, a.type) < (b.name, b.type)
    }
}

public struct StoredRRset: Sendable, Hashable {
    public var name: String
    public var type: String
    public var ttl: UInt32
    /// Presentation text of each record's data. None: over a zone's text, a deletion.
    public var records: [String]
    public var key: RRsetKey { RRsetKey(name: name, type: type) }

    public init(name: String, type: String, ttl: UInt32, records: [String]) {
        self.name = name
        self.type = type
        self.ttl = ttl
        self.records = records
    }
}

/// One entry of a zone's audit trail.
public struct ChangeRecord: Sendable, Hashable {
    public var zoneID: String
    public var zoneName: String
    public var tenantID: String
    public var version: Int64
    public var serial: UInt32
    public var keyID: String
    public var keyName: String
    public var atMillis: Int64
    /// create, update, import, delete.
    public var action: String
    /// JSON describing what changed.
    public var detail: String

    public init(zoneID: String, zoneName: String, tenantID: String, version: Int64, serial: UInt32, keyID: String,
                keyName: String, atMillis: Int64, action: String, detail: String) {
        self.zoneID = zoneID
        self.zoneName = zoneName
        self.tenantID = tenantID
        self.version = version
        self.serial = serial
        self.keyID = keyID
        self.keyName = keyName
        self.atMillis = atMillis
        self.action = action
        self.detail = detail
    }
}

/// What a zone transaction decided to write.
public enum ZoneWrite: Sendable {
    /// Nothing (the transaction rolls back cleanly).
    case none
    /// Creates or updates the zone row, upserts and deletes RRsets, appends to history.
    /// With `replacingAll`, every RRset and text part of the zone is deleted first, and
    /// the zone is `text` (an import's parts) with `upserts` over it: written in bulk.
    /// A deletion from a zone stored as text is a row without records.
    case put(zone: StoredZone, upserts: [StoredRRset], deletes: [RRsetKey], change: ChangeRecord,
             replacingAll: Bool = false, text: [String] = [])
    /// Deletes the zone and its RRsets; the history row stays.
    case delete(zoneID: String, change: ChangeRecord)
}

/// Which RRsets a zone transaction reads.
public enum RRsetSelection: Sendable {
    /// Every RRset of the zone.
    case all
    /// Only these (those absent from the zone are left out): a change reads what it touches.
    case only([RRsetKey])
}

public enum StoreError: Error, Sendable, Equatable {
    case conflict(String)
    /// The database cannot be reached now (PostgreSQL down, no connection in time): the
    /// change was not made; it may be retried.
    case unavailable(String)
    /// The database's disk is full: the change was not made.
    case full(String)
}

public protocol ControlStore: Sendable {
    /// Brings the schema up to date.
    func migrate() async throws
    func close() async

    func createTenant(_ tenant: Tenant) async throws
    func tenants() async throws -> [Tenant]
    func tenant(id: String) async throws -> Tenant?
    func tenant(named name: String) async throws -> Tenant?
    /// False when absent; throws `.conflict` while it still owns zones.
    func deleteTenant(id: String) async throws -> Bool

    func createKey(_ key: APIKey) async throws
    func key(tokenHash: String) async throws -> APIKey?
    func keys(tenantID: String) async throws -> [APIKey]
    func deleteKey(id: String, tenantID: String) async throws -> Bool
    func keyCount() async throws -> Int

    /// Zones of `tenantID` (every zone when nil), by name.
    func zones(tenantID: String?) async throws -> [StoredZone]
    func zone(named name: String) async throws -> StoredZone?
    /// What `zone` is stored as (its text parts and rows), as one transaction saw them.
    func content(of zone: StoredZone) async throws -> StoredZoneContent
    func history(zoneName: String, tenantID: String, limit: Int) async throws -> [ChangeRecord]

    /// Read-modify-write of one zone in one transaction: `decide` sees the zone (nil when
    /// absent) and the RRsets `reading` selects as committed (`.all`: the zone's RRsets,
    /// its text read and the rows applied over it; `.only`: the rows of those keys, a
    /// deletion from the text included as a row without records; a key without a row is
    /// as the text has it), and returns the write plus
    /// a result. All or nothing; concurrent calls are serialized. `afterCommit` runs once
    /// the transaction is durable, before another write to the store can commit (so
    /// versions are published in order).
    func writeZone<T: Sendable>(
        named name: String,
        reading: RRsetSelection,
        decide: @Sendable (StoredZone?, [StoredRRset]) throws -> (ZoneWrite, T),
        afterCommit: @Sendable (T) -> Void
    ) async throws -> T
}
