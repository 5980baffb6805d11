// The authoritative answer: RFC 1034 §4.3.2 as NSD's query.c does it (answer_delegation,
// answer_nodata, answer_nxdomain, answer_authoritative), with RFC 2181, RFC 4592
// (wildcards), RFC 6672 (DNAME), RFC 8482 (ANY), RFC 4035 §3.1.4.1 (DS at a cut); with the
// DO bit, NSEC (RFC 4035 §3.1.3) or NSEC3 (RFC 5155 §7.2) denial proofs.
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
        chain.append(ChainName(start: 0, length: Int32(qname.count), literalPrefix: nil, tail: nil))
    }

    /// Lower-cases chain name `index` into `key`, records its label offsets and the hash
    /// of every suffix (`suffixHashes[j]` is the hash of the name without its first j
    /// labels). Returns the number of labels.
    @inline(__always)
    mutating func loadKey(chain index: Int) -> Int {
        let c = chain[index]
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
        let hashKey = self.hashKey
        key.withUnsafeBufferPointer { dst in
            labelOffsets.withUnsafeBufferPointer { offs in
                suffixHashes.withUnsafeMutableBufferPointer { hashes in
                    var h: UInt32 = 0
                    var j = labels
                    while j >= 0 {
                        let o = offs[j]
                        h = labelHash(hashKey, parent: h, dst.baseAddress! + o, 1 + Int(dst[o]))
                        hashes[j] = h
                        j -= 1
                    }
                }
            }
        }
        return labels
    }

    /// Appends a chain name made of `prefix` octets of chain name `index` followed by name
    /// `tail` of `zone` (case as stored). Returns false when it is too long (RFC 6672 §2.2).
    @inline(__always)
    mutating func appendChain(prefixOf index: Int, prefix: Int, zone: Zone, zoneIndex: ZoneIndex, tail: NameIndex) -> Bool {
        let e = zone[name: tail]
        guard prefix + Int(e.length) <= DNSName.maxWireLength else { return false }
        guard !chain.isFull else { return false }
        let start = chainBytes.count
        let from = Int(chain[index].start)
        var i = 0
        while i < prefix { chainBytes.append(chainBytes[from + i]); i += 1 }
        chainBytes.append(UnsafeRawBufferPointer(start: zone.caseAddress(e), count: Int(e.length)))
        chain.append(ChainName(start: Int32(start), length: Int32(prefix + Int(e.length)),
                               literalPrefix: prefix > 0 ? Int32(prefix) : nil, tail: (zoneIndex, tail)))
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
    /// (RFC 4035 §3.1.4.1: DS lives on the parent side of the cut). Returns the zone and
    /// the origin's label count, or nil.
    @inline(__always)
    func locateZone(labels: Int, qtype: UInt16, scratch: inout AnswerScratch) -> (zone: ZoneIndex, originLabels: Int)? {
        var found: ZoneIndex? = nil
        var foundLabels = 0
        scratch.key.withUnsafeBytes { key in
            scratch.labelOffsets.withUnsafeBufferPointer { offs in
                scratch.suffixHashes.withUnsafeBufferPointer { hashes in
                    var c = labels
                    let end = offs[labels] + 1
                    while c >= 0 {
                        if hasOrigin(withLabels: c) {
                            let j = labels - c
                            if let z = zoneIndex(origin: UnsafeRawBufferPointer(rebasing: key[offs[j]..<end]), hash: hashes[j]) {
                                found = z
                                foundLabels = c
                                if qtype != RRType.ds.rawValue || c < labels { return }
                                // DS at this apex: the parent zone answers when we hold it.
                                var p = c - 1
                                while p >= 0 {
                                    if hasOrigin(withLabels: p) {
                                        let jp = labels - p
                                        if let zp = zoneIndex(origin: UnsafeRawBufferPointer(rebasing: key[offs[jp]..<end]),
                                                              hash: hashes[jp]) {
                                            found = zp
                                            foundLabels = p
                                            return
                                        }
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
        return found.map { ($0, foundLabels) }
    }

    /// The closest encloser of the name in `scratch.key` within `zone`: the longest
    /// suffix that exists (RFC 4592 §3.3.1). Returns its index and label count.
    @inline(__always)
    func closestEncloser(in zone: Zone, labels: Int, originLabels: Int,
                         scratch: inout AnswerScratch) -> (name: NameIndex, labels: Int) {
        var result = (name: zone.apex, labels: originLabels)
        scratch.key.withUnsafeBytes { key in
            scratch.labelOffsets.withUnsafeBufferPointer { offs in
                scratch.suffixHashes.withUnsafeBufferPointer { hashes in
                    let end = offs[labels] + 1
                    var c = labels
                    while c > originLabels {
                        let j = labels - c
                        if let n = zone.find(UnsafeRawBufferPointer(rebasing: key[offs[j]..<end]), hash: hashes[j]),
                           zone[name: n].has(.exists) {
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
    /// prove denials (RFC 4035 §3.1), or NSEC3 records in NSEC3 zones (RFC 5155 §7.2).
    func buildPlan(qtype: UInt16, dnssec: Bool, scratch: inout AnswerScratch) {
        scratch.plan.reset()
        var link = 0  // the chain name being answered: the query name, then CNAME/DNAME targets
        while true {
            let labels = scratch.loadKey(chain: link)
            guard let (zoneIndex, originLabels) = locateZone(labels: labels, qtype: qtype, scratch: &scratch) else {
                // Not ours. For the query name: REFUSED, no AA (as NSD and Knot). For a
                // CNAME target: the chain so far is the answer.
                if link == 0 {
                    scratch.plan.refused = true
                    scratch.plan.rcode = RCode.refused.rawValue
                }
                return
            }
            let zone = self[zone: zoneIndex]
            if zone.isExpired {
                // RFC 1034 §4.3.5: an expired secondary zone is no longer answered for;
                // SERVFAIL as Knot and BIND. A CNAME chain into it ends here.
                if link == 0 {
                    scratch.plan.refused = true
                    scratch.plan.rcode = RCode.servFail.rawValue
                }
                return
            }
            let (encloser, encloserLabels) = closestEncloser(in: zone, labels: labels, originLabels: originLabels,
                                                             scratch: &scratch)
            if link == 0 {
                scratch.plan.firstZone = zoneIndex
                scratch.plan.firstEncloser = encloser
                scratch.plan.authoritative = true
            }
            let e = zone[name: encloser]
            let exact = encloserLabels == labels
            let ds = qtype == RRType.ds.rawValue

            // RFC 1034 §4.3.2 step 3b: a cut (or a DNAME, RFC 6672 §2.3) above the name wins.
            var cut: NameIndex? = nil
            var dname: NameIndex? = nil
            let occluder = zone.occluder(of: encloser)
            if !occluder.isNone {
                if zone[name: occluder].has(.delegation) { cut = occluder } else { dname = occluder }
            } else if !exact {
                if e.has(.delegation) { cut = encloser } else if e.has(.hasDNAME) { dname = encloser }
            } else if e.has(.delegation) && !ds {
                // RFC 4035 §3.1.4.1: DS at a cut is answered from the parent side, authoritatively.
                cut = encloser
            }

            if let cut {
                referral(zone: zone, zoneIndex, cut: cut, labels: labels, dnssec: dnssec, scratch: &scratch)
                if link == 0 { scratch.plan.authoritative = false }
                return
            }

            if let dname {
                // RFC 6672 §2.3 / §3.1: the DNAME, then a CNAME synthesized with its TTL.
                guard let dnameSet = zone.rrset(at: dname, type: RRType.dname.rawValue),
                      addSigned(&scratch.plan.answer, PlanEntry(zone: zoneIndex, rrset: dnameSet, owner: .name(dname)),
                                zone: zone, node: dname, dnssec: dnssec) else { return }
                let target = zone.recordEntries[Int(zone[rrset: dnameSet].recordStart)].target
                let prefix = Int(scratch.chain[link].length) - Int(zone[name: dname].length)
                guard scratch.chain.count <= AnswerScratch.maxChain else { return }
                guard scratch.appendChain(prefixOf: link, prefix: prefix, zone: zone, zoneIndex: zoneIndex, tail: target) else {
                    // RFC 6672 §2.2: the substituted name does not fit in 255 octets.
                    scratch.plan.rcode = RCode.yxDomain.rawValue
                    return
                }
                guard addEntry(&scratch.plan.answer, PlanEntry(zone: zoneIndex, rrset: dnameSet, owner: .chain(link),
                                                               defines: link + 1, kind: .synthesizedCNAME)) else { return }
                // A CNAME query is answered by the synthesized CNAME itself (as NSD and Knot).
                if qtype == RRType.cname.rawValue || scratch.lastChainRepeats() { return }
                link += 1
                continue
            }

            // RFC 4592 §3.3.1: no exact match and no cut: the source of synthesis is `*.<closest encloser>`.
            let node = exact ? encloser : e.wildcardChild
            if node.isNone {
                scratch.plan.rcode = RCode.nxDomain.rawValue
                _ = addSigned(&scratch.plan.authority,
                              PlanEntry(zone: zoneIndex, rrset: zone.negativeSOARRSet, owner: .name(zone.apex)),
                              zone: zone, node: zone.apex, dnssec: dnssec)
                if dnssec {
                    if !zone.nsec3.isEmpty {
                        // RFC 5155 §7.2.2: the closest encloser proof, and no wildcard at the encloser.
                        let provable = addClosestEncloserProof(zone: zone, zoneIndex, labels: labels,
                                                               nameLabels: encloserLabels + 1, scratch: &scratch)
                        addNSEC3(zone: zone, zoneIndex, labels: labels, suffixLabels: provable, wildcard: true,
                                 matching: false, scratch: &scratch)
                    } else {
                        // RFC 4035 §3.1.3.2: no such name, and no wildcard that could have matched.
                        addCoveringNSEC(zone: zone, zoneIndex, labels: labels, wildcardAt: encloserLabels, scratch: &scratch)
                    }
                }
                return
            }
            let ne = zone[name: node]
            let owner = PlanOwner.chain(link)  // exact or synthesized: the owner is the name asked for
            if !exact && link == 0 { scratch.plan.wildcardZone = zoneIndex }  // for RRL: answers from `*` share a bucket
            if dnssec && !exact {
                if !zone.nsec3.isEmpty {
                    // RFC 5155 §7.2.6: the NSEC3 covering the next closer name.
                    addNSEC3(zone: zone, zoneIndex, labels: labels, suffixLabels: encloserLabels + 1, wildcard: false,
                             matching: false, scratch: &scratch)
                } else {
                    // RFC 4035 §3.1.3.3: a wildcard answer proves the query name does not exist.
                    addCoveringNSEC(zone: zone, zoneIndex, labels: labels, wildcardAt: nil, scratch: &scratch)
                }
            }
            if qtype == RRType.any.rawValue {
                // RFC 8482 §4.2: one RRset. Knot gives the node's first (lowest type); so do we.
                if ne.rrsetCount > 0 {
                    let first = ne.rrsetStart
                    _ = addSigned(&scratch.plan.answer, PlanEntry(zone: zoneIndex, rrset: first, owner: owner),
                                  zone: zone, node: node, dnssec: dnssec)
                    addAdditional(zone: zone, zoneIndex, rrset: first, dnssec: dnssec, scratch: &scratch)
                    return
                }
            } else {
                if let found = zone.rrset(at: node, type: qtype) {
                    _ = addSigned(&scratch.plan.answer, PlanEntry(zone: zoneIndex, rrset: found, owner: owner),
                                  zone: zone, node: node, dnssec: dnssec)
                    addAdditional(zone: zone, zoneIndex, rrset: found, dnssec: dnssec, scratch: &scratch)
                    if zoneIndex != scratch.plan.firstZone { addApexNS(zone: zone, zoneIndex, dnssec: dnssec, scratch: &scratch) }
                    return
                }
                if ne.has(.hasCNAME), let cname = zone.rrset(at: node, type: RRType.cname.rawValue) {
                    // RFC 1034 §4.3.2 step 3a: the CNAME, then restart at its target.
                    guard addSigned(&scratch.plan.answer,
                                    PlanEntry(zone: zoneIndex, rrset: cname, owner: owner, defines: link + 1),
                                    zone: zone, node: node, dnssec: dnssec) else { return }
                    let target = zone.recordEntries[Int(zone[rrset: cname].recordStart)].target
                    guard scratch.chain.count <= AnswerScratch.maxChain,
                          scratch.appendChain(prefixOf: link, prefix: 0, zone: zone, zoneIndex: zoneIndex, tail: target),
                          !scratch.lastChainRepeats() else { return }
                    link += 1
                    continue
                }
            }
            // NODATA (RFC 2308 §2.2): NOERROR, SOA in authority.
            _ = addSigned(&scratch.plan.authority,
                          PlanEntry(zone: zoneIndex, rrset: zone.negativeSOARRSet, owner: .name(zone.apex)),
                          zone: zone, node: zone.apex, dnssec: dnssec)
            if dnssec && !zone.nsec3.isEmpty {
                if exact {
                    // RFC 5155 §7.2.3 (an empty non-terminal too), §7.2.4 for DS: the matching
                    // NSEC3; without one (opt-out), the closest provable encloser proof.
                    addMatchingOrProvableNSEC3(zone: zone, zoneIndex, labels: labels, nameLabels: labels, scratch: &scratch)
                } else {
                    // RFC 5155 §7.2.5: the NSEC3 matching the wildcard, beside the covering one
                    // of the next closer name (added above) and the closest encloser's.
                    addMatchingOrProvableNSEC3(zone: zone, zoneIndex, labels: labels, nameLabels: encloserLabels,
                                               scratch: &scratch)
                    addNSEC3(zone: zone, zoneIndex, labels: labels, suffixLabels: encloserLabels, wildcard: true,
                             matching: true, scratch: &scratch)
                }
            } else if dnssec {
                // RFC 4035 §3.1.3.1 / §3.1.3.4: the NSEC at the name (or at the wildcard, beside the
                // proof that the name does not exist); an empty non-terminal's covering NSEC.
                if let nsec = zone.rrset(at: node, type: RRType.nsec.rawValue) {
                    addNSEC(zone: zone, zoneIndex, rrset: nsec, owner: node, scratch: &scratch)
                } else if exact {
                    addCoveringNSEC(zone: zone, zoneIndex, labels: labels, wildcardAt: nil, scratch: &scratch)
                }
            }
            return
        }
    }

    /// A chain that ended with data in another zone than it started: that zone's NS RRset
    /// in authority, as NSD does (its answers are not minimal; Knot does not follow the
    /// chain out of the first zone at all). In-zone answers stay minimal, as Knot's.
    func addApexNS(zone: Zone, _ zoneIndex: ZoneIndex, dnssec: Bool, scratch: inout AnswerScratch) {
        guard let ns = zone.rrset(at: zone.apex, type: RRType.ns.rawValue) else { return }
        _ = addSigned(&scratch.plan.authority, PlanEntry(zone: zoneIndex, rrset: ns, owner: .name(zone.apex)),
                      zone: zone, node: zone.apex, dnssec: dnssec)
        addAdditional(zone: zone, zoneIndex, rrset: ns, dnssec: dnssec, scratch: &scratch)
    }

    /// Adds an RRset and, with DNSSEC, its signatures (RFC 4035 §3.1.1).
    @inline(__always)
    func addSigned(_ list: inout FixedList<PlanEntry>, _ entry: PlanEntry, zone: Zone, node: NameIndex,
                   dnssec: Bool) -> Bool {
        guard addEntry(&list, entry) else { return false }
        if dnssec {
            let signature = entry.rrset == zone.negativeSOARRSet
                ? (zone.negativeSOASignature.isNone ? nil : zone.negativeSOASignature)
                : zone.signature(at: node, covering: zone[rrset: entry.rrset].type)
            if let signature {
                _ = addEntry(&list, PlanEntry(zone: entry.zone, rrset: signature, owner: entry.owner,
                                              required: entry.required))
            }
        }
        return true
    }

    /// Adds an NSEC RRset (and its signatures) to the authority section unless it is there.
    @inline(__always)
    func addNSEC(zone: Zone, _ zoneIndex: ZoneIndex, rrset: RRSetIndex, owner: NameIndex, scratch: inout AnswerScratch) {
        for i in 0..<scratch.plan.authority.count {
            let e = scratch.plan.authority[i]
            if e.zone == zoneIndex && e.rrset == rrset { return }
        }
        _ = addSigned(&scratch.plan.authority, PlanEntry(zone: zoneIndex, rrset: rrset, owner: .name(owner)),
                      zone: zone, node: owner, dnssec: true)
    }

    /// Adds the NSEC covering the name in `scratch.key` and, when `wildcardAt` is given, the
    /// one covering the wildcard `*.<the suffix with wildcardAt labels>` (RFC 4035 §3.1.3.2).
    func addCoveringNSEC(zone: Zone, _ zoneIndex: ZoneIndex, labels: Int, wildcardAt: Int?, scratch: inout AnswerScratch) {
        guard !zone.nsecNodes.isEmpty else { return }
        var wildcardLength: Int? = nil
        var length = 0
        scratch.key.withUnsafeBufferPointer { key in
            scratch.labelOffsets.withUnsafeBufferPointer { offs in
                scratch.canon.withUnsafeMutableBufferPointer { canon in
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
        if let covering = scratch.canon.withUnsafeBytes({ zone.coveringNSEC(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }),
           let nsec = zone.rrset(at: covering, type: RRType.nsec.rawValue) {
            addNSEC(zone: zone, zoneIndex, rrset: nsec, owner: covering, scratch: &scratch)
        }
        if let wildcardLength {
            scratch.canon[wildcardLength] = UInt8(ascii: "*")
            scratch.canon[wildcardLength + 1] = 0
            if let covering = scratch.canon.withUnsafeBytes({
                zone.coveringNSEC(UnsafeRawBufferPointer(rebasing: $0[0..<(wildcardLength + 2)]))
            }), let nsec = zone.rrset(at: covering, type: RRType.nsec.rawValue) {
                addNSEC(zone: zone, zoneIndex, rrset: nsec, owner: covering, scratch: &scratch)
            }
        }
    }

    /// Adds the NSEC3 that matches (`matching`) or covers the hash of the name made of the
    /// last `suffixLabels` of the `labels` labels in `scratch.key`, `*.` in front with
    /// `wildcard` (RFC 5155 §7.2.1). Returns false, adding nothing, when none matches.
    @discardableResult
    func addNSEC3(zone: Zone, _ zoneIndex: ZoneIndex, labels: Int, suffixLabels: Int, wildcard: Bool, matching: Bool,
                  scratch: inout AnswerScratch) -> Bool {
        let chain = zone.nsec3
        scratch.key.withUnsafeBytes { key in
            scratch.labelOffsets.withUnsafeBufferPointer { offs in
                scratch.nsec3Work.withUnsafeMutableBufferPointer { work in
                    scratch.nsec3Schedule.withUnsafeMutableBufferPointer { schedule in
                        scratch.nsec3Digest.withUnsafeMutableBufferPointer { digest in
                            chain.salt.withUnsafeBytes { salt in
                                let name = UnsafeRawBufferPointer(rebasing: key[offs[labels - suffixLabels]...offs[labels]])
                                NSEC3Hash.hash(name: name, wildcard: wildcard, salt: salt, iterations: chain.iterations,
                                               work: work.baseAddress!, schedule: schedule.baseAddress!,
                                               out: digest.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        let (node, matches) = scratch.nsec3Digest.withUnsafeBufferPointer { chain.find($0.baseAddress!) }
        if matching && !matches { return false }
        if let nsec3 = zone.rrset(at: node, type: RRType.nsec3.rawValue) {
            addNSEC(zone: zone, zoneIndex, rrset: nsec3, owner: node, scratch: &scratch)
        }
        return true
    }

    /// RFC 5155 §7.2.1: the closest provable encloser proof for the name of `nameLabels`
    /// labels (a suffix of the name in `scratch.key`): the NSEC3 matching its nearest
    /// ancestor that has one, and the NSEC3 covering the next closer name below it.
    /// Returns the closest provable encloser's label count.
    @discardableResult
    func addClosestEncloserProof(zone: Zone, _ zoneIndex: ZoneIndex, labels: Int, nameLabels: Int,
                                 scratch: inout AnswerScratch) -> Int {
        var c = nameLabels - 1
        while c > zone.originLabelCount {
            if addNSEC3(zone: zone, zoneIndex, labels: labels, suffixLabels: c, wildcard: false, matching: true,
                        scratch: &scratch) { break }
            c -= 1
        }
        if c == zone.originLabelCount {
            // The apex: its NSEC3 (if the chain lacks it, the covering one is all there is).
            addNSEC3(zone: zone, zoneIndex, labels: labels, suffixLabels: c, wildcard: false, matching: false,
                     scratch: &scratch)
        }
        addNSEC3(zone: zone, zoneIndex, labels: labels, suffixLabels: c + 1, wildcard: false, matching: false,
                 scratch: &scratch)
        return c
    }

    /// The NSEC3 matching the name of `nameLabels` labels (a suffix of the name in
    /// `scratch.key`), or when it has none (under opt-out, RFC 5155 §6, §7.2.4, §7.2.7)
    /// the closest provable encloser proof.
    func addMatchingOrProvableNSEC3(zone: Zone, _ zoneIndex: ZoneIndex, labels: Int, nameLabels: Int,
                                    scratch: inout AnswerScratch) {
        if addNSEC3(zone: zone, zoneIndex, labels: labels, suffixLabels: nameLabels, wildcard: false, matching: true,
                    scratch: &scratch) { return }
        addClosestEncloserProof(zone: zone, zoneIndex, labels: labels, nameLabels: nameLabels, scratch: &scratch)
    }

    @inline(__always)
    func addEntry(_ list: inout FixedList<PlanEntry>, _ entry: PlanEntry) -> Bool {
        guard !list.isFull, !entry.rrset.isNone else { return false }
        list.append(entry)
        return true
    }

    /// A referral (RFC 1034 §4.3.2 step 3b): the cut's NS RRset in authority, addresses of
    /// its name servers from this zone in additional; glue below the cut must fit (RFC 9471).
    /// `labels` is the label count of the name in `scratch.key`, below or at the cut.
    func referral(zone: Zone, _ zoneIndex: ZoneIndex, cut: NameIndex, labels: Int, dnssec: Bool,
                  scratch: inout AnswerScratch) {
        guard let ns = zone.rrset(at: cut, type: RRType.ns.rawValue),
              addEntry(&scratch.plan.authority, PlanEntry(zone: zoneIndex, rrset: ns, owner: .name(cut))) else { return }
        if dnssec && zone.isSigned {
            // RFC 4035 §3.1.4 (signed zones only): the signed DS of a secure delegation, or the
            // NSEC proving there is none; RFC 5155 §7.2.7: the NSEC3 matching the cut, or with
            // opt-out the closest provable encloser proof.
            if let ds = zone.rrset(at: cut, type: RRType.ds.rawValue) {
                _ = addSigned(&scratch.plan.authority, PlanEntry(zone: zoneIndex, rrset: ds, owner: .name(cut)),
                              zone: zone, node: cut, dnssec: true)
            } else if !zone.nsec3.isEmpty {
                addMatchingOrProvableNSEC3(zone: zone, zoneIndex, labels: labels,
                                           nameLabels: Int(zone[name: cut].labelCount), scratch: &scratch)
            } else if let nsec = zone.rrset(at: cut, type: RRType.nsec.rawValue) {
                addNSEC(zone: zone, zoneIndex, rrset: nsec, owner: cut, scratch: &scratch)
            }
        }
        let set = zone[rrset: ns]
        var i = set.recordStart
        while i < set.recordStart + set.recordCount {
            let target = zone.recordEntries[Int(i)].target
            i += 1
            guard !target.isNone else { continue }
            let te = zone[name: target]
            guard te.has(.exists) else { continue }
            // Addresses below other cuts are glue too (sibling glue): NSD and Knot add them.
            addAddresses(zone: zone, zoneIndex, name: target, required: target == cut || zone.occluder(of: target) == cut,
                         dnssec: dnssec, scratch: &scratch)
        }
    }

    /// Additional-section processing (RFC 1035 §3.3.2, §3.3.9, §3.3.11; RFC 2782): A and
    /// AAAA of NS, MX and SRV targets that this zone holds (not from other zones: as peers);
    /// SVCB and HTTPS (RFC 9460 §4.2) in AdditionalSection.swift.
    @inline(__always)
    func addAdditional(zone: Zone, _ zoneIndex: ZoneIndex, rrset: RRSetIndex, dnssec: Bool, scratch: inout AnswerScratch) {
        let set = zone[rrset: rrset]
        switch set.type {
        case RRType.ns.rawValue, RRType.mx.rawValue, RRType.srv.rawValue: break
        case RRType.svcb.rawValue, RRType.https.rawValue:
            addServiceAdditional(zone: zone, zoneIndex, rrset: rrset, dnssec: dnssec, scratch: &scratch)
            return
        default: return
        }
        var i = set.recordStart
        while i < set.recordStart + set.recordCount {
            let target = zone.recordEntries[Int(i)].target
            i += 1
            // Any address the zone holds, glue included, as NSD and Knot do.
            guard !target.isNone, zone[name: target].has(.exists) else { continue }
            addAddresses(zone: zone, zoneIndex, name: target, required: false, dnssec: dnssec, scratch: &scratch)
        }
    }

    @inline(__always)
    func addAddresses(zone: Zone, _ zoneIndex: ZoneIndex, name: NameIndex, required: Bool, dnssec: Bool,
                      scratch: inout AnswerScratch) {
        addAddress(zone: zone, zoneIndex, name: name, type: RRType.a.rawValue, required: required, dnssec: dnssec,
                   scratch: &scratch)
        addAddress(zone: zone, zoneIndex, name: name, type: RRType.aaaa.rawValue, required: required, dnssec: dnssec,
                   scratch: &scratch)
    }

    @inline(__always)
    func addAddress(zone: Zone, _ zoneIndex: ZoneIndex, name: NameIndex, type: UInt16, required: Bool, dnssec: Bool,
                    scratch: inout AnswerScratch) {
        guard let rrset = zone.rrset(at: name, type: type) else { return }
        // Index loops: an unoptimized build runs `for e in array` through the generic
        // IndexingIterator, whose read coroutine allocates its frame.
        var i = 0
        while i < scratch.plan.additional.count {
            if scratch.plan.additional[i].zone == zoneIndex && scratch.plan.additional[i].rrset == rrset { return }
            i += 1
        }
        i = 0
        while i < scratch.plan.answer.count {
            if scratch.plan.answer[i].zone == zoneIndex && scratch.plan.answer[i].rrset == rrset { return }
            i += 1
        }
        _ = addSigned(&scratch.plan.additional,
                      PlanEntry(zone: zoneIndex, rrset: rrset, owner: .name(name), required: required),
                      zone: zone, node: name, dnssec: dnssec)
    }
}
