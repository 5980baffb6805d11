// Reading a zone's records one at a time, for zone transfers: a large zone is streamed
// without materialising all its records at once (what `Zone.records` does).
import BulwarkWire

/// Walks a zone's records in the order of `Zone.records`: per owner, by type, as given.
public struct ZoneRecordCursor: IteratorProtocol, Sendable {
    public let zone: Zone
    private var nameIndex = 0
    private var rrset: Int32 = 0
    private var rrsetEnd: Int32 = 0
    private var record: Int32 = 0
    private var recordEnd: Int32 = 0
    private var owner: DNSName = .root

    public init(_ zone: Zone) {
        self.zone = zone
    }

    public mutating func next() -> ResourceRecord? {
        while record >= recordEnd {
            if rrset < rrsetEnd {
                let set = zone.rrsets[Int(rrset)]
                record = set.recordStart
                recordEnd = set.recordStart + set.recordCount
                rrset += 1
                continue
            }
            // The next name that owns records.
            while nameIndex < zone.names.count && zone.names[nameIndex].rrsetCount == 0 { nameIndex += 1 }
            guard nameIndex < zone.names.count else { return nil }
            let e = zone.names[nameIndex]
            owner = zone.name(NameIndex(nameIndex))
            rrset = e.rrsetStart.raw
            rrsetEnd = e.rrsetStart.raw + e.rrsetCount
            nameIndex += 1
        }
        let type = zone.rrsets[Int(rrset - 1)].type
        record += 1
        return zone.resourceRecord(Int(record - 1), type: type, owner: owner)
    }
}

extension Zone {
    /// The same records as `other`, as stored (a reload that re-read an unchanged file).
    public func hasSameContent(as other: Zone) -> Bool {
        self === other || (recordCount == other.recordCount && serial == other.serial
            && contentDigest == other.contentDigest && origin == other.origin)
    }

    /// The SOA record at the apex.
    public var soaRecord: ResourceRecord {
        resourceRecords(soaRRSet, owner: origin)[0]
    }
}

extension Zone {
    /// Calls `body` with every RRset owned by a name in `range` of the name table: per
    /// name in table order, by type (what storing a whole zone walks).
    public func forEachRRset(names range: Range<Int>, _ body: (DNSName, RRType, [ResourceRecord]) -> Void) {
        for i in range {
            let e = names[i]
            guard e.rrsetCount > 0 else { continue }
            let owner = name(NameIndex(i))
            for r in e.rrsetStart.value..<(e.rrsetStart.value + Int(e.rrsetCount)) {
                body(owner, RRType(rrsets[r].type), resourceRecords(RRSetIndex(r), owner: owner))
            }
        }
    }
}
