import BulwarkWire
import BulwarkZone

/// What a planned entry writes.
enum PlanEntryKind {
    /// The records of the RRset, as stored.
    case records
    /// A CNAME synthesized from a DNAME (RFC 6672 §3.1): `rrset` is the DNAME RRset (its
    /// TTL is used), the owner a chain name, the target chain name `defines`.
    case synthesizedCNAME
}

/// The name a planned RRset is written under.
enum PlanOwner: Equatable {
    /// A name of the entry's zone.
    case name(NameIndex)
    /// A name of the CNAME/DNAME chain: the query name (chain name 0) or a target, which
    /// is how wildcard answers get the query name as owner.
    case chain(Int)
}

/// One RRset placed in a response section.
struct PlanEntry {
    var zone: ZoneIndex
    var rrset: RRSetIndex
    var owner: PlanOwner
    /// The chain name whose position in the message is where this entry's single record
    /// writes its rdata name (CNAME targets, synthesized CNAMEs); nil when none.
    var defines: Int?
    var kind: PlanEntryKind
    /// RFC 9471: glue that must fit, or the response is truncated.
    var required: Bool

    init(zone: ZoneIndex, rrset: RRSetIndex, owner: PlanOwner, defines: Int? = nil, kind: PlanEntryKind = .records,
         required: Bool = false) {
        self.zone = zone
        self.rrset = rrset
        self.owner = owner
        self.defines = defines
        self.kind = kind
        self.required = required
    }
}

/// A name in the CNAME/DNAME chain: the query name is chain name 0.
struct ChainName {
    /// Offset and length in `AnswerScratch.chainBytes` (case as written).
    var start: Int32
    var length: Int32
    /// For a DNAME substitution: the octets before the new suffix are literal, the suffix
    /// is `tail`, a name of a zone (so it can be compressed). nil otherwise.
    var literalPrefix: Int32?
    /// The name of a zone the chain name ends in (a CNAME target, a DNAME's new suffix).
    var tail: (zone: ZoneIndex, name: NameIndex)?
}

/// A list with a fixed capacity, reused from query to query: appending never allocates
/// (and, unlike Array.removeAll(keepingCapacity:), emptying it costs nothing).
struct FixedList<Element> {
    private(set) var storage: [Element]
    private(set) var count = 0

    init(capacity: Int, filler: Element) {
        storage = [Element](repeating: filler, count: capacity)
    }

    var isFull: Bool { count == storage.count }

    /// The caller checks `isFull` first.
    @inline(__always)
    mutating func append(_ element: Element) {
        storage[count] = element
        count += 1
    }

    @inline(__always)
    mutating func removeAll() { count = 0 }

    @inline(__always)
    subscript(i: Int) -> Element { storage[i] }

    var array: [Element] { Array(storage[0..<count]) }
}

extension FixedList where Element == UInt8 {
    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        storage.withUnsafeMutableBytes { dst in
            (dst.baseAddress! + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        count += bytes.count
    }
}

extension PlanEntry {
    /// What an empty slot of a section holds.
    static let none = PlanEntry(zone: .none, rrset: .none, owner: .chain(0))
}

/// The outcome of the lookup, before any byte is written.
struct Plan {
    var rcode: UInt16 = 0
    var authoritative = false
    var refused = false
    var answer = FixedList(capacity: AnswerScratch.maxEntries, filler: PlanEntry.none)
    var authority = FixedList(capacity: AnswerScratch.maxEntries, filler: PlanEntry.none)
    var additional = FixedList(capacity: AnswerScratch.maxEntries, filler: PlanEntry.none)
    /// Closest encloser of the query name in the first zone (for compression), and that zone.
    var firstZone: ZoneIndex?
    var firstEncloser = NameIndex.none
    /// The zone whose wildcard (RFC 4592) answered the query name itself.
    var wildcardZone: ZoneIndex?

    mutating func reset() {
        rcode = 0
        authoritative = false
        refused = false
        answer.removeAll()
        authority.removeAll()
        additional.removeAll()
        firstZone = nil
        firstEncloser = .none
        wildcardZone = nil
    }
}

/// Per-worker buffers for answering, allocated once and reused: nothing is allocated
/// per query, and nothing here grows with the zones served.
public struct AnswerScratch {
    static let maxEntries = 64
    /// RFC 1034 §3.6.2 leaves the chain length open; NSD and Knot stop loops and long chains.
    static let maxChain = 12

    var plan = Plan()
    var chain = FixedList(capacity: AnswerScratch.maxChain + 2,
                          filler: ChainName(start: 0, length: 0, literalPrefix: nil, tail: nil))
    /// The chain names' octets: each at most 255.
    var chainBytes = FixedList<UInt8>(capacity: (AnswerScratch.maxChain + 2) * 256, filler: 0)
    /// Lower-cased current name, its label offsets and the hash of every suffix.
    var key: [UInt8] = []
    var labelOffsets: [Int] = []
    /// A canonical key (for the NSEC search) of the current name or its wildcard.
    var canon: [UInt8] = []
    var suffixHashes: [UInt32] = []
    /// NSEC3 hashing (RFC 5155 §5): the message and padding, SHA-1's schedule, the digest.
    var nsec3Work: [UInt8] = []
    var nsec3Schedule: [UInt32] = []
    var nsec3Digest: [UInt8] = []
    /// The key zone names are hashed with (read once: the query path hashes every suffix).
    let hashKey = NameHashKey.process
    /// Packet offset where chain name k can be pointed at.
    var chainOffsets: [Int] = []

    /// Per-response name compression (CompressionTable): where names were written, valid
    /// when an entry's stamp is the response's.
    var compression = [CompressionEntry](repeating: .unused, count: CompressionTable.capacity)
    /// The order compression entries were taken in, for rollback (CompressionTable.log).
    var compressionLog = [UInt16](repeating: 0, count: CompressionTable.limit)
    var compressionStamp: UInt32 = 0
    /// Where `orderAdditional` builds the reordered additional section.
    var reordered = FixedList(capacity: AnswerScratch.maxEntries, filler: PlanEntry.none)

    public init() {
        key = [UInt8](repeating: 0, count: 256)
        labelOffsets = [Int](repeating: 0, count: 130)
        canon = [UInt8](repeating: 0, count: 260)
        suffixHashes = [UInt32](repeating: 0, count: 130)
        chainOffsets = [Int](repeating: -1, count: Self.maxChain + 2)
        nsec3Work = [UInt8](repeating: 0, count: NSEC3Hash.workCapacity)
        nsec3Schedule = [UInt32](repeating: 0, count: NSEC3Hash.scheduleCapacity)
        nsec3Digest = [UInt8](repeating: 0, count: NSEC3Hash.length)
    }

    /// Which zone cut the last planned response speaks for, for response rate limiting
    /// (RRL keys NXDOMAIN answers by zone and referrals by delegation): the zone and
    /// name-table index of the authority section's first owner (the apex of the SOA, or
    /// the delegation point of the NS), or 0 when there is none. Valid after a NOERROR or
    /// NXDOMAIN response; identical for every name of one zone or delegation.
    public var authorityOwner: UInt64 {
        guard plan.authority.count > 0 else { return 0 }
        let e = plan.authority[0]
        guard case .name(let owner) = e.owner else { return 0 }
        return UInt64(UInt32(bitPattern: e.zone.raw)) << 32 | UInt64(UInt32(bitPattern: owner.raw)) | 1 << 63
    }

    /// For response rate limiting: when a wildcard (RFC 4592) answered the query name, an
    /// identity of its zone (so answers synthesized for random names share one bucket, as
    /// Knot keys them); 0 otherwise. Valid after a NOERROR response.
    public var wildcardOwner: UInt64 {
        plan.wildcardZone.map { UInt64(UInt32(bitPattern: $0.raw)) | 1 << 62 } ?? 0
    }

    /// The zone (of the ZoneSet's `zones`) that answered the last query name; nil when
    /// none did (REFUSED). For per-zone counters (operations).
    public var answeringZone: ZoneIndex? { plan.firstZone }

    /// The stamp of a new response's compression entries: every older entry is unused.
    @inline(__always)
    mutating func nextCompressionStamp() -> UInt32 {
        compressionStamp &+= 1
        if compressionStamp == 0 {
            // Wrapped: entries of 2^32 responses ago would look current.
            for i in compression.indices { compression[i] = .unused }
            compressionStamp = 1
        }
        return compressionStamp
    }
}
