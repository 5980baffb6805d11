// Editing a zone into its next version: the RRsets a change names are replaced, only the
// names it touches are checked and re-flagged, and the new version shares every table
// page the change did not write. What it costs follows the change, not the zone.
import BulwarkWire

/// A change to a zone: whole RRsets replaced, an emptied one deleted (the unit of the
/// API's changes, of RFC 2136 updates and of IXFR once grouped by RRset).
public struct ZoneEdit: Sendable {
    public struct Replacement: Sendable {
        public var owner: DNSName
        public var type: RRType
        /// The new records; none deletes the RRset.
        public var records: [ResourceRecord]
    }

    public private(set) var replacements: [Replacement] = []
    /// Whether the zone-file check's rules beyond what any zone must satisfy apply (NS at
    /// the apex, one DNAME, DS only at a cut): on for changes made here, off for changes
    /// transferred in, which a whole transfer would take as they are.
    public var checksZoneFileRules: Bool

    public init(checksZoneFileRules: Bool = true) { self.checksZoneFileRules = checksZoneFileRules }

    /// Makes the RRset of `type` at `owner` exactly `records` (none: deletes it). A later
    /// replacement of the same RRset wins.
    public mutating func replace(_ owner: DNSName, _ type: RRType, with records: [ResourceRecord]) {
        replacements.append(Replacement(owner: owner, type: type, records: records))
    }

    public var isEmpty: Bool { replacements.isEmpty }
}

/// What an edit changed, as IXFR and the journal want it (RFC 1995 §4): the records
/// removed and added (the apex SOA among them when it changed). Kept with the version
/// it made.
public struct ZoneEditRecord: Sendable {
    /// The version edited (valid while that version is alive: compare with `isEdit(of:)`).
    public let base: ObjectIdentifier
    public let baseSerial: UInt32
    public let removed: [ResourceRecord]
    public let added: [ResourceRecord]
    /// What the checks found questionable at the names touched (the zone still loads).
    public let warnings: [String]

    /// True when this edit was made from `zone`.
    public func isEdit(of zone: Zone) -> Bool { base == ObjectIdentifier(zone) && baseSerial == zone.serial }
}

extension Zone {
    /// The next version: this zone with `edit` applied. The names the edit touches are
    /// checked by the rules a zone file's are: records in the zone and of class IN, one
    /// SOA and only at the apex (RFC 1035 §5.2), NS at the apex (RFC 1034 §4.2.1), one
    /// CNAME standing alone (RFC 1034 §3.6.2, RFC 2181 §10.1), one DNAME (RFC 6672 §2.4),
    /// DS only at a delegation (RFC 4035 §2.4), readable rdata; occluded data and NS
    /// targets without addresses are warnings. Rebuilds the zone when edits have left
    /// more unreferenced records than live ones.
    public func applying(_ edit: ZoneEdit) throws(ZoneError) -> Zone {
        var b = ZoneBuilder(editing: self)
        let (removed, added, warnings) = try b.apply(edit)
        let record = ZoneEditRecord(base: ObjectIdentifier(self), baseSerial: serial, removed: removed, added: added,
                                    warnings: warnings)
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

    /// The records of the RRset of `type` at `owner` (none when absent).
    public func records(at owner: DNSName, type: RRType) -> [ResourceRecord] {
        let key = owner.wire.map(asciiLower)
        let found = key.withUnsafeBytes { find($0, hash: nameHash(hashKey, $0)) }
        guard let name = found, let set = rrset(at: name, type: type.rawValue) else { return [] }
        return resourceRecords(set, owner: self.name(name))
    }
}

extension ZoneBuilder {
    /// Applies `edit`; returns the records removed and added, and the warnings.
    mutating func apply(_ edit: ZoneEdit) throws(ZoneError)
        -> (removed: [ResourceRecord], added: [ResourceRecord], warnings: [String]) {
        // Per owner, in order of first mention; per type, the last replacement.
        var order: [DNSName] = []
        var byOwner: [DNSName: [UInt16: [ResourceRecord]]] = [:]
        var written: [DNSName: DNSName] = [:]  // each owner as first written (its case is kept)
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
            if byOwner[key] == nil {
                order.append(key)
                written[key] = r.owner
            }
            byOwner[key, default: [:]][r.type.rawValue] = r.records
        }
        var removed: [ResourceRecord] = [], added: [ResourceRecord] = []
        var touchedOwners: [NameIndex] = []
        var apexTouched = false, soaTouched = false, apexSignaturesTouched = false, nsecTouched = false,
            nsec3Touched = false
        for key in order {
            let types = byOwner[key]!
            let owner = intern(written[key]!.wire[...])
            touchedOwners.append(owner)
            guard names[owner.value].has(.inZone) else {
                throw ZoneError(.outOfZone, key, "record outside the zone \(origin)")
            }
            if owner != apex, types[RRType.soa.rawValue]?.isEmpty == false {
                throw ZoneError(.multipleSOA, key, "SOA record at \(key), not at the zone apex \(origin) (RFC 1035 §5.2)")
            }
            let ownerName = nameOf(owner)
            let entry = names[owner.value]
            // The RRsets kept (their records are shared), then the new ones.
            var sets: [RRSetEntry] = []
            for r in entry.rrsetStart.value..<(entry.rrsetStart.value + Int(entry.rrsetCount)) {
                let set = rrsets[r]
                guard let replacement = types[set.type] else { sets.append(set); continue }
                let old = records(of: set, owner: ownerName)
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
                let before = rrsetRecords(entry, type: type, ownerName: ownerName)
                added += unique.filter { n in !before.contains { $0.ttl == n.ttl && $0.rdata == n.rdata } }
                    .map { ResourceRecord(owner: ownerName, type: $0.type, ttl: $0.ttl, rdata: $0.rdata) }
            }
            sets.sort { $0.type < $1.type }
            try checkTypes(sets, at: owner, name: ownerName, touched: types, zoneFileRules: edit.checksZoneFileRules)
            names[owner.value].rrsetStart = RRSetIndex(rrsets.count)
            names[owner.value].rrsetCount = Int32(sets.count)
            for set in sets { rrsets.append(set) }
            setTypeFlags(owner)
            if let sigs = types[RRType.rrsig.rawValue] {
                addSignatures(owner, sigs)
                if owner == apex { apexSignaturesTouched = true }
            }
            if types[RRType.nsec.rawValue] != nil { nsecTouched = true }
            if types[RRType.nsec3.rawValue] != nil || (owner == apex && types[RRType.nsec3param.rawValue] != nil) {
                nsec3Touched = true
            }
            if owner == apex {
                apexTouched = true
                if types[RRType.soa.rawValue] != nil { soaTouched = true }
            }
            refreshExistence(owner)
        }
        if apexTouched {
            guard let soa = rrsetIndex(at: apex, type: RRType.soa.rawValue) else {
                throw ZoneError(.noSOA, origin, "no SOA record at the zone apex \(origin)")
            }
            soaRRSet = soa
        }
        if soaTouched {
            let set = rrsets[soaRRSet.value]
            try setNegativeSOA(records(of: set, owner: origin)[0])
        }
        if soaTouched || apexSignaturesTouched {
            setNegativeSOASignature(rrsetIndex(at: apex, type: RRType.rrsig.rawValue)
                .map { records(of: rrsets[$0.value], owner: origin) } ?? [])
        }
        if nsecTouched {
            // The whole index again: NSEC owners are few unless the zone is signed.
            var owners: [NameIndex] = []
            for i in 0..<names.count where rrsetIndex(at: NameIndex(i), type: RRType.nsec.rawValue) != nil {
                owners.append(NameIndex(i))
            }
            rebuildNSECIndex(owners)
        }
        if nsec3Touched {
            // The NSEC3 chain again (its owners, hashes and parameters), as for NSEC.
            var owners: [NameIndex] = []
            for i in 0..<names.count where rrsetIndex(at: NameIndex(i), type: RRType.nsec3.rawValue) != nil {
                owners.append(NameIndex(i))
            }
            rebuildNSEC3Index(owners)
        }
        guard recordBytes.end < Int(Int32.max) else { throw ZoneError(.tooLarge, origin, "zone too large") }
        return (removed, added, warnings(at: touchedOwners, touched: byOwner))
    }

    /// The records of one RRset entry.
    private func records(of set: RRSetEntry, owner: DNSName) -> [ResourceRecord] {
        (set.recordStart..<(set.recordStart + set.recordCount)).map { readRecord(Int($0), type: set.type, owner: owner) }
    }

    /// The records the RRset of `type` had at the name before the edit (from its entry as it was).
    private func rrsetRecords(_ entry: NameEntry, type: UInt16, ownerName: DNSName) -> [ResourceRecord] {
        for r in entry.rrsetStart.value..<(entry.rrsetStart.value + Int(entry.rrsetCount)) where rrsets[r].type == type {
            return records(of: rrsets[r], owner: ownerName)
        }
        return []
    }

    /// The rules a zone file's check applies at a name (ZoneChecker's errors), for the
    /// RRsets now at one name; without `zoneFileRules`, those a whole build applies.
    private func checkTypes(_ sets: [RRSetEntry], at owner: NameIndex, name: DNSName,
                            touched: [UInt16: [ResourceRecord]], zoneFileRules: Bool) throws(ZoneError) {
        func count(_ type: RRType) -> Int32 { sets.first { $0.type == type.rawValue }?.recordCount ?? 0 }
        func has(_ type: RRType) -> Bool { count(type) > 0 }
        if owner == apex {
            if count(.soa) > 1 {
                throw ZoneError(.multipleSOA, origin, "more than one SOA record at the apex (RFC 1035 §5.2)")
            }
            // RFC 1034 §4.2.1: the apex holds the zone's NS RRset.
            if zoneFileRules && touched[RRType.ns.rawValue] != nil && !has(.ns) {
                throw ZoneError(.noApexNS, origin, "no NS records at the zone apex \(origin)")
            }
        }
        if count(.cname) > 1 {
            throw ZoneError(.multipleCNAME, name, "\(name) has more than one CNAME record (RFC 2181 §10.1)")
        }
        if has(.cname) {
            // RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME stands alone (besides DNSSEC records).
            for set in sets where ![RRType.cname, .rrsig, .nsec].contains(RRType(set.type)) {
                throw ZoneError(.cnameAndOtherData, name,
                                "\(name) has a CNAME and other data (\(RRType(set.type))) (RFC 1034 §3.6.2)")
            }
        }
        guard zoneFileRules else { return }
        if count(.dname) > 1 {
            throw ZoneError(.multipleDNAME, name, "\(name) has more than one DNAME record (RFC 6672 §2.4)")
        }
        if has(.ds) && owner != apex && !has(.ns) {
            // RFC 4035 §2.4: DS sits at the parent side of a zone cut only (at the apex it is
            // a warning: NSD and Knot load it and serve it as data).
            throw ZoneError(.misplacedDS, name, "DS record where there is no delegation (NS) at \(name) (RFC 4035 §2.4)")
        }
    }

    /// ZoneChecker's warnings for the names an edit touched: data occluded by a cut or a
    /// DNAME above it or at a delegation point, NS targets in the zone without addresses.
    private func warnings(at owners: [NameIndex], touched: [DNSName: [UInt16: [ResourceRecord]]]) -> [String] {
        var out: [String] = []
        for owner in owners {
            let e = names[owner.value]
            let name = nameOf(owner)
            let types = (e.rrsetStart.value..<(e.rrsetStart.value + Int(e.rrsetCount))).map { RRType(rrsets[$0].type) }
            let cut = occluder(of: owner)
            if !cut.isNone, let first = types.first {
                if names[cut.value].has(.delegation) {
                    // Below a zone cut only glue is meaningful (RFC 1034 §4.2.1).
                    if let other = types.first(where: { $0 != .a && $0 != .aaaa }) {
                        out.append("\(name) \(other) is below the delegation at \(nameOf(cut)) and is occluded")
                    }
                } else {
                    out.append("\(name) \(first) is below the DNAME at \(nameOf(cut)) and is occluded (RFC 6672 §2.4)")
                }
            } else if e.has(.delegation),
                      let other = types.first(where: { ![RRType.ns, .ds, .rrsig, .nsec, .a, .aaaa].contains($0) }) {
                out.append("\(name) \(other) is at a delegation point and is occluded")
            }
            if owner == apex && types.contains(.ds) {
                out.append("DS record at the zone apex \(name) belongs in the parent zone (RFC 4035 §2.4)")
            }
            // NS targets inside the zone need addresses there (named-checkzone's rule).
            guard touched[name.lowercased()]?[RRType.ns.rawValue]?.isEmpty == false,
                  let ns = rrsetIndex(at: owner, type: RRType.ns.rawValue) else { continue }
            let set = rrsets[ns.value]
            for r in set.recordStart..<(set.recordStart + set.recordCount) {
                let target = recordEntries[Int(r)].target
                guard !target.isNone, names[target.value].has(.inZone) else { continue }
                if rrsetIndex(at: target, type: RRType.a.rawValue) != nil
                    || rrsetIndex(at: target, type: RRType.aaaa.rawValue) != nil { continue }
                if names[target.value].has(.hasCNAME) {
                    out.append("NS target \(nameOf(target)) is an alias (CNAME) (RFC 2181 §10.3)")
                } else if case let above = occluder(of: target), above.isNone || names[above.value].has(.delegation) {
                    out.append("NS target \(nameOf(target)) has no A or AAAA record in the zone (missing glue)")
                }
            }
        }
        return out
    }

    /// The highest strict ancestor of `name` below or at the apex that is a cut or owns a
    /// DNAME (as `Zone.occluder(of:)`, over the tables being edited).
    private func occluder(of name: NameIndex) -> NameIndex { occludingAncestor(of: name, in: names, apex: apex) }

    /// After `n`'s records changed: whether it and its ancestors exist (an empty
    /// non-terminal exists while a name below it does, RFC 8020), and the `*` children.
    private mutating func refreshExistence(_ n: NameIndex) {
        var cur = n
        while true {
            let e = names[cur.value]
            let exists = cur == apex || ownsData(cur) || e.existingChildren > 0
            if exists == e.has(.exists) { return }
            if exists { names[cur.value].flags.insert(.exists) } else { names[cur.value].flags.remove(.exists) }
            let p = e.parent
            names[p.value].existingChildren += exists ? 1 : -1
            if e.has(.wildcard) { names[p.value].wildcardChild = exists ? cur : .none }
            cur = p
        }
    }

    private func readRecord(_ index: Int, type: UInt16, owner: DNSName) -> ResourceRecord {
        let rec = recordEntries[index]
        let rdata = recordBytes.bytes(at: Int(rec.offset) + 10, count: Int(rec.length) - 10)
        return ResourceRecord(owner: owner, type: RRType(type), ttl: rec.ttl, rdata: rdata)
    }
}
