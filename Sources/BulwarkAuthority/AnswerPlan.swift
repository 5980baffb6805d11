import BulwarkWire
import BulwarkZone

/// The answer to a question as records, section by section: the pure layer under
/// `respond`, for tests and tools (it allocates; the query path does not use it).
public struct AnswerPlan: Sendable, Equatable, CustomStringConvertible {
    public var rcode: RCode
    public var authoritative: Bool
    /// RFC 9471: some of `additional` is glue that must fit in the response.
    public var glueRequired: Bool
    public var answer: [ResourceRecord]
    public var authority: [ResourceRecord]
    public var additional: [ResourceRecord]

    public var description: String {
        var s = "\(rcode)\(authoritative ? " aa" : "")\n"
        for (title, list) in [("answer", answer), ("authority", authority), ("additional", additional)] {
            for r in list { s += "\(title): \(r.owner) \(r.ttl) \(r.type) \(r.rdata)\n" }
        }
        return s
    }
}

extension ZoneSet {
    /// Looks `qname`/`qtype` (class IN) up and returns the planned sections as records;
    /// `dnssec` is the query's DO bit.
    public func lookup(qname: DNSName, qtype: RRType, dnssec: Bool = false) -> AnswerPlan {
        var s = AnswerScratch()  // the scratch of this one lookup
        qname.wire.withUnsafeBytes { s.startChain($0) }
        buildPlan(qtype: qtype.rawValue, dnssec: dnssec, scratch: &s)
        orderAdditional(scratch: &s)
        func records(_ list: FixedList<PlanEntry>) -> [ResourceRecord] {
            var out: [ResourceRecord] = []
            for e in list.array {
                let z = self[zone: e.zone]
                let owner: DNSName
                switch e.owner {
                case .name(let name): owner = z.name(name)
                case .chain(let link): owner = chainName(link, s)
                }
                if e.kind == .synthesizedCNAME, let defines = e.defines {
                    let set = z[rrset: e.rrset]
                    let ttl = z.recordEntries[Int(set.recordStart)].ttl
                    out.append(ResourceRecord(owner: owner, type: .cname, ttl: ttl,
                                              rdata: chainName(defines, s).wire))
                } else {
                    out += z.resourceRecords(e.rrset, owner: owner)
                }
            }
            return out
        }
        return AnswerPlan(rcode: RCode(s.plan.rcode), authoritative: s.plan.authoritative,
                          glueRequired: s.plan.additional.array.contains { $0.required },
                          answer: records(s.plan.answer), authority: records(s.plan.authority),
                          additional: records(s.plan.additional))
    }

    private func chainName(_ link: Int, _ scratch: AnswerScratch) -> DNSName {
        let c = scratch.chain[link]
        return DNSName(uncheckedWire: Array(scratch.chainBytes.storage[Int(c.start)..<Int(c.start + c.length)]))
    }
}
