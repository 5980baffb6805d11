// The in-memory zone: built from records, or edited from the previous version (sharing
// the pages of its tables that the change did not touch); each version immutable, laid
// out for the query path like NSD's namedb and Knot's zone contents (per-name flags
// precomputed, as NSD's `struct domain` and Knot's adjust.c pass do).
import BulwarkWire

/// Why a set of records could not be built into a zone.
public struct ZoneError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: Sendable, Equatable {
        case noSOA, multipleSOA, noApexNS, outOfZone, wrongClass, cnameAndOtherData, multipleCNAME, multipleDNAME,
             misplacedDS, badRData, tooLarge
    }
    package let code: Code
    /// The owner of the offending record, when there is one.
    public let owner: DNSName?
    public let message: String

    package init(_ code: Code, _ owner: DNSName?, _ message: String) {
        self.code = code
        self.owner = owner
        self.message = message
    }

    public var description: String {
        if let owner { return "\(owner): \(message)" }
        return message
    }

    public static let noSOA = "no SOA record at the zone apex"
}

/// Flags precomputed per name at build.
@usableFromInline package struct NameFlags: OptionSet, Sendable {
    @usableFromInline package var rawValue: UInt16
    @inlinable package init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The name exists in the zone: it owns records, or is an empty non-terminal
    /// between an owner and the apex (RFC 4592 §2.2.2 / RFC 8020).
    @inlinable package static var exists: NameFlags { NameFlags(rawValue: 1 << 0) }
    /// At or below the origin.
    @inlinable package static var inZone: NameFlags { NameFlags(rawValue: 1 << 1) }
    @inlinable package static var apex: NameFlags { NameFlags(rawValue: 1 << 2) }
    /// NS records at a name other than the apex: a zone cut (RFC 1034 §4.2.1).
    @inlinable package static var delegation: NameFlags { NameFlags(rawValue: 1 << 3) }
    @inlinable package static var hasDNAME: NameFlags { NameFlags(rawValue: 1 << 4) }
    @inlinable package static var hasCNAME: NameFlags { NameFlags(rawValue: 1 << 5) }
    /// The first label is `*` (RFC 4592 §2.1.1).
    @inlinable package static var wildcard: NameFlags { NameFlags(rawValue: 1 << 6) }
}

/// One distinct name of the zone: an owner, an empty non-terminal, an ancestor, or a
/// name that only appears inside record data (for compression and additional records).
@usableFromInline package struct NameEntry {
    /// Offset in `Zone.nameBytes` of the lower-cased wire name, followed by the name as
    /// first written (its case is kept in answers).
    @usableFromInline package var offset: Int32
    @usableFromInline package var length: Int16
    @usableFromInline package var labelCount: Int16
    @usableFromInline package var flags: NameFlags
    @usableFromInline package var hash: UInt32
    /// The name with its first label removed; `.none` for the root.
    @usableFromInline package var parent: NameIndex
    /// How many of the names one label below exist: a name without records exists while
    /// this is not zero (an empty non-terminal, RFC 8020).
    @usableFromInline package var existingChildren: Int32
    /// The `*` child (RFC 4592 source of synthesis), `.none` if none.
    @usableFromInline package var wildcardChild: NameIndex
    /// The name's RRsets: `Zone.rrsets[rrsetStart ..< +rrsetCount]`, sorted by type.
    @usableFromInline package var rrsetStart: RRSetIndex
    @usableFromInline package var rrsetCount: Int32
    /// The RRSIGs at this name split by the type they cover: `Zone.signatures[sigStart ..< +sigCount]`.
    @usableFromInline package var sigStart: Int32 = 0
    @usableFromInline package var sigCount: Int32 = 0

    @inlinable @inline(__always) package func has(_ flag: NameFlags) -> Bool { flags.contains(flag) }
    /// Where the name as first written starts in `Zone.nameBytes`.
    @inlinable @inline(__always) package var caseOffset: Int { Int(offset) + Int(length) }
}

/// One RRset: records of one owner and type, in `Zone.recordEntries[recordStart ..< +recordCount]`.
@usableFromInline package struct RRSetEntry {
    @usableFromInline package var type: UInt16
    @usableFromInline package var owner: NameIndex
    @usableFromInline package var recordStart: Int32
    @usableFromInline package var recordCount: Int32
}

/// One record, pre-encoded as `TYPE CLASS TTL RDLENGTH RDATA` (uncompressed) in `Zone.recordBytes`.
@usableFromInline package struct RecordEntry {
    @usableFromInline package var offset: Int32
    /// 10 + rdlength.
    @usableFromInline package var length: Int32
    /// Names inside the rdata that may be compressed (RFC 3597 §4): `Zone.rdataNames[...]`.
    @usableFromInline package var namesStart: Int32
    @usableFromInline package var namesCount: Int32
    /// The name this record points at, for additional-section processing and DNAME
    /// substitution (NS, MX, SRV targets; CNAME and DNAME targets); `.none` when none.
    @usableFromInline package var target: NameIndex
    @usableFromInline package var ttl: UInt32
}

/// The RRSIG records at a name that cover one type (RFC 4034 §3.1.1), as their own RRset.
@usableFromInline package struct SignatureRef {
    @usableFromInline package var covered: UInt16
    @usableFromInline package var rrset: RRSetIndex
}

/// A compressible name inside a record's rdata.
@usableFromInline package struct RDataName {
    /// Offset of the name within the rdata.
    @usableFromInline package var rdataOffset: Int32
    @usableFromInline package var length: Int32
    @usableFromInline package var name: NameIndex
}

public final class Zone: @unchecked Sendable {
    // @unchecked: every stored property is a `let` set in init and never mutated; the
    // pages of its tables are shared with other versions but written by none of them.

    public let origin: DNSName
    public let serial: UInt32
    /// The number of records (duplicates removed).
    public let recordCount: Int
    /// A secondary zone past its SOA expire time (RFC 1034 §4.3.5): kept in the set so
    /// that queries for it get SERVFAIL (as Knot and BIND) instead of REFUSED.
    public let isExpired: Bool
    /// What this version changed, when it was made by editing another one.
    public let edit: ZoneEditRecord?
    /// An order-independent digest of the records (XOR of one keyed hash per record),
    /// kept up to date by edits: equal records give equal digests.
    let contentDigest: UInt64
    /// Records edits left unreferenced in the tables (compaction rebuilds the zone).
    let staleRecords: Int

    /// The key names are hashed with (the process's, `NameHashKey.process`).
    @usableFromInline package let hashKey: NameHashKey
    // Name table: open addressing (linear probing) over `slots`, keyed by lower-cased wire name.
    @usableFromInline package let names: PagedTable<NameEntry>
    @usableFromInline package let nameBytes: PagedBytes
    @usableFromInline package let slots: PagedTable<NameIndex>
    @usableFromInline package let slotMask: Int
    @usableFromInline package let rrsets: PagedTable<RRSetEntry>
    @usableFromInline package let recordEntries: PagedTable<RecordEntry>
    @usableFromInline package let recordBytes: PagedBytes
    @usableFromInline package let rdataNames: PagedTable<RDataName>
    /// Index of the apex in `names`.
    @usableFromInline package let apex: NameIndex
    @usableFromInline package let soaRRSet: RRSetIndex
    /// The SOA as it goes in negative answers: TTL = min(SOA TTL, MINIMUM) (RFC 2308 §3),
    /// a one-record RRset whose record is appended after the zone's own.
    @usableFromInline package let negativeSOARRSet: RRSetIndex
    /// The SOA's RRSIGs with the negative TTL, or `.none`.
    @usableFromInline package let negativeSOASignature: RRSetIndex
    @usableFromInline package let originLabelCount: Int
    @usableFromInline package let signatures: PagedTable<SignatureRef>
    /// Names owning NSEC records in canonical order (RFC 4034 §6.1), with their names as
    /// canonical keys (labels right to left, lower-cased, each followed by a zero octet)
    /// so that ordering is a byte comparison.
    @usableFromInline package let nsecNodes: ContiguousArray<NameIndex>
    @usableFromInline package let nsecKeyOffsets: ContiguousArray<Int32>
    @usableFromInline package let nsecKeys: ContiguousArray<UInt8>
    /// The NSEC3 chain (RFC 5155) named by the apex's NSEC3PARAM: its parameters, and the
    /// owner hashes (the base32hex-decoded first labels, 20 octets each) sorted, with
    /// their owners, so matching and covering NSEC3 are a binary search. Empty when the
    /// zone is not NSEC3-signed.
    @usableFromInline package let nsec3: NSEC3Index

    /// Builds the zone. Throws when there is no SOA at the apex, more than one, a record
    /// outside the zone or of a class other than IN, a CNAME beside other data
    /// (RFC 1034 §3.6.2, RFC 2181 §10.1), or rdata whose names cannot be read.
    public convenience init(origin: DNSName, records input: [ResourceRecord]) throws(ZoneError) {
        var b = ZoneBuilder(origin: origin)
        var shared = input
        try b.build(&shared, releasing: false)
        self.init(builder: b)
    }

    /// As `init(origin:records:)`, but takes the records: `records` must be the only
    /// reference to its storage, and is left empty. Each record's arrays are freed once
    /// it is packed, so the parsed form and the packed form do not add up at the peak.
    public convenience init(origin: DNSName, takingRecords records: inout [ResourceRecord]) throws(ZoneError) {
        var b = ZoneBuilder(origin: origin)
        defer { records = [] }
        try b.build(&records, releasing: true)
        self.init(builder: b)
    }

    /// A stand-in for `zone` once it has expired on a secondary: only its SOA, answered
    /// with SERVFAIL. Its serial is the expired copy's.
    public convenience init(expiredStandInFor zone: Zone) {
        var b = ZoneBuilder(origin: zone.origin)
        var soa = zone.resourceRecords(zone.soaRRSet, owner: zone.origin)
        try! b.build(&soa, releasing: false)  // a zone's own SOA always builds
        self.init(builder: b, expired: true)
    }

    init(builder: ZoneBuilder, expired: Bool = false, edit: ZoneEditRecord? = nil) {
        var b = builder
        b.shrinkToFit()
        self.origin = b.origin
        self.isExpired = expired
        self.edit = edit
        self.recordCount = b.recordCount
        self.contentDigest = b.contentDigest
        self.staleRecords = b.staleRecords
        self.serial = b.serial
        self.hashKey = b.hashKey
        self.names = b.names
        self.nameBytes = b.nameBytes
        self.slots = b.slots
        self.slotMask = b.slots.count - 1
        self.rrsets = b.rrsets
        self.recordEntries = b.recordEntries
        self.recordBytes = b.recordBytes
        self.rdataNames = b.rdataNames
        self.apex = b.apex
        self.soaRRSet = b.soaRRSet
        self.negativeSOARRSet = b.negativeSOARRSet
        self.negativeSOASignature = b.negativeSOASignature
        self.originLabelCount = b.origin.labelCount
        self.signatures = b.signatures
        self.nsecNodes = b.nsecNodes
        self.nsecKeyOffsets = b.nsecKeyOffsets
        self.nsecKeys = b.nsecKeys
        self.nsec3 = b.nsec3
    }

    /// The zone is signed: its SOA has signatures (as NSD and Knot decide it). Referrals
    /// from an unsigned zone carry no DS (RFC 4035 §3.1.4 is about signed zones).
    @inlinable package var isSigned: Bool { !negativeSOASignature.isNone }

    /// The entry of a name.
    @inlinable @inline(__always)
    package subscript(name index: NameIndex) -> NameEntry { names[index.value] }

    /// The entry of an RRset.
    @inlinable @inline(__always)
    package subscript(rrset index: RRSetIndex) -> RRSetEntry { rrsets[index.value] }

    /// The lower-cased wire form of a name.
    @inlinable @inline(__always)
    package func keyAddress(_ entry: NameEntry) -> UnsafePointer<UInt8> { nameBytes.address(Int(entry.offset)) }

    /// The wire form of a name as first written.
    @inlinable @inline(__always)
    package func caseAddress(_ entry: NameEntry) -> UnsafePointer<UInt8> { nameBytes.address(entry.caseOffset) }

    /// A record's `TYPE CLASS TTL RDLENGTH RDATA`.
    @inlinable @inline(__always)
    package func recordAddress(_ record: RecordEntry) -> UnsafePointer<UInt8> { recordBytes.address(Int(record.offset)) }

    /// The RRSIG RRset at `name` covering `type`, if any.
    @inlinable @inline(__always)
    package func signature(at name: NameIndex, covering type: UInt16) -> RRSetIndex? {
        let e = names[name.value]
        var i = Int(e.sigStart)
        let end = i + Int(e.sigCount)
        while i < end {
            let s = signatures[i]
            if s.covered == type { return s.rrset }
            i += 1
        }
        return nil
    }

    /// The highest strict ancestor of `name`, the apex included, that is a zone cut or
    /// owns a DNAME: `name` is occluded by it (RFC 1034 §4.3.2 step 3b, RFC 6672 §2.3).
    /// `.none` if none, and for names outside the zone.
    @inlinable @inline(__always)
    package func occluder(of name: NameIndex) -> NameIndex { occludingAncestor(of: name, in: names, apex: apex) }

    /// The name whose NSEC covers or matches the name with canonical key `key`: the
    /// last NSEC owner not after it in canonical order (RFC 4035 §3.1.3.2). nil when the
    /// zone has no NSEC.
    package func coveringNSEC(_ key: UnsafeRawBufferPointer) -> NameIndex? {
        let n = nsecNodes.count
        guard n > 0 else { return nil }
        return nsecKeys.withUnsafeBytes { keys in
            nsecKeyOffsets.withUnsafeBufferPointer { offs in
                // Largest i with keys[i] <= key.
                var lo = 0, hi = n  // invariant: answer in [lo - 1, hi)
                while lo < hi {
                    let mid = (lo + hi) >> 1
                    let a = Int(offs[mid]), b = Int(offs[mid + 1])
                    let len = min(b - a, key.count)
                    var c = memCompare(keys.baseAddress! + a, key.baseAddress!, len)
                    if c == 0 { c = (b - a) - key.count }
                    if c <= 0 { lo = mid + 1 } else { hi = mid }
                }
                // Before the first (cannot happen for names in the zone: the apex is first): wrap.
                return nsecNodes[lo == 0 ? n - 1 : lo - 1]
            }
        }
    }

    /// The number of entries in the name table (owners, empty non-terminals, ancestors, rdata names).
    public var nameCount: Int { names.count }

    /// The bytes the zone's tables take (its pages, some shared with other versions).
    public var allocatedBytes: Int {
        names.allocatedBytes + nameBytes.allocatedBytes + slots.allocatedBytes + rrsets.allocatedBytes
            + recordEntries.allocatedBytes + recordBytes.allocatedBytes + rdataNames.allocatedBytes
            + signatures.allocatedBytes
    }

    /// The bytes of this version's pages shared with `other` (another version of the zone).
    public func sharedBytes(with other: Zone) -> Int {
        names.sharedBytes(with: other.names) + nameBytes.sharedBytes(with: other.nameBytes)
            + slots.sharedBytes(with: other.slots) + rrsets.sharedBytes(with: other.rrsets)
            + recordEntries.sharedBytes(with: other.recordEntries) + recordBytes.sharedBytes(with: other.recordBytes)
            + rdataNames.sharedBytes(with: other.rdataNames) + signatures.sharedBytes(with: other.signatures)
    }

    /// The bytes this version holds that `other` does not share.
    public func ownBytes(apartFrom other: Zone) -> Int { allocatedBytes - sharedBytes(with: other) }

    // MARK: Lookup (allocation-free)

    /// The name whose lower-cased uncompressed wire form is `key`, if the zone has it.
    @inlinable @inline(__always)
    package func find(_ key: UnsafeRawBufferPointer, hash: UInt32) -> NameIndex? {
        var i = Int(hash) & slotMask
        while true {
            let s = slots[i]
            if s.isNone { return nil }
            let e = names[s.value]
            if e.hash == hash && Int(e.length) == key.count && memEqual(keyAddress(e), key.baseAddress!, key.count) {
                return s
            }
            i = (i + 1) & slotMask
        }
    }

    /// The RRset of `type` at `name`, if any.
    @inlinable @inline(__always)
    package func rrset(at name: NameIndex, type: UInt16) -> RRSetIndex? {
        let e = names[name.value]
        var i = e.rrsetStart.value
        let end = i + Int(e.rrsetCount)
        while i < end {
            let t = rrsets[i].type
            if t == type { return RRSetIndex(i) }
            if t > type { return nil }  // sorted by type
            i += 1
        }
        return nil
    }

    // MARK: Reading back (tests, tools)

    /// A name as stored (case as first written).
    package func name(_ index: NameIndex) -> DNSName {
        let e = names[index.value]
        return DNSName(uncheckedWire: nameBytes.bytes(at: e.caseOffset, count: Int(e.length)))
    }

    /// All records (duplicates removed), for zone transfers and tools, rebuilt from the
    /// packed tables: per owner in order of first appearance, by type, then as given.
    public var records: [ResourceRecord] {
        var out: [ResourceRecord] = []
        out.reserveCapacity(recordCount)
        var cursor = ZoneRecordCursor(self)
        while let r = cursor.next() { out.append(r) }
        return out
    }

    /// The records of an RRset, with the owner as stored.
    package func resourceRecords(_ rrset: RRSetIndex, owner: DNSName? = nil) -> [ResourceRecord] {
        let set = rrsets[rrset.value]
        let ownerName = owner ?? name(set.owner)
        var out: [ResourceRecord] = []
        for i in set.recordStart..<(set.recordStart + set.recordCount) {
            out.append(resourceRecord(Int(i), type: set.type, owner: ownerName))
        }
        return out
    }

    /// Record `index` of `recordEntries` as a resource record.
    package func resourceRecord(_ index: Int, type: UInt16, owner: DNSName) -> ResourceRecord {
        let rec = recordEntries[index]
        let rdata = recordBytes.bytes(at: Int(rec.offset) + 10, count: Int(rec.length) - 10)
        return ResourceRecord(owner: owner, type: RRType(type), ttl: rec.ttl, rdata: rdata)
    }
}

/// The highest strict ancestor of `name` in `names`, up to `apex`, that is a zone cut or
/// owns a DNAME; `.none` if none, and for names outside the zone.
@inlinable @inline(__always)
package func occludingAncestor(of name: NameIndex, in names: PagedTable<NameEntry>, apex: NameIndex) -> NameIndex {
    var found = NameIndex.none
    guard name != apex, names[name.value].has(.inZone) else { return found }
    var n = names[name.value].parent
    while !n.isNone {
        let e = names[n.value]
        if e.has(.delegation) || e.has(.hasDNAME) { found = n }
        if n == apex { break }
        n = e.parent
    }
    return found
}

@inlinable @inline(__always)
package func memEqual(_ lhs: UnsafeRawPointer, _ rhs: UnsafeRawPointer, _ count: Int) -> Bool {
    var i = 0
    while i + 8 <= count {
        if lhs.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rhs.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < count {
        if lhs.load(fromByteOffset: i, as: UInt8.self) != rhs.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}

@inlinable @inline(__always)
package func memCompare(_ lhs: UnsafeRawPointer, _ rhs: UnsafeRawPointer, _ count: Int) -> Int {
    var i = 0
    while i < count {
        let x = lhs.load(fromByteOffset: i, as: UInt8.self), y = rhs.load(fromByteOffset: i, as: UInt8.self)
        if x != y { return x < y ? -1 : 1 }
        i += 1
    }
    return 0
}

/// The key of the name hash: random for each process, so that names chosen to collide
/// (a tenant's zone, the names of a query flood) cannot be worked out in advance.
public struct NameHashKey: Sendable, Equatable {
    @usableFromInline package let k0: UInt64
    @usableFromInline package let k1: UInt64

    package init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    public static let process: NameHashKey = {
        var g = SystemRandomNumberGenerator()
        return NameHashKey(k0: g.next(), k1: g.next())
    }()
}

/// The hash of a name from the hash of its parent and its first label (the length octet
/// and the lower-cased octets): SipHash-1-3 over both, keyed. One pass from the root
/// yields the hash of every suffix; the root's parent hash is 0.
@inlinable @inline(__always)
package func labelHash(_ key: NameHashKey, parent: UInt32, _ label: UnsafeRawPointer, _ count: Int) -> UInt32 {
    var s = SipState(k0: key.k0, k1: key.k1)
    s.compress(UInt64(parent), rounds: 1)
    let h = s.hash(label, count, prefixLength: 8, compression: 1, finalization: 3)
    return UInt32(truncatingIfNeeded: h ^ (h >> 32))
}

/// The hash of a lower-cased uncompressed wire name.
package func nameHash(_ key: NameHashKey, _ wire: UnsafeRawBufferPointer) -> UInt32 {
    var starts: [Int] = []
    var p = 0
    while true {
        starts.append(p)
        let n = Int(wire[p])
        if n == 0 { break }
        p += 1 + n
    }
    var h: UInt32 = 0
    for s in starts.reversed() {
        h = labelHash(key, parent: h, wire.baseAddress! + s, 1 + Int(wire[s]))
    }
    return h
}

package func nameHash(_ key: NameHashKey, _ wire: [UInt8]) -> UInt32 { wire.withUnsafeBytes { nameHash(key, $0) } }
