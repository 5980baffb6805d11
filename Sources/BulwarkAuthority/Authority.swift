// The authoritative answer: RFC 1034 §4.3.2 as NSD's query.c does it (answer_delegation,
// answer_nodata, answer_nxdomain, answer_authoritative), with RFC 2181, RFC 4592
// (wildcards), RFC 6672 (DNAME), RFC 8482 (ANY), RFC 4035 §3.1.4.1 (DS at a cut).
// Pure: a query name and type in, a plan (sections as RRset references) out.
import BulwarkWire
import BulwarkZone

extension AnswerScratch {
    /// Resets the chain to hold the query name (uncompressed wire, client's case).
    @inline(__always)
    mutating func startChain(_ qname: UnsafeRawBufferPointer) {
        chain.removeAll()
        chainBytes.removeAll()
        chainBytes.append(qname)
        chain.append(ChainName(start: 0, length: Int32(qname.count), prefixLength: -1, tailZone: -1, tailName: -1))
    }

    /// Lower-cases chain name `k` into `key`, records its label offsets and the hash of
    /// every suffix (`suffixHashes[j]` is the hash of the name without its first j labels).
    /// Returns the number of labels.
    @inline(__always)
    mutating func loadKey(chain k: Int) -> Int {
        let c = chain[k]
        let start = Int(c.start), len = Int(c.length)
        var labels = 0
        chainBytes.storage.withUnsafeBufferPointer { src in
            key.withUnsafeMutableBufferPointer { dst in
                labelOffsets.withUnsafeMutableBufferPointer { offs in
                    var i = 0
                    while i < len {
                        dst[i] = asciiLower(src[start + i])
                        i += 1
                    }
                    var p = 0
                    while dst[p] != 0 {
                        offs[labels] = p
                        labels += 1
                        p += 1 + Int(dst[p])
                    }
                    offs[labels] = p  // the root octet
                }
            }
        }
        key.withUnsafeBufferPointer { dst in
            labelOffsets.withUnsafeBufferPointer { offs in
                suffixHashes.withUnsafeMutableBufferPointer { hashes in
                    var h = nameHashSeed
                    var i = len - 1
                    var j = labels
                    while j >= 0 {
                        let stop = offs[j]
                        while i >= stop { h = nameHashStep(h, dst[i]); i -= 1 }
                        hashes[j] = h
                        j -= 1
                    }
                }
            }
        }
        return labels
    }

    /// Appends a chain name made of `prefix` octets of chain name `k` followed by name
    /// `tail` of `zone` (case as stored). Returns false when it is too long (RFC 6672 §2.2).
    @inline(__always)
    mutating func appendChain(prefixOf k: Int, prefix: Int, zone: Zone, zoneIndex: Int32, tail: Int32) -> Bool {
        let e = zone.names[Int(tail)]
        guard prefix + Int(e.length) <= DNSName.maxWireLength else { return false }
        guard !chain.isFull else { return false }
        let start = chainBytes.count
        let from = Int(chain[k].start)
        var i = 0
        while i < prefix { chainBytes.append(chainBytes[from + i]); i += 1 }
        zone.caseBytes.withUnsafeBytes { cb in
            chainBytes.append(UnsafeRawBufferPointer(rebasing: cb[Int(e.offset)..<(Int(e.offset) + Int(e.length))]))
        }
        chain.append(ChainName(start: Int32(start), length: Int32(prefix + Int(e.length)),
                               prefixLength: prefix > 0 ? Int32(prefix) : -1, tailZone: zoneIndex, tailName: tail))
        return true
    }

    /// True when the last chain name equals an earlier one (a CNAME/DNAME loop).
    @inline(__always)
    func lastChainRepeats() -> Bool {
        let last = chain[chain.count - 1]
        var k = 0
        while k < chain.count - 1 {
            let c = chain[k]
            if c.length == last.length {
                var equal = true
                var i = 0
                while i < Int(c.length) {
                    if asciiLower(chainBytes[Int(c.start) + i]) != asciiLower(chainBytes[Int(last.start) + i]) {
                        equal = false
                        break
                    }
                    i += 1
                }
                if equal { return true }
            }
            k += 1
        }
        return false
    }
}

extension ZoneSet {
    /// Finds the zone for the name in `scratch.key` (with `labels` labels): the longest
    /// matching origin. For DS at a zone's apex, the parent zone when we hold it
    /// (RFC 4035 §3.1.4.1: DS lives on the parent side of the cut). Returns the zone index
    /// and the origin's label count, or (-1, 0).
    @inline(__always)
    func locateZone(labels: Int, qtype: UInt16, scratch s: inout AnswerScratch) -> (Int32, Int) {
        var found: Int32 = -1
        var foundLabels = 0
        s.key.withUnsafeBytes { key in
            s.labelOffsets.withUnsafeBufferPointer { offs in
                s.suffixHashes.withUnsafeBufferPointer { hashes in
                    var c = labels
                    let end = offs[labels] + 1
                    while c >= 0 {
                        if hasOrigin(withLabels: c) {
                            let j = labels - c
                            let z = zoneIndex(origin: UnsafeRawBufferPointer(rebasing: key[offs[j]..<end]), hash: hashes[j])
                            if z >= 0 {
                                found = z
                                foundLabels = c
                                if qtype != RRType.ds.rawValue || c < labels { return }
                                // DS at this apex: the parent zone answers when we hold it.
                                var p = c - 1
                                while p >= 0 {
                                    if hasOrigin(withLabels: p) {
                                        let jp = labels - p
                                        let zp = zoneIndex(origin: UnsafeRawBufferPointer(rebasing: key[offs[jp]..<end]),
                                                           hash: hashes[jp])
                                        if zp >= 0 { found = zp; foundLabels = p; return }
                                    }
                                    p -= 1
                                }
                                return
                            }
                        }
                        c -= 1
                    }
                }
            }
        }
        return (found, foundLabels)
    }

    /// The closest encloser of the name in `scratch.key` within `zone`: the longest
    /// suffix that exists (RFC 4592 §3.3.1). Returns its index and label count.
    @inline(__always)
    func closestEncloser(in zone: Zone, labels: Int, originLabels: Int, scratch s: inout AnswerScratch) -> (Int32, Int) {
        var result: (Int32, Int) = (zone.apex, originLabels)
        s.key.withUnsafeBytes { key in
            s.labelOffsets.withUnsafeBufferPointer { offs in
                s.suffixHashes.withUnsafeBufferPointer { hashes in
                    let end = offs[labels] + 1
                    var c = labels
                    while c > originLabels {
                        let j = labels - c
                        let n = zone.find(UnsafeRawBufferPointer(rebasing: key[offs[j]..<end]), hash: hashes[j])
                        if n >= 0 && zone.names[Int(n)].has(NameFlags.exists) {
                            result = (n, c)
                            return
                        }
                        c -= 1
                    }
                }
            }
        }
        return result
    }

    /// Builds the plan for chain name 0 (already in `scratch.chain`) and `qtype`. With
    /// `dnssec` (the query's DO bit, RFC 3225), RRSIGs go with each RRset and NSEC records
    /// prove denials (RFC 4035 §3.1); NSEC3 zones get signatures but no NSEC3 proofs.
    func buildPlan(qtype: UInt16, dnssec: Bool, scratch s: inout AnswerScratch) {
        s.plan.reset()
        var k = 0
        while true {
            let labels = s.loadKey(chain: k)
            let (zi, originLabels) = locateZone(labels: labels, qtype: qtype, scratch: &s)
            guard zi >= 0 else {
                // Not ours. For the query name: REFUSED, no AA (as NSD and Knot). For a
                // CNAME target: the chain so far is the answer.
                if k == 0 {
                    s.plan.refused = true
                    s.plan.rcode = RCode.refused.rawValue
                }
                return
            }
            let z = zoneArray[Int(zi)]
            if z.isExpired {
                // RFC 1034 §4.3.5: an expired secondary zone is no longer answered for;
                // SERVFAIL as Knot and BIND. A CNAME chain into it ends here.
                if k == 0 {
                    s.plan.refused = true
                    s.plan.rcode = RCode.servFail.rawValue
                }
                return
            }
            let (ce, ceLabels) = closestEncloser(in: z, labels: labels, originLabels: originLabels, scratch: &s)
            if k == 0 {
                s.plan.firstZone = zi
                s.plan.firstEncloser = ce
                s.plan.authoritative = true
            }
            let e = z.names[Int(ce)]
            let exact = ceLabels == labels
            let ds = qtype == RRType.ds.rawValue

            // RFC 1034 §4.3.2 step 3b: a cut (or a DNAME, RFC 6672 §2.3) above the name wins.
            var cut: Int32 = -1
            var dname: Int32 = -1
            if e.occluder >= 0 {
                if z.names[Int(e.occluder)].has(NameFlags.delegation) { cut = e.occluder } else { dname = e.occluder }
            } else if !exact {
                if e.has(NameFlags.delegation) { cut = ce } else if e.has(NameFlags.hasDNAME) { dname = ce }
            } else if e.has(NameFlags.delegation) && !ds {
                // RFC 4035 §3.1.4.1: DS at a cut is answered from the parent side, authoritatively.
                cut = ce
            }

            if cut >= 0 {
                referral(zone: z, zi, cut: cut, dnssec: dnssec, scratch: &s)
                if k == 0 { s.plan.authoritative = false }
                return
            }

            if dname >= 0 {
                // RFC 6672 §2.3 / §3.1: the DNAME, then a CNAME synthesized with its TTL.
                let drr = z.rrset(at: dname, type: RRType.dname.rawValue)
                guard addSigned(&s.plan.answer, PlanEntry(zone: zi, rrset: drr, owner: dname, defines: -1,
                                                          kind: PlanEntry.normal, required: false),
                                zone: z, node: dname, dnssec: dnssec) else { return }
                let target = z.recordEntries[Int(z.rrsets[Int(drr)].recordStart)].target
                let prefix = Int(s.chain[k].length) - Int(z.names[Int(dname)].length)
                guard s.chain.count <= AnswerScratch.maxChain else { return }
                guard s.appendChain(prefixOf: k, prefix: prefix, zone: z, zoneIndex: zi, tail: target) else {
                    // RFC 6672 §2.2: the substituted name does not fit in 255 octets.
                    s.plan.rcode = RCode.yxDomain.rawValue
                    return
                }
                guard addEntry(&s.plan.answer, PlanEntry(zone: zi, rrset: drr, owner: -Int32(k + 1), defines: Int32(k + 1),
                                                       kind: PlanEntry.synthesizedCNAME, required: false)) else { return }
                // A CNAME query is answered by the synthesized CNAME itself (as NSD and Knot).
                if qtype == RRType.cname.rawValue || s.lastChainRepeats() { return }
                k += 1
                continue
            }

            // RFC 4592 §3.3.1: no exact match and no cut: the source of synthesis is `*.<closest encloser>`.
            let node = exact ? ce : e.wildcardChild
            if node < 0 {
                s.plan.rcode = RCode.nxDomain.rawValue
                _ = addSigned(&s.plan.authority, PlanEntry(zone: zi, rrset: z.negativeSOARRSet, owner: z.apex,
                                                           defines: -1, kind: PlanEntry.normal, required: false),
                              zone: z, node: z.apex, dnssec: dnssec)
                if dnssec {
                    // RFC 4035 §3.1.3.2: no such name, and no wildcard that could have matched.
                    addCoveringNSEC(zone: z, zi, labels: labels, wildcardAt: ceLabels, scratch: &s)
                }
                return
            }
            let ne = z.names[Int(node)]
            let owner = -Int32(k + 1)  // exact or synthesized: the owner is the name asked for
            if !exact && k == 0 { s.plan.wildcardZone = zi }  // for RRL: answers from `*` share a bucket
            if dnssec && !exact {
                // RFC 4035 §3.1.3.3: a wildcard answer proves the query name does not exist.
                addCoveringNSEC(zone: z, zi, labels: labels, wildcardAt: -1, scratch: &s)
            }
            if qtype == RRType.any.rawValue {
                // RFC 8482 §4.2: one RRset. Knot gives the node's first (lowest type); so do we.
                if ne.rrsetCount > 0 {
                    let r = ne.rrsetStart
                    _ = addSigned(&s.plan.answer, PlanEntry(zone: zi, rrset: r, owner: owner, defines: -1,
                                                            kind: PlanEntry.normal, required: false),
                                  zone: z, node: node, dnssec: dnssec)
                    addAdditional(zone: z, zi, rrset: r, dnssec: dnssec, scratch: &s)
                    return
                }
            } else {
                let r = z.rrset(at: node, type: qtype)
                if r >= 0 {
                    _ = addSigned(&s.plan.answer, PlanEntry(zone: zi, rrset: r, owner: owner, defines: -1,
                                                            kind: PlanEntry.normal, required: false),
                                  zone: z, node: node, dnssec: dnssec)
                    addAdditional(zone: z, zi, rrset: r, dnssec: dnssec, scratch: &s)
                    if zi != s.plan.firstZone { addApexNS(zone: z, zi, dnssec: dnssec, scratch: &s) }
                    return
                }
                if ne.has(NameFlags.hasCNAME) {
                    // RFC 1034 §4.3.2 step 3a: the CNAME, then restart at its target.
                    let cr = z.rrset(at: node, type: RRType.cname.rawValue)
                    guard addSigned(&s.plan.answer, PlanEntry(zone: zi, rrset: cr, owner: owner, defines: Int32(k + 1),
                                                              kind: PlanEntry.normal, required: false),
                                    zone: z, node: node, dnssec: dnssec) else { return }
                    let target = z.recordEntries[Int(z.rrsets[Int(cr)].recordStart)].target
                    guard s.chain.count <= AnswerScratch.maxChain,
                          s.appendChain(prefixOf: k, prefix: 0, zone: z, zoneIndex: zi, tail: target),
                          !s.lastChainRepeats() else { return }
                    k += 1
                    continue
                }
            }
            // NODATA (RFC 2308 §2.2): NOERROR, SOA in authority.
            _ = addSigned(&s.plan.authority, PlanEntry(zone: zi, rrset: z.negativeSOARRSet, owner: z.apex,
                                                       defines: -1, kind: PlanEntry.normal, required: false),
                          zone: z, node: z.apex, dnssec: dnssec)
            if dnssec {
                // RFC 4035 §3.1.3.1 / §3.1.3.4: the NSEC at the name (or at the wildcard, beside the
                // proof that the name does not exist); an empty non-terminal's covering NSEC.
                let nsec = z.rrset(at: node, type: RRType.nsec.rawValue)
                if nsec >= 0 {
                    addNSEC(zone: z, zi, rrset: nsec, owner: node, scratch: &s)
                } else if exact {
                    addCoveringNSEC(zone: z, zi, labels: labels, wildcardAt: -1, scratch: &s)
                }
            }
            return
        }
    }

    /// A chain that ended with data in another zone than it started: that zone's NS RRset
    /// in authority, as NSD does (its answers are not minimal; Knot does not follow the
    /// chain out of the first zone at all). In-zone answers stay minimal, as Knot's.
    func addApexNS(zone z: Zone, _ zi: Int32, dnssec: Bool, scratch s: inout AnswerScratch) {
        let ns = z.rrset(at: z.apex, type: RRType.ns.rawValue)
        guard ns >= 0 else { return }
        _ = addSigned(&s.plan.authority, PlanEntry(zone: zi, rrset: ns, owner: z.apex, defines: -1,
                                                   kind: PlanEntry.normal, required: false),
                      zone: z, node: z.apex, dnssec: dnssec)
        addAdditional(zone: z, zi, rrset: ns, dnssec: dnssec, scratch: &s)
    }

    /// Adds an RRset and, with DNSSEC, its signatures (RFC 4035 §3.1.1).
    @inline(__always)
    func addSigned(_ list: inout FixedList<PlanEntry>, _ e: PlanEntry, zone z: Zone, node: Int32, dnssec: Bool) -> Bool {
        guard addEntry(&list, e) else { return false }
        if dnssec {
            let sig = e.rrset == z.negativeSOARRSet ? z.negativeSOASignature
                : z.signature(at: node, covering: z.rrsets[Int(e.rrset)].type)
            if sig >= 0 {
                _ = addEntry(&list, PlanEntry(zone: e.zone, rrset: sig, owner: e.owner, defines: -1,
                                              kind: PlanEntry.normal, required: e.required))
            }
        }
        return true
    }

    /// Adds an NSEC RRset (and its signatures) to the authority section unless it is there.
    @inline(__always)
    func addNSEC(zone z: Zone, _ zi: Int32, rrset: Int32, owner: Int32, scratch s: inout AnswerScratch) {
        for i in 0..<s.plan.authority.count {
            let e = s.plan.authority[i]
            if e.zone == zi && e.rrset == rrset { return }
        }
        _ = addSigned(&s.plan.authority, PlanEntry(zone: zi, rrset: rrset, owner: owner, defines: -1,
                                                   kind: PlanEntry.normal, required: false),
                      zone: z, node: owner, dnssec: true)
    }

    /// Adds the NSEC covering the name in `scratch.key` and, when `wildcardAt` >= 0, the one
    /// covering the wildcard `*.<the suffix with wildcardAt labels>` (RFC 4035 §3.1.3.2).
    func addCoveringNSEC(zone z: Zone, _ zi: Int32, labels: Int, wildcardAt: Int, scratch s: inout AnswerScratch) {
        guard !z.nsecNodes.isEmpty else { return }
        var wildcardLength = -1
        var length = 0
        s.key.withUnsafeBufferPointer { key in
            s.labelOffsets.withUnsafeBufferPointer { offs in
                s.canon.withUnsafeMutableBufferPointer { canon in
                    var j = labels - 1
                    var done = 0
                    while j >= 0 {
                        if done == wildcardAt { wildcardLength = length }
                        let o = offs[j], n = Int(key[o])
                        var i = 0
                        while i < n { canon[length + i] = key[o + 1 + i]; i += 1 }
                        canon[length + n] = 0
                        length += n + 1
                        done += 1
                        j -= 1
                    }
                    if done == wildcardAt { wildcardLength = length }
                }
            }
        }
        let covering = s.canon.withUnsafeBytes { z.coveringNSEC(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
        if covering >= 0 {
            addNSEC(zone: z, zi, rrset: z.rrset(at: covering, type: RRType.nsec.rawValue), owner: covering, scratch: &s)
        }
        if wildcardLength >= 0 {
            s.canon[wildcardLength] = UInt8(ascii: "*")
            s.canon[wildcardLength + 1] = 0
            let w = s.canon.withUnsafeBytes { z.coveringNSEC(UnsafeRawBufferPointer(rebasing: $0[0..<(wildcardLength + 2)])) }
            if w >= 0 {
                addNSEC(zone: z, zi, rrset: z.rrset(at: w, type: RRType.nsec.rawValue), owner: w, scratch: &s)
            }
        }
    }

    @inline(__always)
    func addEntry(_ list: inout FixedList<PlanEntry>, _ e: PlanEntry) -> Bool {
        guard !list.isFull, e.rrset >= 0 else { return false }
        list.append(e)
        return true
    }

    /// A referral (RFC 1034 §4.3.2 step 3b): the cut's NS RRset in authority, addresses of
    /// its name servers from this zone in additional; glue below the cut must fit (RFC 9471).
    func referral(zone z: Zone, _ zi: Int32, cut: Int32, dnssec: Bool, scratch s: inout AnswerScratch) {
        let nsr = z.rrset(at: cut, type: RRType.ns.rawValue)
        guard addEntry(&s.plan.authority, PlanEntry(zone: zi, rrset: nsr, owner: cut, defines: -1,
                                                    kind: PlanEntry.normal, required: false)) else { return }
        if dnssec {
            // RFC 4035 §3.1.4: the signed DS of a secure delegation, or the NSEC proving there is none.
            let ds = z.rrset(at: cut, type: RRType.ds.rawValue)
            if ds >= 0 {
                _ = addSigned(&s.plan.authority, PlanEntry(zone: zi, rrset: ds, owner: cut, defines: -1,
                                                           kind: PlanEntry.normal, required: false),
                              zone: z, node: cut, dnssec: true)
            } else {
                let nsec = z.rrset(at: cut, type: RRType.nsec.rawValue)
                if nsec >= 0 { addNSEC(zone: z, zi, rrset: nsec, owner: cut, scratch: &s) }
            }
        }
        let set = z.rrsets[Int(nsr)]
        var i = set.recordStart
        while i < set.recordStart + set.recordCount {
            let t = z.recordEntries[Int(i)].target
            i += 1
            guard t >= 0 else { continue }
            let te = z.names[Int(t)]
            guard te.has(NameFlags.exists) else { continue }
            // Addresses below other cuts are glue too (sibling glue): NSD and Knot add them.
            addAddresses(zone: z, zi, name: t, required: t == cut || te.occluder == cut, dnssec: dnssec, scratch: &s)
        }
    }

    /// Additional-section processing (RFC 1035 §3.3.2, §3.3.9, §3.3.11; RFC 2782): A and
    /// AAAA of NS, MX and SRV targets that this zone holds (not from other zones: as peers).
    @inline(__always)
    func addAdditional(zone z: Zone, _ zi: Int32, rrset r: Int32, dnssec: Bool, scratch s: inout AnswerScratch) {
        let set = z.rrsets[Int(r)]
        switch set.type {
        case RRType.ns.rawValue, RRType.mx.rawValue, RRType.srv.rawValue: break
        default: return
        }
        var i = set.recordStart
        while i < set.recordStart + set.recordCount {
            let t = z.recordEntries[Int(i)].target
            i += 1
            guard t >= 0 else { continue }
            let te = z.names[Int(t)]
            // Any address the zone holds, glue included, as NSD and Knot do.
            guard te.has(NameFlags.exists) else { continue }
            addAddresses(zone: z, zi, name: t, required: false, dnssec: dnssec, scratch: &s)
        }
    }

    @inline(__always)
    func addAddresses(zone z: Zone, _ zi: Int32, name t: Int32, required: Bool, dnssec: Bool,
                      scratch s: inout AnswerScratch) {
        addAddress(zone: z, zi, name: t, type: RRType.a.rawValue, required: required, dnssec: dnssec, scratch: &s)
        addAddress(zone: z, zi, name: t, type: RRType.aaaa.rawValue, required: required, dnssec: dnssec, scratch: &s)
    }

    @inline(__always)
    func addAddress(zone z: Zone, _ zi: Int32, name t: Int32, type: UInt16, required: Bool, dnssec: Bool,
                    scratch s: inout AnswerScratch) {
        let r = z.rrset(at: t, type: type)
        guard r >= 0 else { return }
        // Index loops: an unoptimized build runs `for e in array` through the generic
        // IndexingIterator, whose read coroutine allocates its frame.
        var i = 0
        while i < s.plan.additional.count {
            if s.plan.additional[i].zone == zi && s.plan.additional[i].rrset == r { return }
            i += 1
        }
        i = 0
        while i < s.plan.answer.count {
            if s.plan.answer[i].zone == zi && s.plan.answer[i].rrset == r { return }
            i += 1
        }
        _ = addSigned(&s.plan.additional, PlanEntry(zone: zi, rrset: r, owner: t, defines: -1,
                                                    kind: PlanEntry.normal, required: required),
                      zone: z, node: t, dnssec: dnssec)
    }
}
