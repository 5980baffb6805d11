// The difference between two versions of a zone: what IXFR sends (RFC 1995 §4) and
// what the journal keeps.
import BulwarkWire
import BulwarkZone

/// From one serial to the next: the SOAs at both ends and the other records removed and
/// added (the SOAs delimit the sequences in IXFR, RFC 1995 §4).
public struct ZoneDiff: Sendable, Equatable {
    public var oldSOA: ResourceRecord
    public var newSOA: ResourceRecord
    public var removed: [ResourceRecord]
    public var added: [ResourceRecord]

    public init(oldSOA: ResourceRecord, newSOA: ResourceRecord, removed: [ResourceRecord], added: [ResourceRecord]) {
        self.oldSOA = oldSOA
        self.newSOA = newSOA
        self.removed = removed
        self.added = added
    }

    public var fromSerial: UInt32 { SerialNumber.of(soaRData: oldSOA.rdata) ?? 0 }
    public var toSerial: UInt32 { SerialNumber.of(soaRData: newSOA.rdata) ?? 0 }

    /// What `edit` changed, the edit that made `new` from `old` (its apex SOAs aside).
    public init(_ edit: ZoneEditRecord, from old: Zone, to new: Zone) {
        func notApexSOA(_ r: ResourceRecord) -> Bool { !(r.type == .soa && r.owner.lowercased() == new.origin.lowercased()) }
        self.init(oldSOA: old.soaRecord, newSOA: new.soaRecord, removed: edit.removed.filter(notApexSOA),
                  added: edit.added.filter(notApexSOA))
    }

    /// What changed from `old` to `new` (records compared as DNSSEC does: owner and the
    /// names in well-known rdata case-insensitively, TTL included, RFC 4034 §6.2).
    public static func between(_ old: Zone, _ new: Zone) -> ZoneDiff {
        var remaining = Set<RecordKey>()
        var cursor = ZoneRecordCursor(old)
        while let r = cursor.next() {
            if r.type == .soa && r.owner.lowercased() == old.origin.lowercased() { continue }
            remaining.insert(RecordKey(r))
        }
        var added: [ResourceRecord] = []
        cursor = ZoneRecordCursor(new)
        while let r = cursor.next() {
            if r.type == .soa && r.owner.lowercased() == new.origin.lowercased() { continue }
            if remaining.remove(RecordKey(r)) == nil { added.append(r) }
        }
        var removed: [ResourceRecord] = []
        if !remaining.isEmpty {
            cursor = ZoneRecordCursor(old)
            while removed.count < remaining.count, let r = cursor.next() {
                if remaining.contains(RecordKey(r)) && !(r.type == .soa && r.owner.lowercased() == old.origin.lowercased()) {
                    removed.append(r)
                }
            }
        }
        return ZoneDiff(oldSOA: old.soaRecord, newSOA: new.soaRecord, removed: removed, added: added)
    }

    /// One difference equivalent to `diffs` applied in order (RFC 1995 §5 allows a
    /// condensed answer): a record added then removed (or the reverse) cancels out.
    public static func condense(_ diffs: [ZoneDiff]) -> ZoneDiff? {
        guard let first = diffs.first, let last = diffs.last else { return nil }
        if diffs.count == 1 { return first }
        var removed: [RecordKey: ResourceRecord] = [:], added: [RecordKey: ResourceRecord] = [:]
        var removedOrder: [RecordKey] = [], addedOrder: [RecordKey] = []
        for d in diffs {
            for r in d.removed {
                let k = RecordKey(r)
                if added.removeValue(forKey: k) == nil, removed[k] == nil { removed[k] = r; removedOrder.append(k) }
            }
            for r in d.added {
                let k = RecordKey(r)
                if removed.removeValue(forKey: k) == nil, added[k] == nil { added[k] = r; addedOrder.append(k) }
            }
        }
        func ordered(_ order: [RecordKey], _ map: [RecordKey: ResourceRecord]) -> [ResourceRecord] {
            var seen = Set<RecordKey>()
            return order.compactMap { k in seen.insert(k).inserted ? map[k] : nil }
        }
        return ZoneDiff(oldSOA: first.oldSOA, newSOA: last.newSOA,
                        removed: ordered(removedOrder, removed), added: ordered(addedOrder, added))
    }
}

/// A record as compared between versions.
struct RecordKey: Hashable {
    let owner: [UInt8]
    let type: UInt16
    let rrClass: UInt16
    let ttl: UInt32
    let rdata: [UInt8]

    init(_ r: ResourceRecord) {
        owner = r.owner.wire.map(asciiLower)
        type = r.type.rawValue
        rrClass = r.rrClass.rawValue
        ttl = r.ttl
        rdata = RDataWire.canonicalForm(type: r.type, rdata: r.rdata)
    }
}
