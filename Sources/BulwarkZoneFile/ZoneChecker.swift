import BulwarkWire

/// Semantic checks on a parsed zone, in the spirit of `nsd-checkzone`, `kzonecheck`
/// and `named-checkzone`. Errors make a zone unfit to serve; warnings are reported
/// and the zone loads.
///
/// Rules (each cites where it comes from):
/// - exactly one SOA, at the apex (RFC 1035 §5.2); NS at the apex (RFC 1034 §4.2.1)
/// - no names outside the zone (RFC 1034 §4.2: a zone is a subtree)
/// - CNAME alone at its name, except RRSIG/NSEC (RFC 1034 §3.6.2, RFC 2181 §10.1,
///   RFC 4035 §2.5); one CNAME per name; one DNAME per name (RFC 6672 §2.4)
/// - names below a DNAME (warning: RFC 6672 §2.4 says there must be none)
/// - data below a delegation is occluded (warning), except glue: A/AAAA at names
///   that NS records point to (RFC 1034 §4.2.1)
/// - DS only at a delegation point (RFC 4035 §2.4)
/// - one TTL per RRset (warning: RFC 2181 §5.2)
/// - duplicate records (warning; `checkRemovingDuplicates` drops them, RFC 2181 §5)
/// - NS targets inside the zone without an address (warning, as named-checkzone)
/// - NS, MX and SRV targets inside the zone that are aliases (warning: RFC 2181 §10.3,
///   RFC 2782)
public enum ZoneChecker {
    /// Checks `zone` and returns what is wrong, errors and warnings, in file order.
    /// The reader's own warnings are not repeated. Past `limit` issues, the rest are
    /// counted in one final issue (an error if any of them is).
    public static func check(_ zone: ParsedZone, limit: Int = 1000) -> [ZoneIssue] {
        var run = Run(zone: zone, limit: limit)
        run.checkAll()
        return run.sortedIssues()
    }

    /// Checks `zone` and removes duplicate records (keeping the first of each).
    public static func checkRemovingDuplicates(_ zone: inout ParsedZone, limit: Int = 1000) -> [ZoneIssue] {
        var run = Run(zone: zone, limit: limit)
        run.checkAll()
        let issues = run.sortedIssues()
        if !run.duplicates.isEmpty {
            let drop = Set(run.duplicates)
            run = Run(zone: ParsedZone(origin: zone.origin), limit: 0)  // let go of the records
            var records: [ResourceRecord] = []
            var sources: [UInt64] = []
            records.reserveCapacity(zone.records.count - drop.count)
            sources.reserveCapacity(zone.records.count - drop.count)
            for i in zone.records.indices where !drop.contains(i) {
                records.append(zone.records[i])
                if i < zone.recordSources.count { sources.append(zone.recordSources[i]) }
            }
            zone.records = records
            zone.recordSources = sources
        }
        return issues
    }
}

/// A name as the tail of some wire form from `start`, hashed and compared without
/// case (RFC 4343). Looking up the ancestors of a name needs no copies.
struct NameKey: Hashable {
    let wire: [UInt8]
    let start: Int

    init(_ name: DNSName) {
        wire = name.wire
        start = 0
    }

    init(_ wire: [UInt8], from start: Int = 0) {
        self.wire = wire
        self.start = start
    }

    func hash(into hasher: inout Hasher) {
        // FNV-1a over the lower-cased octets, fed to the seeded hasher once.
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        wire.withUnsafeBufferPointer { b in
            var i = start
            while i < b.count {
                h = (h ^ UInt64(asciiLower(b[i]))) &* 0x0000_0100_0000_01B3
                i += 1
            }
        }
        hasher.combine(h)
    }

    static func == (a: NameKey, b: NameKey) -> Bool {
        let n = a.wire.count - a.start
        guard n == b.wire.count - b.start else { return false }
        return a.wire.withUnsafeBufferPointer { x in
            b.wire.withUnsafeBufferPointer { y in
                for k in 0..<n where asciiLower(x[a.start + k]) != asciiLower(y[b.start + k]) { return false }
                return true
            }
        }
    }
}

extension ZoneChecker {
    /// What one owner name holds. Its records are linked through `Run.nextAtNode`.
    struct Node {
        static let soa: UInt8 = 1, ns: UInt8 = 2, ds: UInt8 = 4, address: UInt8 = 8, big: UInt8 = 16

        var first: Int32
        var last: Int32
        var count: Int32 = 0
        var flags: UInt8 = 0
        var cnames: UInt8 = 0
        var dnames: UInt8 = 0
        /// First record whose type may not sit beside a CNAME (-1: none).
        var firstNonCNAMEData: Int32 = -1

        func has(_ flag: UInt8) -> Bool { flags & flag != 0 }
    }

    /// The zone cut or DNAME above a name, if any (the one nearest the apex).
    enum Cut: Equatable {
        case none
        case delegation(Int)  // node index
        case dname(Int)
    }

    /// A record's identity for duplicate detection at names with many records.
    struct RecordKey: Hashable {
        var node: Int32
        var type: UInt16
        var rdata: [UInt8]
        var foldCase: Bool

        func hash(into hasher: inout Hasher) {
            hasher.combine(node)
            hasher.combine(type)
            if foldCase {
                for b in rdata { hasher.combine(asciiLower(b)) }
            } else {
                rdata.withUnsafeBytes { hasher.combine(bytes: $0) }
            }
        }

        static func == (a: RecordKey, b: RecordKey) -> Bool {
            a.node == b.node && a.type == b.type && sameRData(a.rdata, b.rdata, foldCase: a.foldCase)
        }
    }

    /// Names in the data of these types compare without case (RFC 4034 §6.2).
    static func foldsCase(_ type: RRType) -> Bool {
        type.hasCompressibleNames || type == .dname
    }

    static func sameRData(_ a: [UInt8], _ b: [UInt8], foldCase: Bool) -> Bool {
        guard a.count == b.count else { return false }
        if !foldCase { return a == b }
        for k in 0..<a.count where asciiLower(a[k]) != asciiLower(b[k]) { return false }
        return true
    }

    struct Run {
        /// Above this many records at one name, duplicates are found by hashing.
        static let linearLimit: Int32 = 64

        let zone: ParsedZone
        let records: [ResourceRecord]
        let apexKey: NameKey
        var apexNode: Int = -1
        var nodes: [Node] = []
        var nodeIndex = NameTable(expected: 0)
        /// Node of each record; -1 for records outside the zone and duplicates.
        var nodeOfRecord: [Int32] = []
        /// For each record, the next record at the same name (-1: none).
        var nextAtNode: [Int32] = []
        var issues: [(order: Int, issue: ZoneIssue)] = []
        var duplicates: [Int] = []
        /// Names that NS records point to: A/AAAA there is glue.
        var nsTargets = Set<NameKey>()
        // For names with more than `linearLimit` records.
        var bigSeen = Set<RecordKey>()
        var bigFirstOfSet: [UInt64: Int32] = [:]
        var bigTTLReported = Set<UInt64>()

        let limit: Int
        var suppressedErrors = 0
        var suppressedWarnings = 0

        init(zone: ParsedZone, limit: Int) {
            self.zone = zone
            self.limit = limit
            self.records = zone.records
            self.apexKey = NameKey(zone.origin)
        }

        mutating func report(_ severity: ZoneIssue.Severity, _ message: String, record: Int?) {
            guard issues.count < limit else {
                if severity == .error { suppressedErrors += 1 } else { suppressedWarnings += 1 }
                return
            }
            // A problem of the whole zone (no SOA, say) still names the zone's file.
            let location = record.flatMap { zone.location(ofRecord: $0) }
                ?? zone.files.first.map { SourceLocation(file: $0, line: 0) }
            issues.append((record ?? -1, ZoneIssue(severity, message, at: location)))
        }

        func sortedIssues() -> [ZoneIssue] {
            // Stable: by record order (file order), issues without a record first.
            var sorted = issues.enumerated().sorted { a, b in
                a.element.order != b.element.order ? a.element.order < b.element.order : a.offset < b.offset
            }.map(\.element.issue)
            let more = suppressedErrors + suppressedWarnings
            if more > 0 {
                sorted.append(ZoneIssue(suppressedErrors > 0 ? .error : .warning,
                                        "\(more) more issues not listed (\(suppressedErrors) errors, \(suppressedWarnings) warnings)"))
            }
            return sorted
        }

        func describe(_ record: Int) -> String {
            "\(records[record].owner) \(records[record].type)"
        }

        func name(of n: Int) -> DNSName {
            records[Int(nodes[n].first)].owner
        }

        mutating func checkAll() {
            buildNodes()
            apexNode = lookup(apexKey).map(Int.init) ?? -1
            for record in records where record.type == .ns {
                nsTargets.insert(NameKey(record.rdata))
            }
            checkApex()
            checkNodes()
            checkGlue()
            checkAliasTargets()
        }

        // MARK: Grouping, duplicates, TTLs

        mutating func buildNodes() {
            let origin = zone.origin
            nodeOfRecord.reserveCapacity(records.count)
            nextAtNode.reserveCapacity(records.count)
            nodeIndex = NameTable(expected: records.count / 2)
            nodes.reserveCapacity(records.count / 2)
            var previousWire: [UInt8]? = nil
            var previousNode: Int32 = -1
            for i in records.indices {
                let owner = records[i].owner
                // Records at one name usually come together and share storage.
                if previousNode >= 0, let previousWire, previousWire == owner.wire {
                    addRecord(i, at: previousNode)
                    continue
                }
                guard owner.isSubdomain(of: origin) else {
                    // RFC 1034 §4.2: a zone holds only names at or below its apex.
                    report(.error, "\(owner) \(records[i].type) is outside the zone \(origin)", record: i)
                    nodeOfRecord.append(-1)
                    nextAtNode.append(-1)
                    previousWire = nil
                    previousNode = -1
                    continue
                }
                let hash = NameTable.hash(owner.wire, from: 0)
                let n: Int32
                if let existing = nodeIndex.find(hash: hash, matches: { sameName(owner.wire, 0, $0) }) {
                    n = existing
                } else {
                    n = Int32(nodes.count)
                    nodes.append(Node(first: Int32(i), last: -1))
                    nodeIndex.append(hash: hash)
                }
                previousWire = owner.wire
                previousNode = n
                addRecord(i, at: n)
            }
        }

        /// Files record `i` under node `n`, unless it repeats an earlier record there:
        /// RFC 2181 §5 makes an RRset a set, so a duplicate is dropped. Also checks that
        /// the RRset keeps one TTL (RFC 2181 §5.2).
        mutating func addRecord(_ i: Int, at n: Int32) {
            let record = records[i]
            let foldCase = foldsCase(record.type)
            var firstOfSet: Int32 = -1
            var ttlAlreadyReported = false
            var duplicate = false
            let node = nodes[Int(n)]
            if node.count < Self.linearLimit {
                var j = node.count > 0 ? node.first : -1
                while j >= 0 {
                    let other = records[Int(j)]
                    if other.type == record.type {
                        if firstOfSet < 0 {
                            firstOfSet = j
                        } else if other.ttl != records[Int(firstOfSet)].ttl {
                            ttlAlreadyReported = true
                        }
                        if sameRData(other.rdata, record.rdata, foldCase: foldCase) {
                            duplicate = true
                            break
                        }
                    }
                    j = nextAtNode[Int(j)]
                }
            } else {
                if !node.has(Node.big) {
                    // Switch this name to hashed lookups.
                    nodes[Int(n)].flags |= Node.big
                    var j = node.first
                    while j >= 0 {
                        let other = records[Int(j)]
                        bigSeen.insert(RecordKey(node: n, type: other.type.rawValue, rdata: other.rdata,
                                                 foldCase: foldsCase(other.type)))
                        let setKey = UInt64(n) << 16 | UInt64(other.type.rawValue)
                        if bigFirstOfSet[setKey] == nil { bigFirstOfSet[setKey] = j }
                        j = nextAtNode[Int(j)]
                    }
                }
                let key = RecordKey(node: n, type: record.type.rawValue, rdata: record.rdata, foldCase: foldCase)
                duplicate = !bigSeen.insert(key).inserted
                let setKey = UInt64(n) << 16 | UInt64(record.type.rawValue)
                if let first = bigFirstOfSet[setKey] {
                    firstOfSet = first
                    ttlAlreadyReported = bigTTLReported.contains(setKey)
                    if !duplicate && record.ttl != records[Int(first)].ttl { bigTTLReported.insert(setKey) }
                } else {
                    bigFirstOfSet[setKey] = Int32(i)
                }
            }
            if duplicate {
                report(.warning, "duplicate record \(describe(i)) ignored", record: i)
                duplicates.append(i)
                nodeOfRecord.append(-1)
                nextAtNode.append(-1)
                return
            }
            // RRSIGs at one name cover different types and may differ (RFC 4034 §3).
            if firstOfSet >= 0 && !ttlAlreadyReported && record.type != .rrsig {
                let firstTTL = records[Int(firstOfSet)].ttl
                if firstTTL != record.ttl {
                    report(.warning, "TTLs differ within the RRset \(describe(i)) (\(record.ttl) here, \(firstTTL) before) (RFC 2181 §5.2)",
                           record: i)
                }
            }

            nodeOfRecord.append(n)
            nextAtNode.append(-1)
            if node.count > 0 { nextAtNode[Int(node.last)] = Int32(i) }
            var updated = nodes[Int(n)]
            updated.last = Int32(i)
            updated.count += 1
            switch record.type {
            case .soa: updated.flags |= Node.soa
            case .ns: updated.flags |= Node.ns
            case .ds: updated.flags |= Node.ds
            case .a, .aaaa: updated.flags |= Node.address
            case .cname: updated.cnames &+= updated.cnames == .max ? 0 : 1
            case .dname: updated.dnames &+= updated.dnames == .max ? 0 : 1
            default: break
            }
            switch record.type {
            case .cname, .rrsig, .nsec:
                break
            default:
                // RFC 4035 §2.5: RRSIG and NSEC may sit beside a CNAME; nothing else.
                if updated.firstNonCNAMEData < 0 { updated.firstNonCNAMEData = Int32(i) }
            }
            nodes[Int(n)] = updated
        }

        /// Whether node `n` is named by `wire[start...]` (ignoring case).
        func sameName(_ wire: [UInt8], _ start: Int, _ n: Int32) -> Bool {
            NameKey(records[Int(nodes[Int(n)].first)].owner.wire, from: 0) == NameKey(wire, from: start)
        }

        /// The node named `key`, if it has records.
        func lookup(_ key: NameKey) -> Int32? {
            nodeIndex.find(hash: NameTable.hash(key.wire, from: key.start)) { sameName(key.wire, key.start, $0) }
        }

        /// The records at node `n`, in file order.
        func records(at n: Int) -> RecordsAtNode {
            RecordsAtNode(links: nextAtNode, current: Int(nodes[n].first))
        }

        // MARK: Apex

        mutating func checkApex() {
            var soaCount = 0
            var apexSOAs = 0
            for i in records.indices where records[i].type == .soa {
                soaCount += 1
                let n = Int(nodeOfRecord[i])
                if n >= 0 && n == apexNode {
                    apexSOAs += 1
                    if apexSOAs == 2 {
                        report(.error, "more than one SOA record at the apex (RFC 1035 §5.2)", record: i)
                    }
                } else if n >= 0 {
                    report(.error, "SOA record at \(records[i].owner), not at the zone apex \(zone.origin)", record: i)
                }
            }
            if soaCount == 0 || apexSOAs == 0 {
                report(.error, "no SOA record at the zone apex \(zone.origin)", record: nil)
            }
            if apexNode < 0 || !nodes[apexNode].has(Node.ns) {
                // RFC 1034 §4.2.1: the apex holds the zone's NS RRset.
                report(.error, "no NS records at the zone apex \(zone.origin)",
                       record: apexNode < 0 ? nil : Int(nodes[apexNode].first))
            }
        }

        // MARK: Per name

        mutating func checkNodes() {
            let apex = apexNode
            let hasCutsOrDNAMEs = nodes.indices.contains { ($0 != apex && nodes[$0].has(Node.ns)) || nodes[$0].dnames > 0 }
            for n in nodes.indices {
                let node = nodes[n]
                let isApex = n == apex
                let isDelegation = node.has(Node.ns) && !isApex
                if node.cnames > 0 {
                    if node.cnames > 1 {
                        report(.error, "\(name(of: n)) has more than one CNAME record (RFC 2181 §10.1)",
                               record: nthRecord(2, of: .cname, at: n))
                    }
                    if node.firstNonCNAMEData >= 0 {
                        // RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME stands alone.
                        let other = Int(node.firstNonCNAMEData)
                        report(.error, "\(name(of: n)) has a CNAME and other data (\(records[other].type)) (RFC 1034 §3.6.2)",
                               record: other)
                    }
                }
                if node.dnames > 1 {
                    report(.error, "\(name(of: n)) has more than one DNAME record (RFC 6672 §2.4)",
                           record: nthRecord(2, of: .dname, at: n))
                }
                if node.has(Node.ds) && isApex {
                    // RFC 4035 §2.4: DS belongs to the parent side of the cut. NSD and Knot load
                    // a zone with one at its apex and serve it as data: a warning.
                    report(.warning, "DS record at the zone apex \(name(of: n)) belongs in the parent zone (RFC 4035 §2.4)",
                           record: nthRecord(1, of: .ds, at: n))
                } else if node.has(Node.ds) && !isDelegation {
                    // RFC 4035 §2.4: DS sits at the parent side of a zone cut only.
                    report(.error, "DS record where there is no delegation (NS) at \(name(of: n)) (RFC 4035 §2.4)",
                           record: nthRecord(1, of: .ds, at: n))
                }
                if hasCutsOrDNAMEs && !isApex {
                    let cut = cutAbove(NameKey(name(of: n)))
                    switch cut {
                    case .none:
                        break
                    case .delegation(let d):
                        // Below a zone cut only glue is meaningful (RFC 1034 §4.2.1).
                        if let r = firstNonGlue(at: n) {
                            report(.warning, "\(name(of: n)) \(records[r].type) is below the delegation at \(name(of: d)) and is occluded",
                                   record: r)
                        }
                    case .dname(let d):
                        report(.warning, "\(name(of: n)) is below the DNAME at \(name(of: d)) and is occluded (RFC 6672 §2.4)",
                               record: Int(node.first))
                    }
                    if isDelegation, cut == .none, let r = firstOccludedAtCut(n) {
                        report(.warning, "\(name(of: n)) \(records[r].type) is at a delegation point and is occluded",
                               record: r)
                    }
                }
            }
        }

        func nthRecord(_ k: Int, of type: RRType, at n: Int) -> Int? {
            var seen = 0
            for i in records(at: n) where records[i].type == type {
                seen += 1
                if seen == k { return i }
            }
            return nil
        }

        /// The topmost delegation or DNAME strictly between `name` and the apex.
        func cutAbove(_ name: NameKey) -> Cut {
            let wire = name.wire
            let apexLength = apexKey.wire.count
            var offset = name.start + 1 + Int(wire[name.start])
            var found = Cut.none
            while wire.count - offset > apexLength {
                if let a = lookup(NameKey(wire, from: offset)).map(Int.init) {
                    if nodes[a].dnames > 0 {
                        found = .dname(a)
                    } else if nodes[a].has(Node.ns) {
                        found = .delegation(a)
                    }
                }
                offset += 1 + Int(wire[offset])
            }
            return found
        }

        func isGlue(_ type: RRType, at n: Int) -> Bool {
            (type == .a || type == .aaaa) && nsTargets.contains(NameKey(name(of: n)))
        }

        /// A record below a cut that is not glue: glue is A/AAAA at an NS target.
        func firstNonGlue(at n: Int) -> Int? {
            records(at: n).first { !isGlue(records[$0].type, at: n) }
        }

        /// At a delegation point only NS, DS, their NSEC/RRSIG and glue belong.
        func firstOccludedAtCut(_ n: Int) -> Int? {
            records(at: n).first { i in
                switch records[i].type {
                case .ns, .ds, .rrsig, .nsec: return false
                case let type: return !isGlue(type, at: n)
                }
            }
        }

        // MARK: Glue

        /// NS targets inside the zone need addresses there (named-checkzone's rule):
        /// below a cut that is the glue; in the authoritative part, the A/AAAA itself.
        mutating func checkGlue() {
            var checked = Set<NameKey>()
            for i in records.indices where records[i].type == .ns && nodeOfRecord[i] >= 0 {
                let target = NameKey(records[i].rdata)
                guard checked.insert(target).inserted else { continue }
                guard let name = try? DNSName(wire: records[i].rdata), name.isSubdomain(of: zone.origin) else { continue }
                if let t = lookup(target).map(Int.init) {
                    if nodes[t].has(Node.address) { continue }
                    if nodes[t].cnames > 0 {
                        report(.warning, "NS target \(name) is an alias (CNAME) (RFC 2181 §10.3)", record: i)
                        continue
                    }
                }
                if case .dname = cutAbove(target) { continue }
                report(.warning, "NS target \(name) has no A or AAAA record in the zone (missing glue)", record: i)
            }
        }

        /// RFC 2181 §10.3 (MX, and NS above) and RFC 2782 (SRV): the host a record
        /// points to must not be an alias. Checked for targets inside the zone.
        mutating func checkAliasTargets() {
            var cnameNames = false
            for node in nodes where node.cnames > 0 { cnameNames = true; break }
            guard cnameNames else { return }
            for i in records.indices where nodeOfRecord[i] >= 0 {
                let type = records[i].type
                guard type == .mx || type == .srv,
                      let target = RDataWire.targetName(type: type, rdata: records[i].rdata),
                      target.isSubdomain(of: zone.origin),
                      let t = lookup(NameKey(target)), nodes[Int(t)].cnames > 0 else { continue }
                let rfc = type == .mx ? "RFC 2181 §10.3" : "RFC 2782"
                report(.warning, "\(type) target \(target) is an alias (CNAME) (\(rfc))", record: i)
            }
        }
    }
}

/// Walks the records at one name through the `nextAtNode` links.
struct RecordsAtNode: Sequence, IteratorProtocol {
    let links: [Int32]
    var current: Int

    mutating func next() -> Int? {
        guard current >= 0 else { return nil }
        defer { current = Int(links[current]) }
        return current
    }
}

extension ZoneFileReader {
    /// Reads and checks a zone as a server loads it: duplicates are dropped, the
    /// warnings of reader and checker end up in `warnings`, and any error from either
    /// throws, with every issue found.
    public func readChecked(path: String) throws(ZoneFileError) -> ParsedZone {
        try Self.checked(read(path: path))
    }

    /// `readChecked(path:)` for zone text.
    public func readChecked(text: String, fileName: String = "<text>") throws(ZoneFileError) -> ParsedZone {
        try Self.checked(read(text: text, fileName: fileName))
    }

    private static func checked(_ parsed: ParsedZone) throws(ZoneFileError) -> ParsedZone {
        var zone = parsed
        let issues = ZoneChecker.checkRemovingDuplicates(&zone)
        zone.warnings += issues
        if issues.contains(where: \.isError) { throw ZoneFileError(issues: zone.warnings) }
        return zone
    }
}
