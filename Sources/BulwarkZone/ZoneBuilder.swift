// Builds a Zone's lookup structures from records. Runs at load, off the query path:
// Dictionaries and Arrays are fine here.
import BulwarkWire

struct ZoneBuilder {
    let origin: DNSName
    let originKey: [UInt8]
    var serial: UInt32 = 0
    /// Records kept (duplicates removed).
    var recordCount = 0

    var names = ContiguousArray<NameEntry>()
    var keyBytes = ContiguousArray<UInt8>()
    var caseBytes = ContiguousArray<UInt8>()
    var slots = ContiguousArray<NameIndex>()
    var rrsets = ContiguousArray<RRSetEntry>()
    var recordEntries = ContiguousArray<RecordEntry>()
    var recordBytes = ContiguousArray<UInt8>()
    var rdataNames = ContiguousArray<RDataName>()
    var apex = NameIndex.none
    var soaRRSet = RRSetIndex.none
    var negativeSOARRSet = RRSetIndex.none
    var negativeSOASignature = RRSetIndex.none
    var signatures = ContiguousArray<SignatureRef>()
    var nsecNodes = ContiguousArray<NameIndex>()
    var nsecKeyOffsets = ContiguousArray<Int32>()
    var nsecKeys = ContiguousArray<UInt8>()

    /// The name table's own open-addressing index (the one `Zone.find` probes), grown
    /// while interning: no per-name key arrays.
    private var slotMask = 0

    init(origin: DNSName) {
        self.origin = origin
        self.originKey = origin.wire.map(asciiLower)
    }

    private mutating func growSlots(_ size: Int) {
        slots = ContiguousArray(repeating: .none, count: size)
        slotMask = size - 1
        for i in names.indices {
            var s = Int(names[i].hash) & slotMask
            while !slots[s].isNone { s = (s + 1) & slotMask }
            slots[s] = NameIndex(i)
        }
    }

    /// Interns a name and all its ancestors; returns its index. Parents always get a
    /// lower index than their children.
    @discardableResult
    mutating func intern(_ wire: ArraySlice<UInt8>) -> NameIndex {
        if slots.isEmpty { growSlots(16) }
        var h = nameHashSeed
        var i = wire.endIndex - 1
        while i >= wire.startIndex { h = nameHashStep(h, asciiLower(wire[i])); i -= 1 }
        var s = Int(h) & slotMask
        while true {
            let n = slots[s]
            if n.isNone { break }
            let e = names[n.value]
            if e.hash == h && Int(e.length) == wire.count {
                var k = Int(e.offset), same = true
                for b in wire {
                    if keyBytes[k] != asciiLower(b) { same = false; break }
                    k += 1
                }
                if same { return n }
            }
            s = (s + 1) & slotMask
        }
        var parent = NameIndex.none
        if wire.count > 1 {
            let first = Int(wire[wire.startIndex])
            parent = intern(wire[(wire.startIndex + 1 + first)...])
        }
        let index = NameIndex(names.count)
        let offset = Int32(keyBytes.count)
        for b in wire { keyBytes.append(asciiLower(b)) }
        caseBytes.append(contentsOf: wire)
        var flags: NameFlags = []
        if !parent.isNone && names[parent.value].has(.inZone) {
            flags.insert(.inZone)
        } else if wire.count == originKey.count {
            var same = true
            var k = 0
            for b in wire {
                if asciiLower(b) != originKey[k] { same = false; break }
                k += 1
            }
            if same { flags.insert(.inZone) }
        }
        if wire.count >= 2 && wire[wire.startIndex] == 1 && wire[wire.startIndex + 1] == UInt8(ascii: "*") {
            flags.insert(.wildcard)
        }
        let labels = parent.isNone ? 0 : Int16(names[parent.value].labelCount + 1)
        names.append(NameEntry(offset: offset, length: Int16(wire.count), labelCount: labels, flags: flags,
                               hash: h, parent: parent, occluder: .none, wildcardChild: .none,
                               rrsetStart: RRSetIndex(0 as Int32), rrsetCount: 0))
        if names.count * 2 > slots.count {
            growSlots(slots.count * 2)
        } else {
            var t = Int(h) & slotMask
            while !slots[t].isNone { t = (t + 1) & slotMask }
            slots[t] = index
        }
        return index
    }

    /// Builds every structure from `input`. Records are grouped per owner (first-seen
    /// order), then by type, then in input order; identical records are one (RFC 2181 §5).
    /// With `releasing`, `input` must be uniquely held: each record other than SOA and
    /// RRSIG is replaced by an empty one of the same type once packed, and freed pages
    /// are handed back every so often.
    mutating func build(_ input: inout [ResourceRecord], releasing: Bool) throws(ZoneError) {
        // Sizes from the record count, so the big arrays grow once.
        var size = 16
        while size < input.count { size <<= 1 }
        growSlots(size)
        names.reserveCapacity(input.count / 2 + 16)
        apex = intern(origin.wire[...])

        // Owners: intern, check, rank by first appearance.
        var ownerRank = ContiguousArray<Int32>()
        var ownerOrder = ContiguousArray<NameIndex>()
        var recordRank = ContiguousArray<Int32>()
        recordRank.reserveCapacity(input.count)
        var totalBytes = 0, sigBytes = 0, sigCount = 0
        // Records of one owner usually follow each other and share the owner's storage
        // (the reader reuses the previous owner): intern it once per run. `input` keeps
        // every storage alive, so an address seen again is the same name.
        var previousWire: UnsafeRawPointer? = nil
        var previousOwner = NameIndex.none
        for rr in input {
            guard rr.rrClass == .in else {
                throw ZoneError(.wrongClass, rr.owner, "record of class \(rr.rrClass), only IN is served")
            }
            let wire = rr.owner.wire.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
            let owner: NameIndex
            if let wire, wire == previousWire {
                owner = previousOwner
            } else {
                owner = intern(rr.owner.wire[...])
                previousWire = wire
                previousOwner = owner
            }
            guard names[owner.value].has(.inZone) else {
                throw ZoneError(.outOfZone, rr.owner, "record outside the zone \(origin)")
            }
            if ownerRank.count < names.count {
                ownerRank.append(contentsOf: repeatElement(-1, count: names.count - ownerRank.count))
            }
            if ownerRank[owner.value] < 0 {
                ownerRank[owner.value] = Int32(ownerOrder.count)
                ownerOrder.append(owner)
            }
            recordRank.append(ownerRank[owner.value])
            totalBytes += 10 + rr.rdata.count
            if rr.type == .rrsig { sigBytes += 10 + rr.rdata.count; sigCount += 1 }
        }
        ownerRank = []

        // Counting sort by owner rank (stable), then by type within each owner.
        var groupStart = ContiguousArray<Int32>(repeating: 0, count: ownerOrder.count + 1)
        for r in recordRank { groupStart[Int(r) + 1] += 1 }
        for g in 0..<ownerOrder.count { groupStart[g + 1] += groupStart[g] }
        var sorted = ContiguousArray<Int32>(repeating: 0, count: input.count)
        do {
            var next = groupStart
            for (k, r) in recordRank.enumerated() {
                sorted[Int(next[Int(r)])] = Int32(k)
                next[Int(r)] += 1
            }
        }
        recordRank = []
        // Per group: sort by (type, input order), drop duplicates within each type run.
        var kept = 0
        for g in 0..<ownerOrder.count {
            let s = Int(groupStart[g]), e = Int(groupStart[g + 1])
            groupStart[g] = Int32(kept)
            if e - s > 1 {
                if e - s <= 16 {
                    var i = s + 1
                    while i < e {
                        let x = sorted[i]
                        let tx = input[Int(x)].type.rawValue
                        var j = i - 1
                        while j >= s && input[Int(sorted[j])].type.rawValue > tx {
                            sorted[j + 1] = sorted[j]
                            j -= 1
                        }
                        sorted[j + 1] = x
                        i += 1
                    }
                } else {
                    sorted[s..<e].sort {
                        let a = input[Int($0)].type.rawValue, b = input[Int($1)].type.rawValue
                        return a != b ? a < b : $0 < $1
                    }
                }
            }
            var i = s
            while i < e {
                let t = input[Int(sorted[i])].type.rawValue
                let runStart = kept
                var seen: Set<[UInt8]>? = nil
                while i < e && input[Int(sorted[i])].type.rawValue == t {
                    let k = sorted[i]
                    let rd = input[Int(k)].rdata
                    var dup = false
                    if let seen {
                        dup = seen.contains(rd)
                    } else {
                        var j = runStart
                        while j < kept {
                            if input[Int(sorted[j])].rdata == rd { dup = true; break }
                            j += 1
                        }
                    }
                    if !dup {
                        sorted[kept] = k
                        kept += 1
                        if seen != nil {
                            seen!.insert(rd)
                        } else if kept - runStart > 32 {
                            seen = Set(sorted[runStart..<kept].map { input[Int($0)].rdata })
                        }
                    }
                    i += 1
                }
            }
        }
        groupStart[ownerOrder.count] = Int32(kept)
        recordCount = kept

        // The type runs of group g: calls body(type, start, end) over `sorted`.
        func runs(_ group: Int, _ body: (UInt16, Int, Int) throws(ZoneError) -> Void) throws(ZoneError) {
            var i = Int(groupStart[group])
            let e = Int(groupStart[group + 1])
            while i < e {
                let t = input[Int(sorted[i])].type.rawValue
                var j = i + 1
                while j < e && input[Int(sorted[j])].type.rawValue == t { j += 1 }
                try body(t, i, j)
                i = j
            }
        }
        func run(_ group: Int, _ type: RRType) -> Range<Int>? {
            var found: Range<Int>? = nil
            try? runs(group) { t, s, e in if t == type.rawValue { found = s..<e } }
            return found
        }

        // RFC 1035 §5.2: exactly one SOA, at the apex.
        let apexGroup = ownerOrder.firstIndex(of: apex)
        guard let apexGroup, let soaRun = run(apexGroup, .soa) else {
            throw ZoneError(.noSOA, origin, ZoneError.noSOA)
        }
        guard soaRun.count == 1 else { throw ZoneError(.multipleSOA, origin, "more than one SOA record at the apex") }
        for g in 0..<ownerOrder.count where g != apexGroup {
            if run(g, .soa) != nil {
                throw ZoneError(.multipleSOA, nameOf(ownerOrder[g]), "SOA record below the zone apex")
            }
        }
        // RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME stands alone (besides DNSSEC records).
        for g in 0..<ownerOrder.count {
            guard let cnames = run(g, .cname) else { continue }
            let owner = ownerOrder[g]
            guard cnames.count == 1 else {
                throw ZoneError(.multipleCNAME, nameOf(owner), "more than one CNAME record at a name")
            }
            try runs(g) { t, _, _ throws(ZoneError) in
                if t != RRType.cname.rawValue && t != RRType.rrsig.rawValue && t != RRType.nsec.rawValue {
                    throw ZoneError(.cnameAndOtherData, nameOf(owner), "CNAME and other data (\(RRType(t)))")
                }
            }
        }

        // RRsets and pre-encoded records, grouped per owner, sorted by type; names in
        // record data interned as we go (for compression, additional records, DNAME).
        recordBytes.reserveCapacity(totalBytes + sigBytes + 512)
        recordEntries.reserveCapacity(kept + sigCount + 2)
        var released = 0
        for g in 0..<ownerOrder.count {
            let owner = ownerOrder[g]
            names[owner.value].rrsetStart = RRSetIndex(rrsets.count)
            try runs(g) { t, s, e throws(ZoneError) in
                names[owner.value].rrsetCount += 1
                if t == RRType.ns.rawValue && owner != apex { names[owner.value].flags.insert(.delegation) }
                if t == RRType.dname.rawValue { names[owner.value].flags.insert(.hasDNAME) }
                if t == RRType.cname.rawValue { names[owner.value].flags.insert(.hasCNAME) }
                if owner == apex && t == RRType.soa.rawValue { soaRRSet = RRSetIndex(rrsets.count) }
                rrsets.append(RRSetEntry(type: t, owner: owner, recordStart: Int32(recordEntries.count),
                                         recordCount: Int32(e - s)))
                for k in s..<e {
                    let rr = input[Int(sorted[k])]
                    let namesStart = Int32(rdataNames.count)
                    var target = NameIndex.none
                    if rdataMayHoldNames(t) {
                        let found = try rdataNameLayout(rr)
                        for n in found.names {
                            let index = intern(rr.rdata[n.offset..<(n.offset + n.length)])
                            if n.compress {
                                rdataNames.append(RDataName(rdataOffset: Int32(n.offset), length: Int32(n.length), name: index))
                            }
                            if n.isTarget { target = index }
                        }
                    }
                    appendRecord(rr, ttl: rr.ttl, namesStart: namesStart, target: target)
                    if releasing && t != RRType.soa.rawValue && t != RRType.rrsig.rawValue {
                        input[Int(sorted[k])] = ResourceRecord(owner: .root, type: rr.type, ttl: 0, rdata: [])
                        released += 1
                        if released & 0x3FFFF == 0 { trimMallocHeap() }
                    }
                }
            }
        }

        // Existence: owners and every ancestor up to the apex (empty non-terminals).
        for owner in ownerOrder {
            var n = owner
            while !n.isNone && !names[n.value].has(.exists) {
                names[n.value].flags.insert(.exists)
                if n == apex { break }
                n = names[n.value].parent
            }
        }
        names[apex.value].flags.formUnion([.apex, .exists])
        // Wildcard children and occlusion, parents before children (a parent's index is
        // always lower than its children's).
        for i in names.indices where i != apex.value && names[i].has(.exists) {
            let p = names[i].parent.value
            if names[i].has(.wildcard) { names[p].wildcardChild = NameIndex(i) }
            let pe = names[p]
            if !pe.occluder.isNone {
                names[i].occluder = pe.occluder
            } else if pe.has(.delegation) || pe.has(.hasDNAME) {
                names[i].occluder = NameIndex(p)
            }
        }

        // RFC 2308 §3: the SOA in negative answers carries min(SOA TTL, SOA MINIMUM).
        let soa = input[Int(sorted[soaRun.lowerBound])]
        guard soa.rdata.count >= 22 else { throw ZoneError(.badRData, origin, "SOA rdata too short") }
        let tail = soa.rdata.count - 20
        serial = readU32(soa.rdata, tail)
        let minimum = readU32(soa.rdata, tail + 16)
        let soaSet = rrsets[soaRRSet.value]
        negativeSOARRSet = RRSetIndex(rrsets.count)
        rrsets.append(RRSetEntry(type: RRType.soa.rawValue, owner: apex, recordStart: Int32(recordEntries.count),
                                 recordCount: 1))
        let soaRecord = recordEntries[Int(soaSet.recordStart)]
        appendRecord(soa, ttl: min(soa.ttl, minimum), namesStart: soaRecord.namesStart, target: .none,
                     namesCount: soaRecord.namesCount)

        // DNSSEC: the RRSIGs at each name split by covered type (RFC 4035 §3.1.1 puts the
        // signatures of an RRset beside it), and the NSEC owners in canonical order.
        func covered(_ rr: ResourceRecord) -> UInt16 { UInt16(rr.rdata[0]) << 8 | UInt16(rr.rdata[1]) }
        var apexSigs: [ResourceRecord] = []
        for g in 0..<ownerOrder.count {
            guard let sigRun = run(g, .rrsig) else { continue }
            let owner = ownerOrder[g]
            var sigs = sigRun.map { input[Int(sorted[$0])] }.filter { $0.rdata.count >= 2 }
            if owner == apex { apexSigs = sigs }
            // Stable: by covered type, then input order.
            sigs = sigs.enumerated().sorted {
                let a = covered($0.element), b = covered($1.element)
                return a != b ? a < b : $0.offset < $1.offset
            }.map(\.element)
            names[owner.value].sigStart = Int32(signatures.count)
            var i = 0
            while i < sigs.count {
                let t = covered(sigs[i])
                var j = i + 1
                while j < sigs.count && covered(sigs[j]) == t { j += 1 }
                signatures.append(SignatureRef(covered: t, rrset: RRSetIndex(rrsets.count)))
                rrsets.append(RRSetEntry(type: RRType.rrsig.rawValue, owner: owner,
                                         recordStart: Int32(recordEntries.count), recordCount: Int32(j - i)))
                for rr in sigs[i..<j] {
                    appendRecord(rr, ttl: rr.ttl, namesStart: Int32(rdataNames.count), target: .none, namesCount: 0)
                }
                i = j
            }
            names[owner.value].sigCount = Int32(signatures.count) - names[owner.value].sigStart
        }
        // In negative answers the SOA's signatures carry the SOA's negative TTL too (NSD and Knot).
        let soaSigs = apexSigs.filter { covered($0) == RRType.soa.rawValue }
        if !soaSigs.isEmpty {
            let ttl = recordEntries[Int(rrsets[negativeSOARRSet.value].recordStart)].ttl
            negativeSOASignature = RRSetIndex(rrsets.count)
            rrsets.append(RRSetEntry(type: RRType.rrsig.rawValue, owner: apex, recordStart: Int32(recordEntries.count),
                                     recordCount: Int32(soaSigs.count)))
            for rr in soaSigs {
                appendRecord(rr, ttl: min(rr.ttl, ttl), namesStart: Int32(rdataNames.count), target: .none, namesCount: 0)
            }
        }
        var nsecOwners: [(NameIndex, [UInt8])] = []
        for g in 0..<ownerOrder.count where run(g, .nsec) != nil {
            nsecOwners.append((ownerOrder[g], canonicalKey(nameOf(ownerOrder[g]))))
        }
        nsecOwners.sort { $0.1.lexicographicallyPrecedes($1.1) }
        nsecKeyOffsets.append(0)
        for (n, key) in nsecOwners {
            nsecNodes.append(n)
            nsecKeys.append(contentsOf: key)
            nsecKeyOffsets.append(Int32(nsecKeys.count))
        }

        // The hash table: at most half full (kept so by `intern`).
        guard recordBytes.count < Int(Int32.max) else { throw ZoneError(.tooLarge, origin, "zone too large") }
    }

    private mutating func appendRecord(_ rr: ResourceRecord, ttl: UInt32, namesStart: Int32, target: NameIndex,
                                       namesCount: Int32? = nil) {
        let offset = Int32(recordBytes.count)
        let t = rr.type.rawValue, c = rr.rrClass.rawValue, n = UInt16(truncatingIfNeeded: rr.rdata.count)
        recordBytes.append(UInt8(t >> 8)); recordBytes.append(UInt8(t & 0xFF))
        recordBytes.append(UInt8(c >> 8)); recordBytes.append(UInt8(c & 0xFF))
        recordBytes.append(UInt8(ttl >> 24)); recordBytes.append(UInt8((ttl >> 16) & 0xFF))
        recordBytes.append(UInt8((ttl >> 8) & 0xFF)); recordBytes.append(UInt8(ttl & 0xFF))
        recordBytes.append(UInt8(n >> 8)); recordBytes.append(UInt8(n & 0xFF))
        recordBytes.append(contentsOf: rr.rdata)
        recordEntries.append(RecordEntry(offset: offset, length: Int32(10 + rr.rdata.count), namesStart: namesStart,
                                         namesCount: namesCount ?? (Int32(rdataNames.count) - namesStart),
                                         target: target, ttl: ttl))
    }

    private func nameOf(_ name: NameIndex) -> DNSName {
        let e = names[name.value]
        return DNSName(uncheckedWire: Array(caseBytes[Int(e.offset)..<Int(e.offset) + Int(e.length)]))
    }

    private func readU32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}

/// The types `rdataNameLayout` finds names in.
@inline(__always)
func rdataMayHoldNames(_ type: UInt16) -> Bool {
    switch type {
    case 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15, 33, 39: return true
    default: return false
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
