// Applies IXFR difference sequences (RFC 1995 §4) to the zone we hold, giving the
// records of the new version. Each deletion must name a record we have and the serials
// must chain from ours; otherwise the differences are refused (the caller falls back
// to AXFR, RFC 1995 §4 last paragraph).
import BulwarkWire
import BulwarkZone

public enum ZoneDeltaApplier {
    /// An RRset: owner (case-insensitive) and type.
    struct SetKey: Hashable {
        var owner: DNSName
        var type: RRType
        init(_ r: ResourceRecord) {
            owner = r.owner.lowercased()
            type = r.type
        }
    }

    /// `zone` after `deltas`, as an edit of it (`Zone.applying`): only the RRsets the
    /// differences touch are read, checked and written. A record's identity in an RRset
    /// is its rdata in canonical form (RFC 4034 §6.2: names in well-known rdata
    /// lower-cased); the TTL is not part of it, so a deletion matches whatever TTL we
    /// hold and an addition of a record held gives it the new TTL. The zone's SOA
    /// becomes the last sequence's new SOA.
    public static func apply(_ deltas: [ZoneDelta], to zone: Zone) throws(TransferError) -> Zone {
        var serial = zone.serial
        var sets: [SetKey: [ResourceRecord]] = [:]
        var order: [SetKey] = []
        var owners: [DNSName: DNSName] = [:]  // as first written: the zone's, else the transfer's
        func current(_ r: ResourceRecord) -> SetKey {
            let k = SetKey(r)
            if sets[k] == nil {
                let held = zone.records(at: r.owner, type: r.type)
                sets[k] = held
                order.append(k)
                if owners[k.owner] == nil { owners[k.owner] = held.first?.owner ?? r.owner }
            }
            return k
        }
        func canonical(_ r: ResourceRecord) -> [UInt8] { RDataWire.canonicalForm(type: r.type, rdata: r.rdata) }
        var soa: ResourceRecord?
        for (n, delta) in deltas.enumerated() {
            let from = try SOAFields(record: delta.fromSOA).serial
            guard from == serial else {
                throw TransferError(.inconsistent, "IXFR sequence \(n + 1) starts at serial \(from), our copy is at \(serial)")
            }
            for r in delta.deleted {
                guard r.type != .soa else { throw .malformed("IXFR deletes a second SOA") }
                let k = current(r)
                let identity = canonical(r)
                guard let i = sets[k]!.firstIndex(where: { canonical($0) == identity }) else {
                    throw TransferError(.inconsistent, "IXFR deletes \(r.owner) \(r.type) \(RDataText.format(type: r.type, rdata: r.rdata)), which our copy (serial \(serial)) does not hold")
                }
                sets[k]!.remove(at: i)
            }
            for r in delta.added {
                guard r.type != .soa else { throw .malformed("IXFR adds a second SOA") }
                let k = current(r)
                let identity = canonical(r)
                if let i = sets[k]!.firstIndex(where: { canonical($0) == identity }) {
                    sets[k]![i] = r  // already held: the TTL given wins
                } else {
                    sets[k]!.append(r)
                }
            }
            soa = delta.toSOA
            serial = try SOAFields(record: delta.toSOA).serial
        }
        guard let soa else { throw .malformed("no SOA") }
        var edit = ZoneEdit(checksZoneFileRules: false)  // as a whole transfer would be taken
        for k in order {
            let owner = owners[k.owner]!
            edit.replace(owner, k.type, with: sets[k]!.map {
                ResourceRecord(owner: owner, type: $0.type, ttl: $0.ttl, rdata: $0.rdata)
            })
        }
        edit.replace(zone.origin, .soa, with: [ResourceRecord(owner: zone.origin, type: .soa, ttl: soa.ttl, rdata: soa.rdata)])
        do {
            return try zone.applying(edit)
        } catch {
            throw TransferError(.malformed, "the zone after IXFR does not build: \(error)")
        }
    }
}
