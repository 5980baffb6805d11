import BulwarkWire

/// The zones one server answers for. The longest matching origin answers a name
/// (a parent and its child can both be held). Each version is immutable; the next one
/// (`applying`) shares with it every page of its tables that the change did not write,
/// so publishing one zone costs a page or two, whatever the number of zones.
public final class ZoneSet: @unchecked Sendable {
    // @unchecked: every stored property is a `let` set in init; the pages of the tables
    // are written only by the edit that makes a version, before it is published.

    /// The zones by index, dense (0 ..< count): a removal moves the last zone into the hole.
    @usableFromInline package let zoneTable: PagedZones
    /// Open addressing (linear probing) over the origins' hashes, keyed by the origin's
    /// lower-cased wire name; at most half the slots in use, tombstones included.
    @usableFromInline package let origins: PagedTable<OriginSlot>
    @usableFromInline package let originMask: Int
    /// Slots of `origins` in use: zones and tombstones.
    let usedOrigins: Int
    /// How many origins have n labels, for n < 128 (a name has at most 127).
    let labelCounts: ContiguousArray<Int32>
    /// Bit n set when some origin has n labels: only those suffixes of a name are probed.
    @usableFromInline package let labelCountBits: (UInt64, UInt64)

    /// Builds the set. When two zones have the same origin, the first one is kept.
    public convenience init(zones input: [Zone]) {
        var edit = ZoneSetEdit()
        edit.reserve(adding: input.count)
        for zone in input { edit.add(zone) }
        self.init(edit)
    }

    init(_ edit: ZoneSetEdit) {
        zoneTable = edit.zones
        origins = edit.origins
        originMask = edit.origins.count - 1
        usedOrigins = edit.usedOrigins
        labelCounts = edit.labelCounts
        var bits: (UInt64, UInt64) = (0, 0)
        for n in 0..<64 where edit.labelCounts[n] > 0 { bits.0 |= 1 << UInt64(n) }
        for n in 64..<128 where edit.labelCounts[n] > 0 { bits.1 |= 1 << UInt64(n - 64) }
        labelCountBits = bits
    }

    /// The next version of the set, with `changes` made in order: a change with a new
    /// zone adds it or replaces the zone of its origin, one without removes the old one's.
    /// Copies only the pages it writes (and grows the origin table by doubling).
    package func applying(_ changes: [ZoneChange]) -> ZoneSet {
        var edit = ZoneSetEdit(from: self)
        edit.reserve(adding: changes.reduce(0) { $0 + ($1.old == nil && $1.new != nil ? 1 : 0) })
        for change in changes {
            if let new = change.new {
                edit.put(new)
            } else if let old = change.old {
                edit.remove(old)
            }
        }
        return ZoneSet(edit)
    }

    /// The number of zones.
    public var count: Int { zoneTable.count }

    /// Every zone, in index order (built on each call: for listing, tools and tests).
    public var zones: [Zone] { (0..<zoneTable.count).map { zoneTable[$0] } }

    /// The zone at `index`.
    @inlinable @inline(__always)
    package subscript(zone index: ZoneIndex) -> Zone { zoneTable[index.value] }

    @inlinable @inline(__always)
    package func hasOrigin(withLabels count: Int) -> Bool {
        count < 64 ? labelCountBits.0 & (1 << UInt64(count)) != 0 : labelCountBits.1 & (1 << UInt64(count - 64)) != 0
    }

    /// The zone whose origin is exactly `key` (lower-cased wire), if the set has it.
    @inlinable @inline(__always)
    package func zoneIndex(origin key: UnsafeRawBufferPointer, hash: UInt32) -> ZoneIndex? {
        guard let slot = origins.slot(of: key, hash: hash, mask: originMask, zones: zoneTable) else { return nil }
        return ZoneIndex(origins[slot].zone)
    }

    /// The index of the zone whose origin is `zone`'s, if the set has one.
    package func index(ofOriginOf zone: Zone) -> ZoneIndex? {
        origins.slot(ofOriginOf: zone, mask: originMask, zones: zoneTable).map { ZoneIndex(origins[$0].zone) }
    }

    /// The index of the zone whose origin is `origin`, if the set has it (tests and tools).
    public func index(ofOrigin origin: DNSName) -> ZoneIndex? {
        origin.lowercased().wire.withUnsafeBytes { zoneIndex(origin: $0, hash: nameHash(NameHashKey.process, $0)) }
    }

    /// The zone that answers for `name`, or nil (tests and tools).
    public func zone(for name: DNSName) -> Zone? {
        var n: DNSName? = name
        while let cur = n {
            if let index = index(ofOrigin: cur) { return self[zone: index] }
            n = cur.parent
        }
        return nil
    }
}

/// One slot of a zone set's origin table: an origin's hash and its zone's index.
@usableFromInline package struct OriginSlot {
    @usableFromInline package var hash: UInt32
    /// The zone's index; negative for `empty` and `removed`.
    @usableFromInline package var zone: Int32

    @inlinable package init(hash: UInt32, zone: Int32) {
        self.hash = hash
        self.zone = zone
    }

    /// Never used: a probe stops here.
    static var empty: OriginSlot { OriginSlot(hash: 0, zone: -1) }
    /// A removed origin's tombstone: a probe goes on past it, an insertion may take it.
    static var removed: OriginSlot { OriginSlot(hash: 0, zone: -2) }
    @inlinable package var isEmpty: Bool { zone == -1 }
}

extension PagedTable where Element == OriginSlot {
    /// The slot of the origin whose lower-cased wire name is `key`, if the table has it.
    /// Only a slot whose hash matches costs a look at its zone.
    @inlinable @inline(__always)
    package func slot(of key: UnsafeRawBufferPointer, hash: UInt32, mask: Int, zones: PagedZones) -> Int? {
        var i = Int(hash) & mask
        while true {
            let s = self[i]
            if s.isEmpty { return nil }
            if s.hash == hash && s.zone >= 0 {
                let zone = zones[Int(s.zone)]
                let e = zone[name: zone.apex]
                if Int(e.length) == key.count && memEqual(zone.keyAddress(e), key.baseAddress!, key.count) { return i }
            }
            i = (i + 1) & mask
        }
    }

    /// The slot of `zone`'s origin, if the table has it.
    package func slot(ofOriginOf zone: Zone, mask: Int, zones: PagedZones) -> Int? {
        let apex = zone[name: zone.apex]
        let key = UnsafeRawBufferPointer(start: zone.keyAddress(apex), count: Int(apex.length))
        return slot(of: key, hash: apex.hash, mask: mask, zones: zones)
    }
}
