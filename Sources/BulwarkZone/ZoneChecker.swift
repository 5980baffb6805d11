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
public enum ZoneChecker {
    /// Checks `zone` and returns what is wrong, errors and warnings, in file order.
    /// The reader's own warnings are not repeated.
    public static func check(_ zone: ParsedZone) -> [ZoneIssue] {
        var run = Run(zone: zone)
        run.checkAll()
        return run.sortedIssues()
    }

    /// Checks `zone` and removes duplicate records (keeping the first of each).
    public static func checkRemovingDuplicates(_ zone: inout ParsedZone) -> [ZoneIssue] {
        var run = Run(zone: zone)
        run.checkAll()
        if !run.duplicates.isEmpty {
            let drop = Set(run.duplicates)
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
        return run.sortedIssues()
    }
}

/// A lower-cased wire name, hashed as one block of bytes.
struct NameKey: Hashable {
    let bytes: [UInt8]

    init(_ name: DNSName) {
        bytes = name.wire.map(asciiLower)
    }

    init(lowercased: [UInt8]) {
        bytes = lowercased
    }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (a: NameKey, b: NameKey) -> Bool { a.bytes == b.bytes }
}

extension ZoneChecker {
    /// What one owner name holds.
    struct Node {
        var key: NameKey
        var name: DNSName
        /// First record at this name (for messages).
        var first: Int
        var hasSOA = false
        var hasNS = false
        var hasDS = false
        var hasAddress = false
        var cnames = 0
        var dnames = 0
        /// First record whose type may not sit beside a CNAME.
        var firstNonCNAMEData: Int?
        /// Set once the ancestors have been looked at.
        var cut: Cut?
    }

    /// The zone cut or DNAME above a name, if any (the one nearest the apex).
    enum Cut: Equatable {
        case none
        case delegation(Int)  // node index
        case dname(Int)
    }

    /// A record's identity for duplicate detection: name, type and exact data.
    struct RecordKey: Hashable {
        var node: Int
        var type: UInt16
        var rdata: [UInt8]

        func hash(into hasher: inout Hasher) {
            hasher.combine(node)
            hasher.combine(type)
            rdata.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    struct Run {
        let zone: ParsedZone
        let apexKey: NameKey
        var nodes: [Node] = []
        var nodeIndex: [NameKey: Int] = [:]
        /// Node of each record; -1 for records outside the zone.
        var nodeOfRecord: [Int] = []
        var issues: [(order: Int, issue: ZoneIssue)] = []
        var duplicates: [Int] = []
        var seen = Set<RecordKey>()
        /// For each record, the next record at the same name (-1: none).
        var nextAtNode: [Int32] = []
        var lastAtNode: [Int32] = []

        init(zone: ParsedZone) {
            self.zone = zone
            self.apexKey = NameKey(zone.origin)
        }

        mutating func report(_ severity: ZoneIssue.Severity, _ message: String, record: Int?) {
            let location = record.flatMap { zone.location(ofRecord: $0) }
            issues.append((record ?? -1, ZoneIssue(severity, message, at: location)))
        }

        func sortedIssues() -> [ZoneIssue] {
            // Stable: by record order (file order), issues without a record first.
            issues.enumerated().sorted { a, b in
                a.element.order != b.element.order ? a.element.order < b.element.order : a.offset < b.offset
            }.map(\.element.issue)
        }

        func describe(_ record: Int) -> String {
            "\(zone.records[record].owner) \(zone.records[record].type)"
        }

        mutating func checkAll() {
            buildNodes()
            collectNSTargets()
            checkApex()
            checkNodes()
            checkRRsets()
            checkGlue()
        }

        // MARK: Grouping

        mutating func buildNodes() {
            let records = zone.records
            let origin = zone.origin
            nodeOfRecord.reserveCapacity(records.count)
            nodeIndex.reserveCapacity(records.count / 2)
            seen.reserveCapacity(records.count)
            var previousWire: [UInt8]? = nil
            var previousNode = -1
            for (i, record) in records.enumerated() {
                // Records at one name usually come together and share storage.
                if let previousWire, previousNode >= 0, previousWire == record.owner.wire {
                    addRecord(i, record, at: previousNode)
                    continue
                }
                guard record.owner.isSubdomain(of: origin) else {
                    // RFC 1034 §4.2: a zone holds only names at or below its apex.
                    report(.error, "\(record.owner) \(record.type) is outside the zone \(origin)", record: i)
                    nodeOfRecord.append(-1)
                    nextAtNode.append(-1)
                    previousWire = nil
                    previousNode = -1
                    continue
                }
                let key = NameKey(record.owner)
                let n: Int
                if let existing = nodeIndex[key] {
                    n = existing
                } else {
                    n = nodes.count
                    nodes.append(Node(key: key, name: record.owner, first: i))
                    nodeIndex[key] = n
                }
                previousWire = record.owner.wire
                previousNode = n
                addRecord(i, record, at: n)
            }
        }

        /// Files the record under its node, unless it repeats an earlier one: RFC 2181
        /// §5 makes an RRset a set, so a duplicate is dropped (and then ignored here).
        mutating func addRecord(_ i: Int, _ record: ResourceRecord, at n: Int) {
            // Names in the data of these types compare without case (RFC 4034 §6.2).
            let rdata = record.type.hasCompressibleNames || record.type == .dname
                ? record.rdata.map(asciiLower) : record.rdata
            if !seen.insert(RecordKey(node: n, type: record.type.rawValue, rdata: rdata)).inserted {
                report(.warning, "duplicate record \(describe(i)) ignored", record: i)
                duplicates.append(i)
                nodeOfRecord.append(-1)
                nextAtNode.append(-1)
                return
            }
            nodeOfRecord.append(n)
            update(n, with: record, index: i)
        }

        mutating func update(_ n: Int, with record: ResourceRecord, index: Int) {
            nextAtNode.append(-1)
            if n == lastAtNode.count {
                lastAtNode.append(Int32(index))
            } else {
                nextAtNode[Int(lastAtNode[n])] = Int32(index)
                lastAtNode[n] = Int32(index)
            }
            switch record.type {
            case .soa: nodes[n].hasSOA = true
            case .ns: nodes[n].hasNS = true
            case .ds: nodes[n].hasDS = true
            case .a, .aaaa: nodes[n].hasAddress = true
            case .cname: nodes[n].cnames += 1
            case .dname: nodes[n].dnames += 1
            default: break
            }
            switch record.type {
            case .cname, .rrsig, .nsec:
                break
            default:
                // RFC 4035 §2.5: RRSIG and NSEC may sit beside a CNAME; nothing else.
                if nodes[n].firstNonCNAMEData == nil { nodes[n].firstNonCNAMEData = index }
            }
        }

        // MARK: Apex

        mutating func checkApex() {
            var soaRecords: [Int] = []
            for (i, record) in zone.records.enumerated() where record.type == .soa {
                soaRecords.append(i)
            }
            let apex = nodeIndex[apexKey]
            if soaRecords.isEmpty {
                report(.error, "no SOA record at the zone apex \(zone.origin)", record: nil)
            }
            var apexSOAs = 0
            for i in soaRecords {
                if nodeOfRecord[i] >= 0 && nodeOfRecord[i] == apex {
                    apexSOAs += 1
                    if apexSOAs == 2 {
                        report(.error, "more than one SOA record at the apex (RFC 1035 §5.2)", record: i)
                    }
                } else if nodeOfRecord[i] >= 0 {
                    report(.error, "SOA record at \(zone.records[i].owner), not at the zone apex \(zone.origin)", record: i)
                }
            }
            if !soaRecords.isEmpty && apexSOAs == 0 {
                report(.error, "no SOA record at the zone apex \(zone.origin)", record: nil)
            }
            if apex == nil || !nodes[apex!].hasNS {
                // RFC 1034 §4.2.1: the apex holds the zone's NS RRset.
                report(.error, "no NS records at the zone apex \(zone.origin)", record: apex.map { nodes[$0].first })
            }
        }

        // MARK: Per name

        mutating func checkNodes() {
            let apex = nodeIndex[apexKey]
            let hasCutsOrDNAMEs = nodes.indices.contains { ($0 != apex && nodes[$0].hasNS) || nodes[$0].dnames > 0 }
            for n in nodes.indices {
                let node = nodes[n]
                let isApex = n == apex
                let isDelegation = node.hasNS && !isApex
                if node.cnames > 0 {
                    if node.cnames > 1 {
                        report(.error, "\(node.name) has more than one CNAME record (RFC 2181 §10.1)",
                               record: secondRecord(of: .cname, at: n))
                    }
                    if let other = node.firstNonCNAMEData {
                        // RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME stands alone.
                        report(.error, "\(node.name) has a CNAME and other data (\(zone.records[other].type)) (RFC 1034 §3.6.2)",
                               record: other)
                    }
                }
                if node.dnames > 1 {
                    report(.error, "\(node.name) has more than one DNAME record (RFC 6672 §2.4)",
                           record: secondRecord(of: .dname, at: n))
                }
                if node.hasDS && !isDelegation {
                    // RFC 4035 §2.4: DS sits at the parent side of a zone cut only.
                    let why = isApex ? "at the zone apex" : "where there is no delegation (NS)"
                    report(.error, "DS record \(why) at \(node.name) (RFC 4035 §2.4)", record: firstRecord(of: .ds, at: n))
                }
                if hasCutsOrDNAMEs && !isApex {
                    let cut = cutAbove(n)
                    nodes[n].cut = cut
                    switch cut {
                    case .none:
                        break
                    case .delegation(let d):
                        // Below a zone cut only glue is meaningful (RFC 1034 §4.2.1).
                        if let r = firstNonGlue(at: n) {
                            report(.warning, "\(node.name) \(zone.records[r].type) is below the delegation at \(nodes[d].name) and is occluded",
                                   record: r)
                        }
                    case .dname(let d):
                        report(.warning, "\(node.name) is below the DNAME at \(nodes[d].name) and is occluded (RFC 6672 §2.4)",
                               record: node.first)
                    }
                    if isDelegation, cut == .none, let r = firstOccludedAtCut(n) {
                        report(.warning, "\(node.name) \(zone.records[r].type) is at a delegation point and is occluded",
                               record: r)
                    }
                }
            }
        }

        func firstRecord(of type: RRType, at n: Int) -> Int? {
            for i in records(at: n) where zone.records[i].type == type {
                return i
            }
            return nil
        }

        func secondRecord(of type: RRType, at n: Int) -> Int? {
            var seen = false
            for i in records(at: n) where zone.records[i].type == type {
                if seen { return i }
                seen = true
            }
            return nil
        }

        /// The topmost delegation or DNAME strictly between `n` and the apex.
        func cutAbove(_ n: Int) -> Cut {
            cutAbove(key: nodes[n].key.bytes)
        }

        func cutAbove(key wire: [UInt8]) -> Cut {
            let apexLength = apexKey.bytes.count
            var offset = 1 + Int(wire[0])
            var found = Cut.none
            while wire.count - offset > apexLength {
                if let a = nodeIndex[NameKey(lowercased: Array(wire[offset...]))] {
                    if nodes[a].dnames > 0 {
                        found = .dname(a)
                    } else if nodes[a].hasNS {
                        found = .delegation(a)
                    }
                }
                offset += 1 + Int(wire[offset])
            }
            return found
        }

        /// A record below a cut that is not glue: glue is A/AAAA at an NS target.
        func firstNonGlue(at n: Int) -> Int? {
            for i in records(at: n) {
                let type = zone.records[i].type
                if (type == .a || type == .aaaa) && nsTargets.contains(nodes[n].key) { continue }
                return i
            }
            return nil
        }

        /// At a delegation point only NS, DS, their NSEC/RRSIG and glue belong.
        func firstOccludedAtCut(_ n: Int) -> Int? {
            for i in records(at: n) {
                switch zone.records[i].type {
                case .ns, .ds, .rrsig, .nsec:
                    continue
                case .a where nsTargets.contains(nodes[n].key), .aaaa where nsTargets.contains(nodes[n].key):
                    continue
                default:
                    return i
                }
            }
            return nil
        }

        /// Names that NS records point to: A/AAAA there is glue.
        var nsTargets = Set<NameKey>()

        mutating func collectNSTargets() {
            for record in zone.records where record.type == .ns {
                nsTargets.insert(NameKey(lowercased: record.rdata.map(asciiLower)))
            }
        }

        /// The records at node `n`, in file order.
        func records(at n: Int) -> RecordsAtNode {
            RecordsAtNode(links: nextAtNode, current: nodes[n].first)
        }

        // MARK: RRsets and duplicates

        mutating func checkRRsets() {
            // First record of each RRset (node, type) for the TTL rule.
            var firstOfSet: [UInt64: Int] = [:]
            firstOfSet.reserveCapacity(zone.records.count)
            var reportedTTL = Set<UInt64>()
            for (i, record) in zone.records.enumerated() {
                let n = nodeOfRecord[i]
                guard n >= 0 else { continue }
                // RRSIGs at one name cover different types and may differ (RFC 4034 §3).
                guard record.type != .rrsig else { continue }
                let setKey = UInt64(n) << 16 | UInt64(record.type.rawValue)
                if let first = firstOfSet[setKey] {
                    let firstTTL = zone.records[first].ttl
                    if firstTTL != record.ttl && !reportedTTL.contains(setKey) {
                        reportedTTL.insert(setKey)
                        report(.warning, "TTLs differ within the RRset \(describe(i)) (\(record.ttl) here, \(firstTTL) before) (RFC 2181 §5.2)",
                               record: i)
                    }
                } else {
                    firstOfSet[setKey] = i
                }
            }
        }

        // MARK: Glue

        /// NS targets inside the zone need addresses there (named-checkzone's rule):
        /// below a cut that is the glue; in the authoritative part, the A/AAAA itself.
        mutating func checkGlue() {
            var checked = Set<NameKey>()
            for (i, record) in zone.records.enumerated() where record.type == .ns && nodeOfRecord[i] >= 0 {
                let target = NameKey(lowercased: record.rdata.map(asciiLower))
                guard checked.insert(target).inserted else { continue }
                guard let name = try? DNSName(wire: record.rdata), name.isSubdomain(of: zone.origin) else { continue }
                if let t = nodeIndex[target], nodes[t].hasAddress { continue }
                if let t = nodeIndex[target], nodes[t].cnames > 0 {
                    report(.warning, "NS target \(name) is an alias (CNAME) (RFC 2181 §10.3)", record: i)
                    continue
                }
                if case .dname = cutAbove(key: target.bytes) { continue }
                report(.warning, "NS target \(name) has no A or AAAA record in the zone (missing glue)", record: i)
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
