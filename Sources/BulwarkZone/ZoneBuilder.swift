// Builds a Zone's lookup structures from records. Runs at load, off the query path:
// Dictionaries and Arrays are fine here.

struct ZoneBuilder {
    let origin: DNSName
    let originKey: [UInt8]
    var records: [ResourceRecord] = []
    var serial: UInt32 = 0

    var names = ContiguousArray<NameEntry>()
    var keyBytes = ContiguousArray<UInt8>()
    var caseBytes = ContiguousArray<UInt8>()
    var slots = ContiguousArray<Int32>()
    var rrsets = ContiguousArray<RRSetEntry>()
    var recordEntries = ContiguousArray<RecordEntry>()
    var recordBytes = ContiguousArray<UInt8>()
    var rdataNames = ContiguousArray<RDataName>()
    var apex: Int32 = -1
    var soaRRSet: Int32 = -1
    var negativeSOARRSet: Int32 = -1
    var negativeSOASignature: Int32 = -1
    var signatures = ContiguousArray<SignatureRef>()
    var nsecNodes = ContiguousArray<Int32>()
    var nsecKeyOffsets = ContiguousArray<Int32>()
    var nsecKeys = ContiguousArray<UInt8>()

    private var index: [[UInt8]: Int32] = [:]
    /// Per owner (name index), its records grouped by type in first-seen order.
    private var byOwner: [Int32: [UInt16: [ResourceRecord]]] = [:]
    private var ownerOrder: [Int32] = []

    init(origin: DNSName) {
        self.origin = origin
        self.originKey = origin.wire.map(asciiLower)
    }

    /// Interns a name and all its ancestors; returns its index.
    @discardableResult
    mutating func intern(_ wire: ArraySlice<UInt8>) -> Int32 {
        let key = wire.map(asciiLower)
        if let i = index[key] { return i }
        var parent: Int32 = -1
        if wire.count > 1 {
            let first = Int(wire[wire.startIndex])
            parent = intern(wire[(wire.startIndex + 1 + first)...])
        }
        let i = Int32(names.count)
        let offset = Int32(keyBytes.count)
        keyBytes.append(contentsOf: key)
        caseBytes.append(contentsOf: wire)
        var flags: UInt16 = 0
        if DNSName(uncheckedWire: key).isSubdomain(of: origin) { flags |= NameFlags.inZone }
        if key.count >= 2 && key[0] == 1 && key[1] == UInt8(ascii: "*") { flags |= NameFlags.wildcard }
        let labels = parent < 0 ? 0 : Int16(names[Int(parent)].labelCount + 1)
        names.append(NameEntry(offset: offset, length: Int16(key.count), labelCount: labels, flags: flags,
                               hash: nameHash(key), parent: parent, occluder: -1, wildcardChild: -1,
                               rrsetStart: 0, rrsetCount: 0))
        index[key] = i
        return i
    }

    mutating func add(_ input: [ResourceRecord]) throws(ZoneError) {
        apex = intern(origin.wire[...])
        var seen = Set<DedupKey>()
        for rr in input {
            guard rr.rrClass == .in else {
                throw ZoneError(.wrongClass, rr.owner, "record of class \(rr.rrClass), only IN is served")
            }
            guard rr.owner.isSubdomain(of: origin) else {
                throw ZoneError(.outOfZone, rr.owner, "record outside the zone \(origin)")
            }
            // Identical records are one record (RFC 2181 §5).
            guard seen.insert(DedupKey(owner: rr.owner, type: rr.type, rdata: rr.rdata)).inserted else { continue }
            records.append(rr)
            let owner = intern(rr.owner.wire[...])
            if byOwner[owner] == nil { byOwner[owner] = [:]; ownerOrder.append(owner) }
            byOwner[owner]![rr.type.rawValue, default: []].append(rr)
        }
    }

    mutating func finish() throws(ZoneError) {
        // RFC 1035 §5.2: exactly one SOA, at the apex.
        guard let soas = byOwner[apex]?[RRType.soa.rawValue] else {
            throw ZoneError(.noSOA, origin, ZoneError.noSOA)
        }
        guard soas.count == 1 else { throw ZoneError(.multipleSOA, origin, "more than one SOA record at the apex") }
        for owner in ownerOrder where owner != apex {
            if byOwner[owner]![RRType.soa.rawValue] != nil {
                throw ZoneError(.multipleSOA, nameOf(owner), "SOA record below the zone apex")
            }
        }

        // Names in record data (for compression, additional records, DNAME), interned before
        // the table is frozen. Validate rdata names as we go.
        var parsed: [[ParsedRDataName]] = []  // parallel to the encoding order below
        var order: [(owner: Int32, type: UInt16, records: [ResourceRecord])] = []
        for owner in ownerOrder {
            let types = byOwner[owner]!
            // RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME stands alone (besides DNSSEC records).
            if let cnames = types[RRType.cname.rawValue] {
                guard cnames.count == 1 else {
                    throw ZoneError(.multipleCNAME, nameOf(owner), "more than one CNAME record at a name")
                }
                for t in types.keys where t != RRType.cname.rawValue && t != RRType.rrsig.rawValue
                    && t != RRType.nsec.rawValue {
                    throw ZoneError(.cnameAndOtherData, nameOf(owner), "CNAME and other data (\(RRType(t)))")
                }
            }
            for t in types.keys.sorted() {
                order.append((owner, t, types[t]!))
            }
        }
        for item in order {
            var list: [ParsedRDataName] = []
            for rr in item.records {
                let found = try rdataNameLayout(rr)
                for var n in found.names {
                    n.index = intern(rr.rdata[n.offset..<(n.offset + n.length)])
                    list.append(n)
                }
                list.append(ParsedRDataName(offset: -1, length: 0, compress: false, isTarget: false, index: -1))
            }
            parsed.append(list)
        }

        // Existence: owners and every ancestor up to the apex (empty non-terminals).
        for owner in ownerOrder {
            var n = owner
            while n >= 0 && names[Int(n)].flags & NameFlags.exists == 0 {
                names[Int(n)].flags |= NameFlags.exists
                if n == apex { break }
                n = names[Int(n)].parent
            }
        }
        names[Int(apex)].flags |= NameFlags.apex | NameFlags.exists
        for owner in ownerOrder {
            let types = byOwner[owner]!
            if types[RRType.ns.rawValue] != nil && owner != apex { names[Int(owner)].flags |= NameFlags.delegation }
            if types[RRType.dname.rawValue] != nil { names[Int(owner)].flags |= NameFlags.hasDNAME }
            if types[RRType.cname.rawValue] != nil { names[Int(owner)].flags |= NameFlags.hasCNAME }
        }
        // Wildcard children and occlusion, parents before children.
        let byDepth = names.indices.filter { names[$0].has(NameFlags.exists) }
            .sorted { names[$0].labelCount < names[$1].labelCount }
        for i in byDepth where i != Int(apex) {
            let p = Int(names[i].parent)
            if names[i].has(NameFlags.wildcard) { names[p].wildcardChild = Int32(i) }
            let pe = names[p]
            if pe.occluder >= 0 {
                names[i].occluder = pe.occluder
            } else if pe.has(NameFlags.delegation) || pe.has(NameFlags.hasDNAME) {
                names[i].occluder = Int32(p)
            }
        }

        // RRsets and pre-encoded records, grouped per owner, sorted by type.
        var currentOwner: Int32 = -1
        for (k, item) in order.enumerated() {
            if item.owner != currentOwner {
                currentOwner = item.owner
                names[Int(item.owner)].rrsetStart = Int32(rrsets.count)
            }
            names[Int(item.owner)].rrsetCount += 1
            if item.owner == apex && item.type == RRType.soa.rawValue { soaRRSet = Int32(rrsets.count) }
            rrsets.append(RRSetEntry(type: item.type, owner: item.owner, recordStart: Int32(recordEntries.count),
                                     recordCount: Int32(item.records.count)))
            var p = 0
            let list = parsed[k]
            for rr in item.records {
                var namesStart = Int32(rdataNames.count)
                var target: Int32 = -1
                namesStart = Int32(rdataNames.count)
                while list[p].offset >= 0 {
                    let n = list[p]
                    if n.compress {
                        rdataNames.append(RDataName(rdataOffset: Int32(n.offset), length: Int32(n.length), name: n.index))
                    }
                    if n.isTarget { target = n.index }
                    p += 1
                }
                p += 1
                appendRecord(rr, ttl: rr.ttl, namesStart: namesStart, target: target)
            }
        }
        // RFC 2308 §3: the SOA in negative answers carries min(SOA TTL, SOA MINIMUM).
        let soa = soas[0]
        guard soa.rdata.count >= 22 else { throw ZoneError(.badRData, origin, "SOA rdata too short") }
        let tail = soa.rdata.count - 20
        serial = readU32(soa.rdata, tail)
        let minimum = readU32(soa.rdata, tail + 16)
        let soaSet = rrsets[Int(soaRRSet)]
        negativeSOARRSet = Int32(rrsets.count)
        rrsets.append(RRSetEntry(type: RRType.soa.rawValue, owner: apex, recordStart: Int32(recordEntries.count),
                                 recordCount: 1))
        let soaRecord = recordEntries[Int(soaSet.recordStart)]
        appendRecord(soa, ttl: min(soa.ttl, minimum), namesStart: soaRecord.namesStart, target: -1,
                     namesCount: soaRecord.namesCount)

        // DNSSEC: the RRSIGs at each name split by covered type (RFC 4035 §3.1.1 puts the
        // signatures of an RRset beside it), and the NSEC owners in canonical order.
        for owner in ownerOrder {
            guard let sigs = byOwner[owner]![RRType.rrsig.rawValue] else { continue }
            names[Int(owner)].sigStart = Int32(signatures.count)
            var covered: [UInt16: [ResourceRecord]] = [:]
            for rr in sigs where rr.rdata.count >= 2 {
                covered[UInt16(rr.rdata[0]) << 8 | UInt16(rr.rdata[1]), default: []].append(rr)
            }
            for t in covered.keys.sorted() {
                let list = covered[t]!
                signatures.append(SignatureRef(covered: t, rrset: Int32(rrsets.count)))
                rrsets.append(RRSetEntry(type: RRType.rrsig.rawValue, owner: owner,
                                         recordStart: Int32(recordEntries.count), recordCount: Int32(list.count)))
                for rr in list { appendRecord(rr, ttl: rr.ttl, namesStart: Int32(rdataNames.count), target: -1, namesCount: 0) }
            }
            names[Int(owner)].sigCount = Int32(signatures.count) - names[Int(owner)].sigStart
        }
        // In negative answers the SOA's signatures carry the SOA's negative TTL too (NSD and Knot).
        if let sigs = byOwner[apex]![RRType.rrsig.rawValue] {
            let soaSigs = sigs.filter { $0.rdata.count >= 2 && UInt16($0.rdata[0]) << 8 | UInt16($0.rdata[1]) == RRType.soa.rawValue }
            if !soaSigs.isEmpty {
                let ttl = recordEntries[Int(rrsets[Int(negativeSOARRSet)].recordStart)].ttl
                negativeSOASignature = Int32(rrsets.count)
                rrsets.append(RRSetEntry(type: RRType.rrsig.rawValue, owner: apex, recordStart: Int32(recordEntries.count),
                                         recordCount: Int32(soaSigs.count)))
                for rr in soaSigs {
                    appendRecord(rr, ttl: min(rr.ttl, ttl), namesStart: Int32(rdataNames.count), target: -1, namesCount: 0)
                }
            }
        }
        var nsecOwners = ownerOrder.filter { byOwner[$0]![RRType.nsec.rawValue] != nil }.map { ($0, canonicalKey(nameOf($0))) }
        nsecOwners.sort { $0.1.lexicographicallyPrecedes($1.1) }
        nsecKeyOffsets.append(0)
        for (n, key) in nsecOwners {
            nsecNodes.append(n)
            nsecKeys.append(contentsOf: key)
            nsecKeyOffsets.append(Int32(nsecKeys.count))
        }

        // The hash table: at most half full.
        var size = 16
        while size < names.count * 2 { size <<= 1 }
        slots = ContiguousArray(repeating: -1, count: size)
        for i in names.indices {
            var s = Int(names[i].hash) & (size - 1)
            while slots[s] >= 0 { s = (s + 1) & (size - 1) }
            slots[s] = Int32(i)
        }
        guard recordBytes.count < Int(Int32.max) else { throw ZoneError(.tooLarge, origin, "zone too large") }
    }

    private mutating func appendRecord(_ rr: ResourceRecord, ttl: UInt32, namesStart: Int32, target: Int32,
                                       namesCount: Int32? = nil) {
        let offset = Int32(recordBytes.count)
        var w = WireWriter(capacity: 10 + rr.rdata.count)
        w.writeU16(rr.type.rawValue)
        w.writeU16(rr.rrClass.rawValue)
        w.writeU32(ttl)
        w.writeU16(UInt16(rr.rdata.count))
        w.writeBytes(rr.rdata)
        recordBytes.append(contentsOf: w.bytes)
        recordEntries.append(RecordEntry(offset: offset, length: Int32(w.bytes.count), namesStart: namesStart,
                                         namesCount: namesCount ?? (Int32(rdataNames.count) - namesStart),
                                         target: target, ttl: ttl))
    }

    private func nameOf(_ n: Int32) -> DNSName {
        let e = names[Int(n)]
        return DNSName(uncheckedWire: Array(caseBytes[Int(e.offset)..<Int(e.offset) + Int(e.length)]))
    }

    private func readU32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }
}

/// A name's canonical key (RFC 4034 §6.1 order as a byte comparison): labels from right
/// to left, lower-cased, each followed by a zero octet.
func canonicalKey(_ name: DNSName) -> [UInt8] {
    var out: [UInt8] = []
    for label in name.labels.reversed() {
        out.append(contentsOf: label.map(asciiLower))
        out.append(0)
    }
    return out
}

private struct DedupKey: Hashable {
    var owner: DNSName
    var type: RRType
    var rdata: [UInt8]
}

struct ParsedRDataName {
    var offset: Int
    var length: Int
    /// RFC 3597 §4: only the names of the RFC 1035 types may be compressed.
    var compress: Bool
    /// The name additional-section processing or DNAME substitution follows.
    var isTarget: Bool
    var index: Int32
}

/// Where the names inside a record's rdata are (uncompressed, as stored). Types not
/// listed carry no names we act on; their rdata is copied as is.
func rdataNameLayout(_ rr: ResourceRecord) throws(ZoneError) -> (names: [ParsedRDataName], end: Int) {
    let d = rr.rdata
    func nameLength(at o: Int) throws(ZoneError) -> Int {
        var p = o
        while true {
            guard p < d.count else { throw ZoneError(.badRData, rr.owner, "\(rr.type) rdata: name runs past the end") }
            let l = Int(d[p])
            if l == 0 { break }
            guard l <= 63 else { throw ZoneError(.badRData, rr.owner, "\(rr.type) rdata: bad label") }
            p += 1 + l
        }
        let n = p + 1 - o
        guard n <= DNSName.maxWireLength else { throw ZoneError(.badRData, rr.owner, "\(rr.type) rdata: name too long") }
        return n
    }
    func one(at o: Int, compress: Bool, target: Bool, exact: Bool = true) throws(ZoneError) -> ParsedRDataName {
        guard d.count > o else { throw ZoneError(.badRData, rr.owner, "\(rr.type) rdata too short") }
        let n = try nameLength(at: o)
        if exact && o + n != d.count { throw ZoneError(.badRData, rr.owner, "\(rr.type) rdata: trailing data") }
        return ParsedRDataName(offset: o, length: n, compress: compress, isTarget: target, index: -1)
    }
    switch rr.type.rawValue {
    case 2, 3, 4, 5, 7, 8, 9, 12:  // NS MD MF CNAME MB MG MR PTR
        return ([try one(at: 0, compress: true, target: true)], d.count)
    case 39:  // DNAME: not compressed (RFC 6672 §2.5)
        return ([try one(at: 0, compress: false, target: true)], d.count)
    case 6:  // SOA
        let m = try one(at: 0, compress: true, target: false, exact: false)
        let r = try one(at: m.length, compress: true, target: false, exact: false)
        guard m.length + r.length + 20 == d.count else { throw ZoneError(.badRData, rr.owner, "SOA rdata length") }
        return ([m, r], d.count)
    case 14:  // MINFO
        let a = try one(at: 0, compress: true, target: false, exact: false)
        let b = try one(at: a.length, compress: true, target: false)
        return ([a, b], d.count)
    case 15:  // MX
        return ([try one(at: 2, compress: true, target: true)], d.count)
    case 33:  // SRV: target not compressed (RFC 2782)
        return ([try one(at: 6, compress: false, target: true)], d.count)
    default:
        return ([], d.count)
    }
}
