// Writes a planned answer into the caller's buffer: header, question copied from the
// query, answer, authority, additional, OPT. Name compression (RFC 1035 §4.1.4) keeps
// where each name of a zone was written in a small per-response table (CompressionTable).
// Truncation (RFC 2181 §9, RFC 1035 §4.2.1) as NSD and Knot: when the answer or
// authority section does not fit, both are dropped and TC is set. The additional section
// is written RRset by RRset from a rollback point (position and compression table): one
// that does not fit is taken back and the next one tried, as NSD does; glue a referral
// needs that does not fit sets TC (RFC 9471 §3).
//
// Bounds: `ZoneSet.respond` checks the buffer once (a precondition, in every build):
// room for the header, the question and an OPT. Every record is written only after
// `reserve` has found room in the buffer for its worst case (an uncompressed owner, the
// stored record, a chain name), so no write can pass the buffer's end, in any build;
// debug builds also check each write against the reservation.
import BulwarkWire
import BulwarkZone

/// The bytes being written and the compression table, as raw pointers for the duration
/// of one response.
struct ResponseWriter {
    let out: UnsafeMutableRawBufferPointer
    var pos: Int
    var names: CompressionTable
    let chainOffsets: UnsafeMutablePointer<Int>
    /// The end of the room `reserve` found: writes stay below it.
    var reserved: Int

    init(out: UnsafeMutableRawBufferPointer, pos: Int, names: CompressionTable, chainOffsets: UnsafeMutablePointer<Int>) {
        self.out = out
        self.pos = pos
        self.names = names
        self.chainOffsets = chainOffsets
        self.reserved = pos
    }

    /// Makes sure `count` octets from `pos` lie inside the buffer; false when they do not
    /// (nothing may be written then).
    @inline(__always)
    mutating func reserve(_ count: Int) -> Bool {
        guard count <= out.count - pos else { return false }
        reserved = pos + count
        return true
    }

    /// Where to come back to if what follows does not fit.
    struct Mark {
        var pos: Int
        var names: Int
    }

    @inline(__always)
    var mark: Mark { Mark(pos: pos, names: names.mark) }

    /// Takes back everything written since `mark`: its octets and the names it recorded
    /// for compression (which would point at octets about to be overwritten).
    @inline(__always)
    mutating func rollback(to mark: Mark) {
        pos = mark.pos
        names.rollback(to: mark.names)
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        assert(pos < reserved)
        out.baseAddress!.storeBytes(of: value, toByteOffset: pos, as: UInt8.self)
        pos += 1
    }

    @inline(__always)
    mutating func copy(_ src: UnsafeRawPointer, _ count: Int) {
        assert(count <= reserved - pos)
        (out.baseAddress! + pos).copyMemory(from: src, byteCount: count)
        pos += count
    }

    @inline(__always)
    mutating func u16(_ value: UInt16, at offset: Int) {
        assert(offset + 2 <= reserved)
        out.baseAddress!.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inline(__always)
    mutating func u32(_ value: UInt32, at offset: Int) {
        assert(offset + 4 <= reserved)
        out.baseAddress!.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    mutating func pointer(to offset: Int) {
        u16(0xC000 | UInt16(offset), at: pos)
        pos += 2
    }

    /// Writes `name` of `zone` (index `zoneIndex`), compressed against the names already
    /// written. Returns an offset where the whole name can be pointed at.
    @inline(__always)
    mutating func writeName(_ zone: Zone, _ zoneIndex: ZoneIndex, _ name: NameIndex) -> Int {
        let start = pos
        var cur = name.value
        while true {
            let e = zone.names[cur]
            if e.length == 1 {
                byte(0)
                return start
            }
            let key = CompressionTable.key(zoneIndex, cur)
            let (written, free) = names.find(key)
            if let target = written {
                pointer(to: target)
                return pos - 2 == start ? target : start
            }
            if pos < 0x4000 { names.record(key, offset: pos, at: free) }
            let label = zone.caseAddress(e)
            copy(label, 1 + Int(label[0]))
            cur = e.parent.value
        }
    }

    /// Records that `name` of `zone` (and its ancestors) appears at `offset`, skipping
    /// `skip` labels first. The name at `offset` is one we wrote (trusted).
    mutating func register(_ zone: Zone, _ zoneIndex: ZoneIndex, _ name: NameIndex, at offset: Int, skip: Int) {
        var p = offset
        var toSkip = skip
        var cur = name.value
        var hops = 0
        while true {
            let len = Int(out[p])
            if len & 0xC0 == 0xC0 {
                p = Int(out.loadU16(at: p) & 0x3FFF)
                hops += 1
                if hops > 127 { return }
                continue
            }
            if len == 0 || p >= 0x4000 { return }
            if toSkip > 0 {
                toSkip -= 1
            } else {
                let e = zone.names[cur]
                if e.length == 1 { return }
                let key = CompressionTable.key(zoneIndex, cur)
                let (written, free) = names.find(key)
                if written == nil { names.record(key, offset: p, at: free) }
                cur = e.parent.value
            }
            p += 1 + len
        }
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func loadU16(at offset: Int) -> UInt16 { UInt16(self[offset]) << 8 | UInt16(self[offset + 1]) }
}

extension ZoneSet {
    /// The least room a response buffer must have: a header, the longest question and an
    /// OPT record, with room to spare for the options appended to it (cookie, EDE).
    public static let minimumResponseCapacity = 512

    /// Writes the complete response for a well-formed QUERY (opcode 0, QDCOUNT 1: already
    /// checked by QueryParser) into `out`, whose capacity must be at least `maxSize` and at
    /// least `minimumResponseCapacity` (checked here, once, in every build; every write
    /// below stays inside it by construction). `maxSize` is the size limit for this
    /// response. Returns the response length.
    public func respond(to query: ParsedQuery, message: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer,
                        maxSize: Int, ourPayloadSize: UInt16, scratch: inout AnswerScratch) -> Int {
        precondition(out.count >= Self.minimumResponseCapacity && out.count >= maxSize,
                     "response buffer smaller than the response size limit")
        let qlen = query.qnameLength
        // Class IN is served, and QCLASS * (RFC 1035 §3.2.5) exactly as IN (as Knot; NSD
        // clears AA); other classes are not ours (NSD and Knot: REFUSED).
        guard query.qclass == .in || query.qclass == .any else {
            return ResponseHeader.writeError(into: out, query: message, rcode: .refused, id: query.id,
                                             queryFlags: query.flags, qnameLength: qlen, edns: query.edns,
                                             ourPayloadSize: ourPayloadSize)
        }
        // Zone transfers belong to the transfer layer. Reaching here they are refused as
        // NSD and Knot do without transfer configuration: AXFR over UDP NOTIMP, IXFR NOTAUTH.
        if query.qtype == .axfr || query.qtype == .ixfr {
            return ResponseHeader.writeError(into: out, query: message, rcode: query.qtype == .axfr ? .notImp : .notAuth,
                                             id: query.id, queryFlags: query.flags, qnameLength: qlen,
                                             edns: query.edns, ourPayloadSize: ourPayloadSize)
        }
        scratch.startChain(UnsafeRawBufferPointer(rebasing: message[12..<(12 + qlen)]))
        buildPlan(qtype: query.qtype.rawValue, dnssec: query.edns?.dnssecOK ?? false, scratch: &scratch)
        orderAdditional(scratch: &scratch)
        if scratch.plan.refused {  // REFUSED, or SERVFAIL for an expired secondary zone
            return ResponseHeader.writeError(into: out, query: message, rcode: RCode(scratch.plan.rcode), id: query.id,
                                             queryFlags: query.flags, qnameLength: qlen, edns: query.edns,
                                             ourPayloadSize: ourPayloadSize)
        }
        return encode(query: query, message: message, into: out, maxSize: maxSize,
                      ourPayloadSize: ourPayloadSize, scratch: &scratch)
    }

    func encode(query: ParsedQuery, message: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer,
                maxSize: Int, ourPayloadSize: UInt16, scratch: inout AnswerScratch) -> Int {
        let stamp = scratch.nextCompressionStamp()
        let questionEnd = query.questionEnd
        out.baseAddress!.advanced(by: 12).copyMemory(from: message.baseAddress!.advanced(by: 12),
                                                     byteCount: questionEnd - 12)
        let optSize = query.edns == nil ? 0 : OPTRecord.baseSize
        let limit = min(maxSize, out.count) - optSize

        // Borrow the scratch arrays as raw pointers for the whole response.
        var written: [CompressionEntry] = []
        var log: [UInt16] = []
        var chainOffsets: [Int] = []
        swap(&written, &scratch.compression)
        swap(&log, &scratch.compressionLog)
        swap(&chainOffsets, &scratch.chainOffsets)
        defer {
            swap(&written, &scratch.compression)
            swap(&log, &scratch.compressionLog)
            swap(&chainOffsets, &scratch.chainOffsets)
        }
        var an = 0, ns = 0, ar = 0
        var tc = false
        var end = questionEnd
        written.withUnsafeMutableBufferPointer { writtenBuf in
          log.withUnsafeMutableBufferPointer { logBuf in
            chainOffsets.withUnsafeMutableBufferPointer { chainBuf in
                var w = ResponseWriter(out: out, pos: questionEnd,
                                       names: CompressionTable(entries: writtenBuf.baseAddress!, log: logBuf.baseAddress!,
                                                               stamp: stamp),
                                       chainOffsets: chainBuf.baseAddress!)
                for i in 0..<chainBuf.count { chainBuf[i] = -1 }
                chainBuf[0] = 12
                // The question name: its closest encloser and ancestors can be pointed at.
                if let first = scratch.plan.firstZone {
                    let zone = self[zone: first]
                    let encloser = zone[name: scratch.plan.firstEncloser]
                    w.register(zone, first, scratch.plan.firstEncloser,
                               at: 12 + query.qnameLength - Int(encloser.length), skip: 0)
                }
                // Index loops: an unoptimized build runs `for e in array` through the
                // generic IndexingIterator, whose read coroutine allocates its frame.
                var ok = true
                var i = 0
                while i < scratch.plan.answer.count {
                    guard let c = writeRRSet(scratch.plan.answer[i], &w, scratch: &scratch), w.pos <= limit else { ok = false; break }
                    an += c
                    i += 1
                }
                i = 0
                while ok && i < scratch.plan.authority.count {
                    guard let c = writeRRSet(scratch.plan.authority[i], &w, scratch: &scratch), w.pos <= limit else { ok = false; break }
                    ns += c
                    i += 1
                }
                if !ok {
                    // RFC 2181 §9: never a partial RRset; like NSD and Knot, an empty answer with TC.
                    tc = true
                    an = 0
                    ns = 0
                    end = questionEnd
                    return
                }
                // The additional section (in the order orderAdditional gave it): an RRset
                // that does not fit is taken back and the next one tried. Its RRSIGs follow
                // it (addSigned) and go with it; RRSIGs alone that do not fit set no TC
                // (RFC 4035 §3.1.1).
                i = 0
                var skipped = false
                while i < scratch.plan.additional.count {
                    let e = scratch.plan.additional[i]
                    i += 1
                    // (The type is looked at only off the common path: after a skip, or
                    // when this entry does not fit.)
                    if skipped && isSignature(e) { continue }
                    let mark = w.mark
                    guard let c = writeRRSet(e, &w, scratch: &scratch), w.pos <= limit else {
                        w.rollback(to: mark)
                        if !isSignature(e) {
                            skipped = true
                            if e.required { tc = true }  // RFC 9471 §3: glue that must fit did not.
                        }
                        continue
                    }
                    skipped = false
                    ar += c
                }
                end = w.pos
            }
          }
        }
        if let edns = query.edns {
            end += OPTRecord.write(into: out, at: end, payloadSize: ourPayloadSize, extendedRCode: 0,
                                   dnssecOK: edns.dnssecOK)
            ar += 1
        }
        var flags = ResponseHeader.flags(forQueryFlags: query.flags, rcode: RCode(scratch.plan.rcode),
                                         authoritative: scratch.plan.authoritative)
        if tc { flags |= HeaderFlags.tc }
        // NSD and Knot do not echo CD (RFC 4035 §3.1.6 would copy it): match them.
        flags &= ~HeaderFlags.cd
        ResponseHeader.write(into: out, id: query.id, flags: flags, qd: 1, an: UInt16(an), ns: UInt16(ns),
                             ar: UInt16(ar))
        return end
    }

    /// True when the entry is RRSIGs (which go with the RRset before them).
    @inline(__always)
    func isSignature(_ e: PlanEntry) -> Bool {
        self[zone: e.zone][rrset: e.rrset].type == RRType.rrsig.rawValue
    }

    /// Writes the records of one plan entry; nil when they would overrun the buffer.
    @inline(__always)
    func writeRRSet(_ entry: PlanEntry, _ writer: inout ResponseWriter, scratch: inout AnswerScratch) -> Int? {
        let z = self[zone: entry.zone]
        let set = z[rrset: entry.rrset]
        var ownerRef = -1
        // The root is one octet, shorter than a pointer to it (as NSD writes it): known
        // for a chain name (the question ".") before, for a zone's name once written.
        var ownerIsRoot = false
        if case .chain(let link) = entry.owner { ownerIsRoot = scratch.chain[link].length == 1 }
        var i = Int(set.recordStart)
        let last = i + Int(set.recordCount)
        if entry.kind == .synthesizedCNAME { i = last - 1 }  // one CNAME, from the DNAME's TTL
        while i < last {
            let rec = z.recordEntries[i]
            i += 1
            // The worst case of what this record writes: an uncompressed owner (255), the
            // stored record (its rdata names at most as long as stored) and, for a
            // synthesized CNAME, its target (255). Every write below stays inside it.
            guard writer.reserve(256 + Int(rec.length) + 256) else { return nil }
            // Owner.
            if ownerIsRoot {
                writer.byte(0)
            } else if ownerRef >= 0 && ownerRef < 0x4000 {
                writer.pointer(to: ownerRef)
            } else {
                switch entry.owner {
                case .name(let name):
                    let start = writer.pos
                    ownerRef = writer.writeName(z, entry.zone, name)
                    ownerIsRoot = writer.pos - start == 1
                case .chain(let link): ownerRef = writeChainName(link, &writer, scratch: &scratch)
                }
            }
            if entry.kind == .synthesizedCNAME, let defines = entry.defines {
                // RFC 6672 §3.1: CNAME, class IN, the DNAME's TTL, the substituted name.
                writer.u16(RRType.cname.rawValue, at: writer.pos)
                writer.u16(RRClass.in.rawValue, at: writer.pos + 2)
                writer.u32(rec.ttl, at: writer.pos + 4)
                let lengthAt = writer.pos + 8
                writer.pos += 10
                let start = writer.pos
                let ref = writeChainName(defines, &writer, scratch: &scratch)
                writer.chainOffsets[defines] = ref
                writer.u16(UInt16(writer.pos - start), at: lengthAt)
                return 1
            }
            let src = UnsafeRawPointer(z.recordAddress(rec))
            if rec.namesCount == 0 {
                writer.copy(src, Int(rec.length))
                continue
            }
            writer.copy(src, 8)
            let lengthAt = writer.pos
            writer.pos += 2
            let rdataStart = writer.pos
            var cursor = 0
            var k = Int(rec.namesStart)
            let namesEnd = k + Int(rec.namesCount)
            while k < namesEnd {
                let rn = z.rdataNames[k]
                k += 1
                let at = Int(rn.rdataOffset)
                if at > cursor { writer.copy(src + 10 + cursor, at - cursor) }
                let ref = writer.writeName(z, entry.zone, rn.name)
                if let defines = entry.defines { writer.chainOffsets[defines] = ref }
                cursor = at + Int(rn.length)
            }
            let rdlength = Int(rec.length) - 10
            if rdlength > cursor { writer.copy(src + 10 + cursor, rdlength - cursor) }
            writer.u16(UInt16(writer.pos - rdataStart), at: lengthAt)
        }
        return Int(set.recordCount)
    }

    /// Writes chain name `link`: a pointer to where it already is, or its octets (a DNAME
    /// substitution: the literal prefix, then the compressed new suffix). Returns an offset
    /// where it can be pointed at.
    @inline(__always)
    func writeChainName(_ link: Int, _ writer: inout ResponseWriter, scratch: inout AnswerScratch) -> Int {
        let at = writer.chainOffsets[link]
        if at >= 0 && at < 0x4000 {
            writer.pointer(to: at)
            return at
        }
        let c = scratch.chain[link]
        let start = writer.pos
        if let prefix = c.literalPrefix, let tail = c.tail {
            scratch.chainBytes.storage.withUnsafeBytes { b in writer.copy(b.baseAddress! + Int(c.start), Int(prefix)) }
            _ = writer.writeName(self[zone: tail.zone], tail.zone, tail.name)
        } else {
            scratch.chainBytes.storage.withUnsafeBytes { b in writer.copy(b.baseAddress! + Int(c.start), Int(c.length)) }
        }
        return start
    }
}
