// Builds a Zone's lookup structures from records, or edits a zone into its next version
// (ZoneEdit.swift). Runs off the query path: Dictionaries and Arrays are fine here.
import BulwarkWire

struct ZoneBuilder {
    let origin: DNSName
    let originKey: [UInt8]
    let hashKey = NameHashKey.process
    var serial: UInt32 = 0
    /// Records kept (duplicates removed).
    var recordCount = 0
    var contentDigest: UInt64 = 0
    var staleRecords = 0

    var names: PagedTable<NameEntry>
    var nameBytes: PagedBytes
    var slots: PagedTable<NameIndex>
    var rrsets: PagedTable<RRSetEntry>
    var recordEntries: PagedTable<RecordEntry>
    var recordBytes: PagedBytes
    var rdataNames: PagedTable<RDataName>
    var apex = NameIndex.none
    var soaRRSet = RRSetIndex.none
    var negativeSOARRSet = RRSetIndex.none
    var negativeSOASignature = RRSetIndex.none
    var signatures: PagedTable<SignatureRef>
    var nsecNodes = ContiguousArray<NameIndex>()
    var nsecKeyOffsets = ContiguousArray<Int32>()
    var nsecKeys = ContiguousArray<UInt8>()
    var nsec3 = NSEC3Index()

    /// The name table's own open-addressing index (the one `Zone.find` probes), grown
    /// while interning.
    private var slotMask = 0

    init(origin: DNSName) {
        self.origin = origin
        self.originKey = origin.wire.map(asciiLower)
        let epoch = EditEpoch.next()
        names = PagedTable(epoch: epoch)
        nameBytes = PagedBytes(epoch: epoch)
        slots = PagedTable(epoch: epoch)
        rrsets = PagedTable(epoch: epoch)
        recordEntries = PagedTable(epoch: epoch)
        recordBytes = PagedBytes(epoch: epoch)
        rdataNames = PagedTable(epoch: epoch)
        signatures = PagedTable(epoch: epoch)
    }

    /// Starts the next version of `zone`: its tables, shared until written.
    init(editing zone: Zone) {
        origin = zone.origin
        originKey = origin.wire.map(asciiLower)
        precondition(zone.hashKey == hashKey, "a zone built under another hash key")
        serial = zone.serial
        recordCount = zone.recordCount
        contentDigest = zone.contentDigest
        staleRecords = zone.staleRecords
        let epoch = EditEpoch.next()
        names = zone.names; names.epoch = epoch
        nameBytes = zone.nameBytes; nameBytes.epoch = epoch
        slots = zone.slots; slots.epoch = epoch
        slotMask = zone.slotMask
        rrsets = zone.rrsets; rrsets.epoch = epoch
        recordEntries = zone.recordEntries; recordEntries.epoch = epoch
        recordBytes = zone.recordBytes; recordBytes.epoch = epoch
        rdataNames = zone.rdataNames; rdataNames.epoch = epoch
        signatures = zone.signatures; signatures.epoch = epoch
        apex = zone.apex
        soaRRSet = zone.soaRRSet
        negativeSOARRSet = zone.negativeSOARRSet
        negativeSOASignature = zone.negativeSOASignature
        nsecNodes = zone.nsecNodes
        nsecKeyOffsets = zone.nsecKeyOffsets
        nsecKeys = zone.nsecKeys
        nsec3 = zone.nsec3
    }

    /// Gives back the room the tables' last pages do not use.
    mutating func shrinkToFit() {
        names.shrinkToFit()
        nameBytes.shrinkToFit()
        rrsets.shrinkToFit()
        recordEntries.shrinkToFit()
        recordBytes.shrinkToFit()
        rdataNames.shrinkToFit()
        signatures.shrinkToFit()
    }

    private mutating func growSlots(_ size: Int) {
        slots = PagedTable(repeating: .none, count: size, epoch: slots.epoch)
        slotMask = size - 1
        for i in 0..<names.count {
            var s = Int(names[i].hash) & slotMask
            while !slots[s].isNone { s = (s + 1) & slotMask }
            slots[s] = NameIndex(i)
        }
    }

    /// Interns a name and all its ancestors; returns its index. Parents always get a
    /// lower index than their children.
    @discardableResult
    mutating func intern(_ wire: ArraySlice<UInt8>) -> NameIndex {
        if slots.count == 0 { growSlots(16) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { lower in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 128) { hashes in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 128) { starts in
                    var i = 0
                    for b in wire { lower[i] = asciiLower(b); i += 1 }
                    var labels = 0
                    var p = 0
                    while true {
                        starts[labels] = p
                        labels += 1
                        let n = Int(lower[p])
                        if n == 0 { break }
                        p += 1 + n
                    }
                    var h: UInt32 = 0
                    var j = labels - 1
                    while j >= 0 {
                        h = labelHash(hashKey, parent: h, lower.baseAddress! + starts[j], 1 + Int(lower[starts[j]]))
                        hashes[j] = h
                        j -= 1
                    }
                    return intern(wire, lower: UnsafeBufferPointer(lower), hashes: UnsafeBufferPointer(hashes),
                                  starts: UnsafeBufferPointer(starts), label: 0, labels: labels)
                }
            }
        }
    }

    /// Interns the suffix of `wire` that starts at label `label` of `labels`.
    private mutating func intern(_ wire: ArraySlice<UInt8>, lower: UnsafeBufferPointer<UInt8>,
                                 hashes: UnsafeBufferPointer<UInt32>, starts: UnsafeBufferPointer<Int>,
                                 label: Int, labels: Int) -> NameIndex {
        let from = starts[label]
        let length = wire.count - from
        let h = hashes[label]
        let key = lower.baseAddress! + from
        var s = Int(h) & slotMask
        while true {
            let n = slots[s]
            if n.isNone { break }
            let e = names[n.value]
            if e.hash == h && Int(e.length) == length && memEqual(nameBytes.address(Int(e.offset)), key, length) {
                return n
            }
            s = (s + 1) & slotMask
        }
        var parent = NameIndex.none
        if label + 1 < labels {
            parent = intern(wire, lower: lower, hashes: hashes, starts: starts, label: label + 1, labels: labels)
        }
        let index = NameIndex(names.count)
        let (offset, address) = nameBytes.reserve(2 * length)
        address.update(from: key, count: length)
        var k = length
        for b in wire[(wire.startIndex + from)...] { address[k] = b; k += 1 }
        var flags: NameFlags = []
        if !parent.isNone && names[parent.value].has(.inZone) {
            flags.insert(.inZone)
        } else if length == originKey.count && originKey.withUnsafeBytes({ memEqual($0.baseAddress!, key, length) }) {
            flags.insert(.inZone)
        }
        if length >= 2 && key[0] == 1 && key[1] == UInt8(ascii: "*") { flags.insert(.wildcard) }
        let labelCount = parent.isNone ? 0 : Int16(names[parent.value].labelCount + 1)
        names.append(NameEntry(offset: Int32(offset), length: Int16(length), labelCount: labelCount, flags: flags,
                               hash: h, parent: parent, existingChildren: 0, wildcardChild: .none,
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
        apex = intern(origin.wire[...])

        // Owners: intern, check, rank by first appearance.
        var ownerRank = ContiguousArray<Int32>()
        var ownerOrder = ContiguousArray<NameIndex>()
        var recordRank = ContiguousArray<Int32>()
        recordRank.reserveCapacity(input.count)
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
        var released = 0
        for g in 0..<ownerOrder.count {
            let owner = ownerOrder[g]
            names[owner.value].rrsetStart = RRSetIndex(rrsets.count)
            try runs(g) { t, s, e throws(ZoneError) in
                names[owner.value].rrsetCount += 1
                if owner == apex && t == RRType.soa.rawValue { soaRRSet = RRSetIndex(rrsets.count) }
                rrsets.append(RRSetEntry(type: t, owner: owner, recordStart: Int32(recordEntries.count),
                                         recordCount: Int32(e - s)))
                for k in s..<e {
                    let rr = input[Int(sorted[k])]
                    try appendZoneRecord(rr, owner: owner)
                    if releasing && t != RRType.soa.rawValue && t != RRType.rrsig.rawValue {
                        input[Int(sorted[k])] = ResourceRecord(owner: .root, type: rr.type, ttl: 0, rdata: [])
                        released += 1
                        if released & 0x3FFFF == 0 { trimMallocHeap() }
                    }
                }
            }
            setTypeFlags(owner)
        }

        // Existence: owners and every ancestor up to the apex (empty non-terminals).
        for owner in ownerOrder where ownsData(owner) {
            var n = owner
            while !n.isNone && !names[n.value].has(.exists) {
                names[n.value].flags.insert(.exists)
                if n == apex { break }
                n = names[n.value].parent
            }
        }
        names[apex.value].flags.formUnion([.apex, .exists])
        // Wildcard children and the count of existing children.
        for i in 0..<names.count where i != apex.value && names[i].has(.exists) {
            let p = names[i].parent.value
            if names[i].has(.wildcard) { names[p].wildcardChild = NameIndex(i) }
            names[p].existingChildren += 1
        }

        try setNegativeSOA(input[Int(sorted[soaRun.lowerBound])])

        // DNSSEC: the RRSIGs at each name split by covered type, and the NSEC owners in
        // canonical order.
        var apexSigs: [ResourceRecord] = []
        for g in 0..<ownerOrder.count {
            guard let sigRun = run(g, .rrsig) else { continue }
            let owner = ownerOrder[g]
            let sigs = sigRun.map { input[Int(sorted[$0])] }
            if owner == apex { apexSigs = sigs }
            addSignatures(owner, sigs)
        }
        setNegativeSOASignature(apexSigs)
        var nsecOwners: [NameIndex] = []
        for g in 0..<ownerOrder.count where run(g, .nsec) != nil { nsecOwners.append(ownerOrder[g]) }
        rebuildNSECIndex(nsecOwners)
        var nsec3Owners: [NameIndex] = []
        for g in 0..<ownerOrder.count where run(g, .nsec3) != nil { nsec3Owners.append(ownerOrder[g]) }
        rebuildNSEC3Index(nsec3Owners)
        guard recordBytes.end < Int(Int32.max) else { throw ZoneError(.tooLarge, origin, "zone too large") }
    }

    /// Packs one record of the zone at `owner` (after its RRset's entry), interning the
    /// names in its data; counts it in the content digest.
    mutating func appendZoneRecord(_ rr: ResourceRecord, owner: NameIndex) throws(ZoneError) {
        let t = rr.type.rawValue
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
        contentDigest ^= recordDigest(owner: owner, type: t, ttl: rr.ttl, rr.rdata)
    }

    /// A keyed hash of one record, for the content digest.
    func recordDigest(owner: NameIndex, type: UInt16, ttl: UInt32, _ rdata: [UInt8]) -> UInt64 {
        var s = SipState(k0: hashKey.k0 ^ UInt64(names[owner.value].hash), k1: hashKey.k1 ^ (UInt64(type) << 32 | UInt64(ttl)))
        return rdata.withUnsafeBytes { s.hash($0.baseAddress, $0.count, prefixLength: 0, compression: 1, finalization: 3) }
    }

    /// The flags that follow from the types at `owner`.
    mutating func setTypeFlags(_ owner: NameIndex) {
        let e = names[owner.value]
        var flags = e.flags.subtracting([.delegation, .hasDNAME, .hasCNAME])
        for r in e.rrsetStart.value..<(e.rrsetStart.value + Int(e.rrsetCount)) {
            switch rrsets[r].type {
            case RRType.ns.rawValue where owner != apex: flags.insert(.delegation)  // RFC 1034 §4.2.1: a cut
            case RRType.dname.rawValue: flags.insert(.hasDNAME)
            case RRType.cname.rawValue: flags.insert(.hasCNAME)
            default: break
            }
        }
        names[owner.value].flags = flags
    }

    /// The SOA at the apex: the serial, and the SOA as it goes in negative answers, with
    /// TTL = min(SOA TTL, SOA MINIMUM) (RFC 2308 §3), a one-record RRset of its own.
    mutating func setNegativeSOA(_ soa: ResourceRecord) throws(ZoneError) {
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
    }

    /// The RRSIGs at `owner` split by covered type, each group an RRset of its own
    /// (RFC 4035 §3.1.1 puts the signatures of an RRset beside it): by covered type,
    /// then as given. No RRSIGs: none.
    mutating func addSignatures(_ owner: NameIndex, _ all: [ResourceRecord]) {
        let sigs = all.filter { $0.rdata.count >= 2 }.enumerated().sorted {
            let a = coveredType($0.element), b = coveredType($1.element)
            return a != b ? a < b : $0.offset < $1.offset
        }.map(\.element)
        names[owner.value].sigStart = Int32(signatures.count)
        var i = 0
        while i < sigs.count {
            let t = coveredType(sigs[i])
            var j = i + 1
            while j < sigs.count && coveredType(sigs[j]) == t { j += 1 }
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

    /// In negative answers the SOA's signatures carry the SOA's negative TTL too (NSD and Knot).
    mutating func setNegativeSOASignature(_ apexSigs: [ResourceRecord]) {
        negativeSOASignature = .none
        let soaSigs = apexSigs.filter { $0.rdata.count >= 2 && coveredType($0) == RRType.soa.rawValue }
        guard !soaSigs.isEmpty else { return }
        let ttl = recordEntries[Int(rrsets[negativeSOARRSet.value].recordStart)].ttl
        negativeSOASignature = RRSetIndex(rrsets.count)
        rrsets.append(RRSetEntry(type: RRType.rrsig.rawValue, owner: apex, recordStart: Int32(recordEntries.count),
                                 recordCount: Int32(soaSigs.count)))
        for rr in soaSigs {
            appendRecord(rr, ttl: min(rr.ttl, ttl), namesStart: Int32(rdataNames.count), target: .none, namesCount: 0)
        }
    }

    /// The NSEC owners in canonical order (RFC 4034 §6.1).
    mutating func rebuildNSECIndex<S: Sequence>(_ owners: S) where S.Element == NameIndex {
        var nsecOwners: [(NameIndex, [UInt8])] = []
        for n in owners { nsecOwners.append((n, canonicalKey(nameOf(n)))) }
        nsecOwners.sort { $0.1.lexicographicallyPrecedes($1.1) }
        nsecNodes = []
        nsecKeys = []
        nsecKeyOffsets = [0]
        for (n, key) in nsecOwners {
            nsecNodes.append(n)
            nsecKeys.append(contentsOf: key)
            nsecKeyOffsets.append(Int32(nsecKeys.count))
        }
    }

    /// The NSEC3 chain the apex's NSEC3PARAM names (RFC 5155 §4: the first with flags 0
    /// and hash algorithm 1, SHA-1), from the NSEC3 owners given: those one label below
    /// the apex, whose first label is a base32hex hash and whose NSEC3 has the chain's
    /// parameters. No such NSEC3PARAM: no chain (as NSD and Knot, which use it to find it).
    mutating func rebuildNSEC3Index<S: Sequence>(_ owners: S) where S.Element == NameIndex {
        nsec3 = NSEC3Index()
        var params: [UInt8]? = nil
        if let set = rrsetIndex(at: apex, type: RRType.nsec3param.rawValue) {
            let entry = rrsets[set.value]
            for r in entry.recordStart..<(entry.recordStart + entry.recordCount) {
                let rd = rdata(Int(r))
                // RFC 5155 §4.2: algorithm, flags, iterations (2), salt length, salt.
                if rd.count >= 5 && rd[0] == 1 && rd[1] == 0 && rd.count == 5 + Int(rd[4]) {
                    params = rd
                    break
                }
            }
        }
        guard let params else { return }
        let iterations = Int(params[2]) << 8 | Int(params[3])
        let salt = Array(params[5...])
        var chain: [([UInt8], NameIndex)] = []
        let originLabels = Int(names[apex.value].labelCount)
        for n in owners {
            let e = names[n.value]
            guard Int(e.labelCount) == originLabels + 1, e.parent == apex,
                  let set = rrsetIndex(at: n, type: RRType.nsec3.rawValue) else { continue }
            // RFC 5155 §3.2: algorithm, flags, iterations, salt length, salt, ...
            let rd = rdata(Int(rrsets[set.value].recordStart))
            guard rd.count >= 5, rd[0] == 1, Int(rd[2]) << 8 | Int(rd[3]) == iterations, rd.count >= 5 + Int(rd[4]),
                  Array(rd[5..<(5 + Int(rd[4]))]) == salt else { continue }
            let key = nameBytes.bytes(at: Int(e.offset), count: Int(e.length))
            guard let hash = Base32Hex.decode(key[1..<(1 + Int(key[0]))]), hash.count == NSEC3Hash.length
            else { continue }
            chain.append((hash, n))
        }
        chain.sort { $0.0.lexicographicallyPrecedes($1.0) }
        var hashes = ContiguousArray<UInt8>()
        var nodes = ContiguousArray<NameIndex>()
        for (hash, n) in chain {
            // Two NSEC3 owners cannot share a hash: they would be one name.
            hashes.append(contentsOf: hash)
            nodes.append(n)
        }
        nsec3 = NSEC3Index(salt: ContiguousArray(salt), iterations: iterations, hashes: hashes, nodes: nodes)
    }

    /// Whether `name` owns records that make it exist. NSEC3 records (and their RRSIGs)
    /// alone do not: a query for an NSEC3 owner name is answered as if it did not exist
    /// (RFC 5155 §7.2.8; NSD and Knot answer NXDOMAIN).
    func ownsData(_ name: NameIndex) -> Bool {
        let e = names[name.value]
        var nsec3 = false, other = false
        for r in e.rrsetStart.value..<(e.rrsetStart.value + Int(e.rrsetCount)) {
            switch rrsets[r].type {
            case RRType.nsec3.rawValue: nsec3 = true
            case RRType.rrsig.rawValue: break
            default: other = true
            }
        }
        return other || (!nsec3 && e.rrsetCount > 0)
    }

    /// The RRset of `type` at `name` in the tables being built.
    func rrsetIndex(at name: NameIndex, type: UInt16) -> RRSetIndex? {
        let e = names[name.value]
        for r in e.rrsetStart.value..<(e.rrsetStart.value + Int(e.rrsetCount)) where rrsets[r].type == type {
            return RRSetIndex(r)
        }
        return nil
    }

    /// The rdata of record `index`.
    func rdata(_ index: Int) -> [UInt8] {
        let rec = recordEntries[index]
        return recordBytes.bytes(at: Int(rec.offset) + 10, count: Int(rec.length) - 10)
    }

    mutating func appendRecord(_ rr: ResourceRecord, ttl: UInt32, namesStart: Int32, target: NameIndex,
                               namesCount: Int32? = nil) {
        let (offset, p) = recordBytes.reserve(10 + rr.rdata.count)
        let t = rr.type.rawValue, c = rr.rrClass.rawValue, n = UInt16(truncatingIfNeeded: rr.rdata.count)
        p[0] = UInt8(t >> 8); p[1] = UInt8(t & 0xFF)
        p[2] = UInt8(c >> 8); p[3] = UInt8(c & 0xFF)
        p[4] = UInt8(ttl >> 24); p[5] = UInt8((ttl >> 16) & 0xFF)
        p[6] = UInt8((ttl >> 8) & 0xFF); p[7] = UInt8(ttl & 0xFF)
        p[8] = UInt8(n >> 8); p[9] = UInt8(n & 0xFF)
        rr.rdata.withUnsafeBufferPointer { (p + 10).update(from: $0.baseAddress!, count: $0.count) }
        recordEntries.append(RecordEntry(offset: Int32(offset), length: Int32(10 + rr.rdata.count), namesStart: namesStart,
                                         namesCount: namesCount ?? (Int32(rdataNames.count) - namesStart),
                                         target: target, ttl: ttl))
    }

    func nameOf(_ name: NameIndex) -> DNSName {
        let e = names[name.value]
        return DNSName(uncheckedWire: nameBytes.bytes(at: e.caseOffset, count: Int(e.length)))
    }

    func readU32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}

/// The type an RRSIG covers (RFC 4034 §3.1.1).
func coveredType(_ rr: ResourceRecord) -> UInt16 { UInt16(rr.rdata[0]) << 8 | UInt16(rr.rdata[1]) }

/// The types `rdataNameLayout` finds names in.
@inline(__always)
func rdataMayHoldNames(_ type: UInt16) -> Bool {
    switch type {
    case 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15, 33, 39, 64, 65: return true
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
    case 64, 65:  // SVCB, HTTPS: TargetName after SvcPriority, never compressed (RFC 9460 §2.2)
        return ([try one(at: 2, compress: false, target: true, exact: false)], d.count)
    default:
        return ([], d.count)
    }
}
