// Editing a zone into its next version: the RRsets a change names are replaced, only the
// names it touches are checked and re-flagged, and the new version shares every table
// page the change did not write. What it costs follows the change, not the zone.
import BulwarkWire

/// A change to a zone: whole RRsets replaced, an empty one deleted (the unit of RFC 2136
/// updates, of the API and of IXFR once grouped).
public struct ZoneEdit: Sendable {
    public struct Replacement: Sendable {
        public var owner: DNSName
        public var type: RRType
        /// The new records; none deletes the RRset.
        public var records: [ResourceRecord]
    }

    public private(set) var replacements: [Replacement] = []

    public init() {}

    /// Makes the RRset of `type` at `owner` exactly `records` (none: deletes it). A later
    /// replacement of the same RRset wins.
    public mutating func replace(_ owner: DNSName, _ type: RRType, with records: [ResourceRecord]) {
        replacements.append(Replacement(owner: owner, type: type, records: records))
    }

    public var isEmpty: Bool { replacements.isEmpty }
}

/// What an edit changed, as IXFR and the journal want it (RFC 1995 §4): the records
/// removed and added, the SOAs aside. Kept with the version it made.
public struct ZoneEditRecord: Sendable {
    /// The version edited (valid while that version is alive: compare with `===` first).
    public let base: ObjectIdentifier
    public let baseSerial: UInt32
    public let removed: [ResourceRecord]
    public let added: [ResourceRecord]

    /// True when this edit was made from `zone`.
    public func isEdit(of zone: Zone) -> Bool { base == ObjectIdentifier(zone) && baseSerial == zone.serial }
}

extension Zone {
    /// The next version: this zone with `edit` applied. Checks the names the edit
    /// touches as a whole build checks every name: records in the zone and of class IN,
    /// one SOA and only at the apex (RFC 1035 §5.2), one CNAME standing alone
    /// (RFC 1034 §3.6.2, RFC 2181 §10.1), readable rdata. Rebuilds the zone when edits
    /// have left more unreferenced records than live ones.
    public func applying(_ edit: ZoneEdit) throws(ZoneError) -> Zone {
        var b = ZoneBuilder(editing: self)
        let (removed, added) = try b.apply(edit)
        let record = ZoneEditRecord(base: ObjectIdentifier(self), baseSerial: serial, removed: removed, added: added)
        if b.staleRecords > max(b.recordCount, 4096) {
            // Compaction: a fresh build from the live records, the same answers.
            let edited = Zone(builder: b)
            var records = edited.records
            var fresh = ZoneBuilder(origin: origin)
            try fresh.build(&records, releasing: true)
            return Zone(builder: fresh, edit: record)
        }
        return Zone(builder: b, edit: record)
    }
}

extension ZoneBuilder {
    /// Applies `edit`; returns the records removed and added (SOA included when it changed).
    mutating func apply(_ edit: ZoneEdit) throws(ZoneError) -> (removed: [ResourceRecord], added: [ResourceRecord]) {
        // Per owner, in order of first mention; per type, the last replacement.
        var order: [DNSName] = []
        var byOwner: [DNSName: [UInt16: [ResourceRecord]]] = [:]
        for r in edit.replacements {
            guard r.owner.isSubdomain(of: origin) else {
                throw ZoneError(.outOfZone, r.owner, "record outside the zone \(origin)")
            }
            for rr in r.records {
                guard rr.rrClass == .in else {
                    throw ZoneError(.wrongClass, rr.owner, "record of class \(rr.rrClass), only IN is served")
                }
                precondition(rr.type == r.type && rr.owner == r.owner, "a replacement's records have its owner and type")
            }
            let key = r.owner.lowercased()
            if byOwner[key] == nil { order.append(key) }
            byOwner[key, default: [:]][r.type.rawValue] = r.records
        }
        var removed: [ResourceRecord] = [], added: [ResourceRecord] = []
        var apexTouched = false, soaTouched = false, apexSignaturesTouched = false, nsecTouched = false
        for key in order {
            let types = byOwner[key]!
            let owner = intern(key.wire[...])
            guard names[owner.value].has(.inZone) else {
                throw ZoneError(.outOfZone, key, "record outside the zone \(origin)")
            }
            if owner != apex, types[RRType.soa.rawValue]?.isEmpty == false {
                throw ZoneError(.multipleSOA, key, "SOA record below the zone apex")
            }
            let ownerName = nameOf(owner)
            let e = names[owner.value]
            // The RRsets kept (their records are shared), then the new ones.
            var sets: [RRSetEntry] = []
            for r in e.rrsetStart.value..<(e.rrsetStart.value + Int(e.rrsetCount)) {
                let set = rrsets[r]
                guard let replacement = types[set.type] else { sets.append(set); continue }
                let old = (set.recordStart..<(set.recordStart + set.recordCount)).map {
                    readRecord(Int($0), type: set.type, owner: ownerName)
                }
                removed += old.filter { o in !replacement.contains { $0.ttl == o.ttl && $0.rdata == o.rdata } }
                staleRecords += Int(set.recordCount)
                recordCount -= Int(set.recordCount)
                for rr in old { contentDigest ^= recordDigest(owner: owner, type: set.type, ttl: rr.ttl, rr.rdata) }
            }
            for (type, records) in types.sorted(by: { $0.key < $1.key }) where !records.isEmpty {
                // RFC 2181 §5: an RRset is a set.
                var unique: [ResourceRecord] = []
                for rr in records where !unique.contains(where: { $0.rdata == rr.rdata }) { unique.append(rr) }
                let start = Int32(recordEntries.count)
                for rr in unique {
                    try appendZoneRecord(ResourceRecord(owner: ownerName, type: rr.type, ttl: rr.ttl, rdata: rr.rdata),
                                         owner: owner)
                }
                sets.append(RRSetEntry(type: type, owner: owner, recordStart: start, recordCount: Int32(unique.count)))
                recordCount += unique.count
                let before = removedFrom(e, type: type, ownerName: ownerName)
                added += unique.filter { n in !before.contains { $0.ttl == n.ttl && $0.rdata == n.rdata } }
                    .map { ResourceRecord(owner: ownerName, type: $0.type, ttl: $0.ttl, rdata: $0.rdata) }
            }
            sets.sort { $0.type < $1.type }
            try checkTypes(sets, at: owner, name: ownerName)
            names[owner.value].rrsetStart = RRSetIndex(rrsets.count)
            names[owner.value].rrsetCount = Int32(sets.count)
            for set in sets {
                if owner == apex && set.type == RRType.soa.rawValue { soaRRSet = RRSetIndex(rrsets.count) }
                rrsets.append(set)
            }
            setTypeFlags(owner)
            if let sigs = types[RRType.rrsig.rawValue] {
                addSignatures(owner, sigs)
                if owner == apex { apexSignaturesTouched = true }
            }
            if types[RRType.nsec.rawValue] != nil { nsecTouched = true }
            if owner == apex {
                apexTouched = true
                if types[RRType.soa.rawValue] != nil { soaTouched = true }
            }
            refreshExistence(owner)
        }
        if apexTouched {
            guard let soa = rrsetIndex(at: apex, type: RRType.soa.rawValue) else {
                throw ZoneError(.noSOA, origin, ZoneError.noSOA)
            }
            soaRRSet = soa
        }
        if soaTouched {
            let set = rrsets[soaRRSet.value]
            try setNegativeSOA(readRecord(Int(set.recordStart), type: set.type, owner: origin))
        }
        if soaTouched || apexSignaturesTouched {
            var apexSigs: [ResourceRecord] = []
            if let r = rrsetIndex(at: apex, type: RRType.rrsig.rawValue) {
                let set = rrsets[r.value]
                apexSigs = (set.recordStart..<(set.recordStart + set.recordCount)).map {
                    readRecord(Int($0), type: set.type, owner: origin)
                }
            }
            setNegativeSOASignature(apexSigs)
        }
        if nsecTouched {
            // Whole-index rebuild: NSEC chains change with signing, which keeps its own order.
            var owners: [NameIndex] = []
            for i in 0..<names.count where rrsetIndex(at: NameIndex(i), type: RRType.nsec.rawValue) != nil {
                owners.append(NameIndex(i))
            }
            rebuildNSECIndex(owners)
        }
        guard recordBytes.end < Int(Int32.max) else { throw ZoneError(.tooLarge, origin, "zone too large") }
        return (removed, added)
    }

    /// The records the RRset of `type` had at the name before the edit (from its entry as it was).
    private func removedFrom(_ entry: NameEntry, type: UInt16, ownerName: DNSName) -> [ResourceRecord] {
        for r in entry.rrsetStart.value..<(entry.rrsetStart.value + Int(entry.rrsetCount)) where rrsets[r].type == type {
            let set = rrsets[r]
            return (set.recordStart..<(set.recordStart + set.recordCount)).map { readRecord(Int($0), type: type, owner: ownerName) }
        }
        return []
    }

    /// The rules a whole build checks, for the RRsets now at one name.
    private func checkTypes(_ sets: [RRSetEntry], at owner: NameIndex, name: DNSName) throws(ZoneError) {
        if owner == apex, let soa = sets.first(where: { $0.type == RRType.soa.rawValue }), soa.recordCount > 1 {
            throw ZoneError(.multipleSOA, origin, "more than one SOA record at the apex")
        }
        guard let cname = sets.first(where: { $0.type == RRType.cname.rawValue }) else { return }
        guard cname.recordCount == 1 else {
            throw ZoneError(.multipleCNAME, name, "more than one CNAME record at a name")
        }
        // RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME stands alone (besides DNSSEC records).
        for set in sets where set.type != RRType.cname.rawValue && set.type != RRType.rrsig.rawValue
            && set.type != RRType.nsec.rawValue {
            throw ZoneError(.cnameAndOtherData, name, "CNAME and other data (\(RRType(set.type)))")
        }
    }

    /// After `n`'s records changed: whether it and its ancestors exist (an empty
    /// non-terminal exists while a name below it does, RFC 8020), and the `*` children.
    private mutating func refreshExistence(_ n: NameIndex) {
        var cur = n
        while true {
            let e = names[cur.value]
            let exists = cur == apex || e.rrsetCount > 0 || e.existingChildren > 0
            if exists == e.has(.exists) { return }
            if exists { names[cur.value].flags.insert(.exists) } else { names[cur.value].flags.remove(.exists) }
            let p = e.parent
            names[p.value].existingChildren += exists ? 1 : -1
            if e.has(.wildcard) { names[p.value].wildcardChild = exists ? cur : .none }
            cur = p
        }
    }

    private func rrsetIndex(at name: NameIndex, type: UInt16) -> RRSetIndex? {
        let e = names[name.value]
        for r in e.rrsetStart.value..<(e.rrsetStart.value + Int(e.rrsetCount)) where rrsets[r].type == type {
            return RRSetIndex(r)
        }
        return nil
    }

    private func readRecord(_ index: Int, type: UInt16, owner: DNSName) -> ResourceRecord {
        let rec = recordEntries[index]
        let rdata = recordBytes.bytes(at: Int(rec.offset) + 10, count: Int(rec.length) - 10)
        return ResourceRecord(owner: owner, type: RRType(type), ttl: rec.ttl, rdata: rdata)
    }
}
