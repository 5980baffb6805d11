// Applies IXFR difference sequences (RFC 1995 §4) to the zone we hold, giving the
// records of the new version. Each deletion must name a record we have and the serials
// must chain from ours; otherwise the differences are refused (the caller falls back
// to AXFR, RFC 1995 §4 last paragraph).
import BulwarkWire
import BulwarkZone

public enum ZoneDeltaApplier {
    /// A record's identity in an RRset: owner (case-insensitive), type, class and
    /// rdata in canonical form (RFC 4034 §6.2: names in well-known rdata lower-cased).
    /// The TTL is not part of it: a deletion matches whatever TTL we hold.
    struct Key: Hashable {
        var owner: DNSName
        var type: RRType
        var rdata: [UInt8]
        init(_ r: ResourceRecord) {
            owner = r.owner
            type = r.type
            rdata = RDataWire.canonicalForm(type: r.type, rdata: r.rdata)
        }
    }

    /// The records of `zone` after `deltas`. The zone's SOA is replaced by the last
    /// sequence's new SOA.
    public static func apply(_ deltas: [ZoneDelta], to zone: Zone) throws(TransferError) -> [ResourceRecord] {
        var serial = zone.serial
        // Records in order; a deleted slot becomes nil. The index maps a key to its slot.
        var slots: [ResourceRecord?] = []
        var index: [Key: Int] = [:]
        var soa: ResourceRecord?
        for r in zone.records {
            if r.type == .soa { soa = r; continue }
            let k = Key(r)
            if index[k] == nil {
                index[k] = slots.count
                slots.append(r)
            }
        }
        for (n, delta) in deltas.enumerated() {
            let from = try SOAFields(record: delta.fromSOA).serial
            guard from == serial else {
                throw TransferError(.inconsistent, "IXFR sequence \(n + 1) starts at serial \(from), our copy is at \(serial)")
            }
            for r in delta.deleted {
                guard r.type != .soa else { throw .malformed("IXFR deletes a second SOA") }
                guard let i = index.removeValue(forKey: Key(r)) else {
                    throw TransferError(.inconsistent, "IXFR deletes \(r.owner) \(r.type) \(RDataText.format(type: r.type, rdata: r.rdata)), which our copy (serial \(serial)) does not hold")
                }
                slots[i] = nil
            }
            for r in delta.added {
                guard r.type != .soa else { throw .malformed("IXFR adds a second SOA") }
                let k = Key(r)
                if let i = index[k] {
                    slots[i] = r  // already held: the TTL given wins
                } else {
                    index[k] = slots.count
                    slots.append(r)
                }
            }
            soa = delta.toSOA
            serial = try SOAFields(record: delta.toSOA).serial
        }
        guard let soa else { throw .malformed("no SOA") }
        var out: [ResourceRecord] = [soa]
        out.reserveCapacity(index.count + 1)
        for case let r? in slots { out.append(r) }
        return out
    }
}
