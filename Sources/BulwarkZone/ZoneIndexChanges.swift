// How the zone indices of a zone set moved between two of its versions, for whoever keeps
// something per zone index (the ops counters). An index keeps its origin from version to
// version unless a zone was added there or a removal moved the last zone into it; a zone
// replaced by its next version keeps its index. Pages the two versions share hold the same
// zones, so only the pages the publishes in between wrote are compared zone by zone.

/// The indices of a zone set whose origin is not the one an earlier version had there.
public struct ZoneIndexChanges: Sendable {
    /// Indices of the new version whose origin is not the old version's at that index,
    /// each with the old version's index of that origin (nil: a zone it did not hold).
    public var arrived: [(index: ZoneIndex, from: ZoneIndex?)] = []
    /// Indices of the old version whose origin the new version does not hold.
    public var departed: [ZoneIndex] = []

    public init() {}
}

extension ZoneSet {
    /// Where the zones of `old` (an earlier version of this set, or any set) went. Costs
    /// one comparison per page of 256 zones, plus a look at each zone of a page written
    /// since `old` and two origin lookups per index whose origin changed.
    public func indexChanges(since old: ZoneSet) -> ZoneIndexChanges {
        var changes = ZoneIndexChanges()
        if old === self { return changes }
        let common = min(count, old.count)
        var start = 0
        while start < common {
            let end = min(common, start + PagedZones.pageSize)
            if !zoneTable.sharesPage(of: start, with: old.zoneTable) {
                for i in start..<end where !zoneTable[i].hasOrigin(of: old.zoneTable[i]) {
                    changes.arrived.append((ZoneIndex(i), old.index(ofOriginOf: zoneTable[i])))
                    if index(ofOriginOf: old.zoneTable[i]) == nil { changes.departed.append(ZoneIndex(i)) }
                }
            }
            start = end
        }
        for i in common..<count { changes.arrived.append((ZoneIndex(i), old.index(ofOriginOf: zoneTable[i]))) }
        for i in common..<old.count where index(ofOriginOf: old.zoneTable[i]) == nil {
            changes.departed.append(ZoneIndex(i))
        }
        return changes
    }
}

extension Zone {
    /// Whether `other` has this zone's origin (another version of the zone, or itself).
    func hasOrigin(of other: Zone) -> Bool {
        if self === other { return true }
        let a = self[name: apex], b = other[name: other.apex]
        return a.hash == b.hash && a.length == b.length && memEqual(keyAddress(a), other.keyAddress(b), Int(a.length))
    }
}
