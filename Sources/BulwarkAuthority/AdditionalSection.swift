// The additional section's SVCB/HTTPS rule and its order. Which records go there for
// NS, MX and SRV is in Authority.swift (addAdditional); the encoder writes the section
// RRset by RRset, taking back one that does not fit (ResponseEncoder.swift).
import BulwarkWire
import BulwarkZone

extension ZoneSet {
    /// RFC 9460 §4.2: for SVCB and HTTPS, the A, AAAA and SVCB/HTTPS (the same type)
    /// records of each TargetName the zone holds, as Knot does (one level: the target's
    /// own targets are not followed). In ServiceMode a TargetName of "." stands for the
    /// owner (RFC 9460 §2.5.2): its addresses; in AliasMode "." means no service
    /// (§2.5.1): nothing.
    @inline(__always)
    func addServiceAdditional(zone: Zone, _ zoneIndex: ZoneIndex, rrset: RRSetIndex, dnssec: Bool,
                              scratch: inout AnswerScratch) {
        let set = zone[rrset: rrset]
        var i = set.recordStart
        while i < set.recordStart + set.recordCount {
            let rec = zone.recordEntries[Int(i)]
            i += 1
            let target = rec.target
            guard !target.isNone, rec.length >= 12 else { continue }
            let data = zone.recordAddress(rec) + 10  // SvcPriority, then TargetName
            let aliasMode = data[0] == 0 && data[1] == 0
            if zone[name: target].length == 1 {  // "."
                guard !aliasMode, !isWildcard(zone, set.owner) else { continue }
                addAddresses(zone: zone, zoneIndex, name: set.owner, required: false, dnssec: dnssec, scratch: &scratch)
                continue
            }
            guard zone[name: target].has(.exists) else { continue }
            addAddresses(zone: zone, zoneIndex, name: target, required: false, dnssec: dnssec, scratch: &scratch)
            addAddress(zone: zone, zoneIndex, name: target, type: set.type, required: false, dnssec: dnssec,
                       scratch: &scratch)
        }
    }

    /// True when `name` is a wildcard (`*` first label): records at it are answered under
    /// the query name, which the additional section cannot name.
    @inline(__always)
    func isWildcard(_ zone: Zone, _ name: NameIndex) -> Bool {
        let label = zone.caseAddress(zone[name: name])
        return label[0] == 1 && label[1] == UInt8(ascii: "*")
    }

    /// Puts the additional section in the order it is written: glue a referral needs
    /// first (RFC 9471 §3: it is what must fit, so TC is set only when it alone cannot),
    /// then the other RRsets, A before AAAA and the rest (RFC 9609 §3: a priming answer
    /// without EDNS carries every root server's IPv4 address before any IPv6 one, as NSD
    /// orders every additional section). An RRSIG entry stays with the RRset before it.
    /// Stable; allocates nothing.
    @inline(__always)
    func orderAdditional(scratch: inout AnswerScratch) {
        let count = scratch.plan.additional.count
        guard count > 1 else { return }
        // Most sections are in order already (one target, or only A records): one look.
        var ordered = true
        var previous = 0
        var key = 0
        var i = 0
        while i < count {
            key = additionalKey(scratch.plan.additional[i], previous: key)
            if key < previous { ordered = false; break }
            previous = key
            i += 1
        }
        if ordered { return }
        scratch.reordered.removeAll()
        var pass = 0
        while pass < 4 {
            key = 0
            i = 0
            while i < count {
                let e = scratch.plan.additional[i]
                key = additionalKey(e, previous: key)
                if key == pass { scratch.reordered.append(e) }
                i += 1
            }
            pass += 1
        }
        swap(&scratch.plan.additional, &scratch.reordered)
    }

    /// 0: required A, 1: required other, 2: A, 3: other; an RRSIG takes `previous`.
    @inline(__always)
    func additionalKey(_ e: PlanEntry, previous: Int) -> Int {
        let type = self[zone: e.zone][rrset: e.rrset].type
        if type == RRType.rrsig.rawValue { return previous }
        return (e.required ? 0 : 2) + (type == RRType.a.rawValue ? 0 : 1)
    }
}
