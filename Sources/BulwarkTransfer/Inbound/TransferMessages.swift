// The messages of a transfer in: the queries we send (SOA, AXFR, IXFR) and the
// responses we read, parsed strictly. Every byte from a primary is hostile too.
import BulwarkWire

/// The SOA fields a secondary needs (RFC 1035 §3.3.13).
public struct SOAFields: Sendable, Equatable {
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    /// Reads the five 32-bit fields after MNAME and RNAME of uncompressed SOA rdata.
    public init(rdata: [UInt8]) throws(TransferError) {
        let r = rdata.withUnsafeBytes { buf in
            Result { () throws(WireError) -> [UInt32] in
                var reader = WireReader(buf)
                _ = try reader.readUncompressedName()
                _ = try reader.readUncompressedName()
                var v: [UInt32] = []
                for _ in 0..<5 { v.append(try reader.readU32()) }
                guard reader.isAtEnd else { throw .trailingData }
                return v
            }
        }
        guard case .success(let v) = r else { throw .malformed("SOA record data is malformed") }
        (serial, refresh, retry, expire, minimum) = (v[0], v[1], v[2], v[3], v[4])
    }

    public init(record: ResourceRecord) throws(TransferError) {
        try self.init(rdata: record.rdata)
    }
}

/// Builds the queries a secondary sends.
public enum TransferQuery {
    /// A query for `qtype` at `zone` (class IN), no RD. For IXFR, `ixfrSOA` is our
    /// current SOA, sent in the authority section (RFC 1995 §3).
    public static func make(id: UInt16, zone: DNSName, qtype: RRType, ixfrSOA: ResourceRecord? = nil) -> [UInt8] {
        var w = WireWriter(capacity: 64 + (ixfrSOA?.rdata.count ?? 0))
        w.writeU16(id)
        w.writeU16(0)  // QUERY, no flags
        w.writeU16(1)
        w.writeU16(0)
        w.writeU16(ixfrSOA == nil ? 0 : 1)
        w.writeU16(0)
        w.writeName(zone)
        w.writeU16(qtype.rawValue)
        w.writeU16(RRClass.in.rawValue)
        if let soa = ixfrSOA {
            w.writeName(zone)
            w.writeU16(RRType.soa.rawValue)
            w.writeU16(RRClass.in.rawValue)
            w.writeU32(soa.ttl)
            w.writeU16(UInt16(soa.rdata.count))
            w.writeBytes(soa.rdata)
        }
        return w.bytes
    }
}

/// One response message of a transfer, checked against the query it answers.
public struct TransferResponse: Sendable {
    public var id: UInt16
    public var flags: UInt16
    public var rcode: RCode
    /// The answer section's records, names decompressed.
    public var answers: [ResourceRecord]
    /// Whether the additional section held a TSIG record (checked by the TSIG layer).
    public var hasTSIG: Bool

    public var authoritative: Bool { flags & HeaderFlags.aa != 0 }

    /// Parses `message` as a response to a query with `id` for `zone`/`qtype`.
    /// `first`: the first message of the response must echo the question; later ones
    /// may carry it or not (RFC 5936 §2.2.1). Rejects anything malformed.
    public init(parsing message: [UInt8], id expectedID: UInt16, zone: DNSName, qtype: RRType, first: Bool) throws(TransferError) {
        let r = message.withUnsafeBytes { buf in
            Result { () throws(TransferError) -> TransferResponse in
                try TransferResponse.parse(buf, expectedID, zone, qtype, first)
            }
        }
        self = try r.get()
    }

    private init(id: UInt16, flags: UInt16, rcode: RCode, answers: [ResourceRecord], hasTSIG: Bool) {
        self.id = id
        self.flags = flags
        self.rcode = rcode
        self.answers = answers
        self.hasTSIG = hasTSIG
    }

    private static func parse(_ buf: UnsafeRawBufferPointer, _ expectedID: UInt16, _ zone: DNSName,
                              _ qtype: RRType, _ first: Bool) throws(TransferError) -> TransferResponse {
        var reader = WireReader(buf)
        guard buf.count >= 12 else { throw .malformed("message shorter than a header (\(buf.count) octets)") }
        let id = UInt16(buf[0]) << 8 | UInt16(buf[1]), flags = UInt16(buf[2]) << 8 | UInt16(buf[3])
        let qd = UInt16(buf[4]) << 8 | UInt16(buf[5]), an = UInt16(buf[6]) << 8 | UInt16(buf[7])
        let ns = UInt16(buf[8]) << 8 | UInt16(buf[9]), ar = UInt16(buf[10]) << 8 | UInt16(buf[11])
        reader.offset = 12
        guard id == expectedID else { throw .malformed("response ID \(id) does not match the query's \(expectedID)") }
        guard flags & HeaderFlags.qr != 0 else { throw .malformed("QR is not set") }
        guard (flags & HeaderFlags.opcodeMask) == 0 else { throw .malformed("opcode is not QUERY") }
        // RFC 5936 §2.2.1 / RFC 7766: a TCP response is never truncated.
        guard flags & HeaderFlags.tc == 0 else { throw .malformed("TC set on a TCP response") }
        guard qd <= 1 else { throw .malformed("QDCOUNT \(qd)") }
        if first && qd != 1 {
            // An error response may come without the question (RFC 5936 §2.2.1 item 3).
            guard flags & HeaderFlags.rcodeMask != 0 else { throw .malformed("the first message has no question") }
        }
        if qd == 1 {
            let qname: DNSName, t: UInt16, c: UInt16
            do {
                qname = try reader.readName()
                t = try reader.readU16()
                c = try reader.readU16()
            } catch {
                throw .malformed("question: \(error)")
            }
            guard qname == zone, t == qtype.rawValue, c == RRClass.in.rawValue else {
                throw .malformed("the question (\(qname) \(RRType(t)) class \(c)) is not the one asked")
            }
        }
        var rcode = RCode(flags & HeaderFlags.rcodeMask)
        var answers: [ResourceRecord] = []
        answers.reserveCapacity(Int(an))
        for i in 0..<Int(an) {
            let rr = try record(&reader, "answer record \(i + 1)")
            guard !rr.type.isMetaType else {
                throw .malformed("answer record \(i + 1) has meta type \(rr.type)")
            }
            guard rr.rrClass == RRClass.in else { throw .malformed("answer record \(i + 1) (\(rr.owner) \(rr.type)) has class \(rr.rrClass.rawValue), not IN") }
            answers.append(rr)
        }
        // RFC 5936 §2.2.1: the authority section of a transfer response is empty; a
        // SOA response may carry NS records there (ignored).
        for i in 0..<Int(ns) { _ = try record(&reader, "authority record \(i + 1)") }
        var hasTSIG = false
        for i in 0..<Int(ar) {
            let rr = try record(&reader, "additional record \(i + 1)")
            if rr.type == RRType.tsig {
                // RFC 8945 §5.1: TSIG is the last record of the message.
                guard i == Int(ar) - 1 else { throw .malformed("TSIG is not the last record") }
                hasTSIG = true
            } else if rr.type == RRType.opt {
                // RFC 6891 §6.1.3: the extended rcode's upper 8 bits are in the OPT TTL.
                rcode = RCode(rcode.rawValue | UInt16(rr.ttl >> 24) << 4)
            }
        }
        guard reader.isAtEnd else { throw .malformed("\(reader.remaining) octets after the last record") }
        return TransferResponse(id: id, flags: flags, rcode: rcode, answers: answers, hasTSIG: hasTSIG)
    }

    private static func record(_ reader: inout WireReader, _ what: String) throws(TransferError) -> ResourceRecord {
        do {
            let owner = try reader.readName()
            let type = RRType(try reader.readU16())
            let cls = RRClass(try reader.readU16())
            let ttl = try reader.readU32()
            let length = Int(try reader.readU16())
            let rdata: [UInt8]
            if type == .opt || type == .tsig || cls != .in {
                rdata = try reader.readBytes(length)
            } else {
                rdata = try RDataWire.read(type: type, from: &reader, length: length)
            }
            return ResourceRecord(owner: owner, type: type, rrClass: cls, ttl: ttl, rdata: rdata)
        } catch {
            throw .malformed("\(what): \(error)")
        }
    }
}
