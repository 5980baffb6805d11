/// Header flag bits in the second 16-bit word (RFC 1035 §4.1.1, RFC 4035 §3.1.6, RFC 6895 §2).
public enum HeaderFlags {
    public static let qr: UInt16 = 0x8000
    public static let aa: UInt16 = 0x0400
    public static let tc: UInt16 = 0x0200
    public static let rd: UInt16 = 0x0100
    public static let ra: UInt16 = 0x0080
    /// The Z bit: reserved, must be zero in responses and is never echoed (RFC 6895 §2).
    public static let z: UInt16 = 0x0040
    public static let ad: UInt16 = 0x0020
    public static let cd: UInt16 = 0x0010
    public static let opcodeMask: UInt16 = 0x7800
    public static let rcodeMask: UInt16 = 0x000F
}

/// What a query said in its OPT pseudo-record (RFC 6891 §6.1.2, §6.1.3).
public struct EDNSRequest: Sendable, Equatable {
    /// Requestor's UDP payload size; values below 512 are treated as 512 (RFC 6891 §6.2.5).
    public var udpPayloadSize: UInt16
    public var version: UInt8
    /// DNSSEC OK (RFC 3225 §3): echoed in the response's OPT.
    public var dnssecOK: Bool
    /// Offset and length in the query of the COOKIE option's data, if any (RFC 7873 §4); -1 when absent.
    public var cookieOffset: Int
    public var cookieLength: Int
    /// The client asked for the server's NSID (RFC 5001).
    public var nsidRequested: Bool

    public init(udpPayloadSize: UInt16, version: UInt8, dnssecOK: Bool) {
        self.udpPayloadSize = udpPayloadSize
        self.version = version
        self.dnssecOK = dnssecOK
        self.cookieOffset = -1
        self.cookieLength = 0
        self.nsidRequested = false
    }
}

/// A query that passed the header and question checks. It refers back into the
/// message it came from: the question name is `message[12 ..< 12 + qnameLength]`
/// (a question name can hold no compression pointer: there is nothing before it
/// but the header, RFC 1035 §4.1.4), in the client's case.
public struct ParsedQuery: Sendable, Equatable {
    public var id: UInt16
    /// The raw second header word of the query.
    public var flags: UInt16
    public var opcode: UInt8 { UInt8((flags & HeaderFlags.opcodeMask) >> 11) }
    public var recursionDesired: Bool { flags & HeaderFlags.rd != 0 }
    public var checkingDisabled: Bool { flags & HeaderFlags.cd != 0 }
    /// Wire length of the question name (including the root octet).
    public var qnameLength: Int
    public var qtype: RRType
    public var qclass: RRClass
    /// Offset just past the question section.
    public var questionEnd: Int { 12 + qnameLength + 4 }
    public var edns: EDNSRequest?
    /// A TSIG record was present (RFC 8945): handled by the transfer layer.
    public var hasTSIG: Bool

    public init(id: UInt16, flags: UInt16, qnameLength: Int, qtype: RRType, qclass: RRClass,
                edns: EDNSRequest? = nil, hasTSIG: Bool = false) {
        self.id = id
        self.flags = flags
        self.qnameLength = qnameLength
        self.qtype = qtype
        self.qclass = qclass
        self.edns = edns
        self.hasTSIG = hasTSIG
    }
}

/// The outcome of reading a query from the wire.
public enum QueryParseResult: Sendable, Equatable {
    /// A well-formed QUERY to be answered.
    case query(ParsedQuery)
    /// Send nothing back (a response, or too short to hold a header).
    case drop
    /// Answer with this error. `question` is the parsed question when it could be read
    /// (so it is echoed), `edns` the parsed OPT when it could be read (so an OPT is sent back).
    case error(RCode, id: UInt16, flags: UInt16, qnameLength: Int, edns: EDNSRequest?)
}

/// Reads queries: decides on the 12-octet header first, then the question, then the
/// additional section (OPT). Allocates nothing.
public enum QueryParser {
    public static func parse(_ message: UnsafeRawBufferPointer) -> QueryParseResult {
        // RFC 1035 §4.1.1: a message shorter than its header cannot be answered.
        guard message.count >= 12 else { return .drop }
        let id = UInt16(message[0]) << 8 | UInt16(message[1])
        let flags = UInt16(message[2]) << 8 | UInt16(message[3])
        // Never answer a response: that is how reflection loops start (RFC 1035 §4.1.1 QR).
        if flags & HeaderFlags.qr != 0 { return .drop }
        let qdcount = UInt16(message[4]) << 8 | UInt16(message[5])
        let ancount = UInt16(message[6]) << 8 | UInt16(message[7])
        let nscount = UInt16(message[8]) << 8 | UInt16(message[9])
        let arcount = UInt16(message[10]) << 8 | UInt16(message[11])
        let opcode = UInt8((flags & HeaderFlags.opcodeMask) >> 11)

        // Read the question when there is exactly one, so even errors echo it.
        var qnameLength = 0
        var qtype = RRType(0), qclass = RRClass(0)
        var reader = WireReader(message, offset: 12)
        var questionOK = false
        if qdcount == 1 {
            if let length = try? questionNameLength(message) {
                qnameLength = length
                reader.offset = 12 + length
                if let t = try? reader.readU16(), let c = try? reader.readU16() {
                    qtype = RRType(t); qclass = RRClass(c)
                    questionOK = true
                }
            }
        }
        // Read the additional section for OPT even on errors, so the error carries an OPT.
        var edns: EDNSRequest? = nil
        var hasTSIG = false
        var recordsOK = questionOK
        if questionOK {
            do throws(WireError) {
                // Answer and authority records are skipped (validated for structure only).
                for _ in 0..<(Int(ancount) + Int(nscount)) { try skipRecord(&reader) }
                for index in 0..<Int(arcount) {
                    let start = reader.offset
                    try reader.skipName()
                    let ownerIsRoot = reader.offset - start == 1
                    let type = try reader.readU16()
                    if type == RRType.opt.rawValue {
                        // RFC 6891 §6.1.1: one OPT at most, owner must be the root.
                        guard edns == nil, ownerIsRoot else { throw .malformed("bad OPT") }
                        edns = try readOPT(&reader)
                    } else if type == RRType.tsig.rawValue {
                        // RFC 8945 §5.1: TSIG must be the last record.
                        guard index == Int(arcount) - 1 else { throw .malformed("TSIG not last") }
                        reader.offset = start
                        try skipRecord(&reader)
                        hasTSIG = true
                    } else {
                        reader.offset = start
                        try skipRecord(&reader)
                    }
                }
            } catch {
                recordsOK = false
            }
        }

        // No local function capturing the `var`s above: unoptimized builds box captured
        // vars on the heap, and the query path allocates nothing in any build.
        let errorQnameLength = questionOK ? qnameLength : 0
        let rcode: RCode
        if opcode != Opcode.query.rawValue {
            // RFC 1035 §4.1.1 / RFC 6895 §2.2: unknown opcodes are not implemented.
            rcode = .notImp
        } else if qdcount != 1 || !questionOK || !recordsOK {
            rcode = .formErr
        } else if ancount != 0 {
            // A query carries no answers (RFC 1035 §4.1.1; NOTIFY and UPDATE are other opcodes).
            rcode = .formErr
        } else if let e = edns, e.version > 0 {
            // RFC 6891 §6.1.3: versions above ours get BADVERS.
            rcode = .badVers
        } else {
            return .query(ParsedQuery(id: id, flags: flags, qnameLength: qnameLength, qtype: qtype,
                                      qclass: qclass, edns: edns, hasTSIG: hasTSIG))
        }
        return .error(rcode, id: id, flags: flags, qnameLength: errorQnameLength, edns: edns)
    }

    /// Length of the question name at offset 12. Only plain labels are allowed there:
    /// a pointer could only point into the header (RFC 1035 §4.1.4).
    @inline(__always)
    static func questionNameLength(_ message: UnsafeRawBufferPointer) throws(WireError) -> Int {
        var pos = 12
        while true {
            guard pos < message.count else { throw .truncated }
            let len = Int(message[pos])
            if len == 0 { break }
            guard len <= 63 else { throw len & 0xC0 == 0xC0 ? .badPointer : .badLabelType }
            pos += 1 + len
            guard pos - 12 < DNSName.maxWireLength else { throw .nameTooLong }
        }
        return pos + 1 - 12
    }

    static func skipRecord(_ reader: inout WireReader) throws(WireError) {
        try reader.skipName()
        try reader.skip(8)  // type, class, TTL
        let rdlength = try reader.readU16()
        try reader.skip(Int(rdlength))
    }

    /// Reads the rest of an OPT record after its type (RFC 6891 §6.1.2).
    static func readOPT(_ reader: inout WireReader) throws(WireError) -> EDNSRequest {
        let payload = try reader.readU16()
        _ = try reader.readU8()  // extended RCODE: meaningless in a query
        let version = try reader.readU8()
        let ednsFlags = try reader.readU16()
        let rdlength = Int(try reader.readU16())
        guard reader.remaining >= rdlength else { throw .truncated }
        var request = EDNSRequest(udpPayloadSize: max(payload, 512), version: version,
                                  dnssecOK: ednsFlags & 0x8000 != 0)
        let end = reader.offset + rdlength
        while reader.offset < end {
            let code = try reader.readU16()
            let length = Int(try reader.readU16())
            guard end - reader.offset >= length else { throw .malformed("EDNS option overruns OPT") }
            switch code {
            case EDNSOption.nsid:
                request.nsidRequested = true
            case EDNSOption.cookie:
                // RFC 7873 §5.2.2: a client cookie alone is 8 octets; with a server cookie 16 to 40.
                guard length == 8 || (length >= 16 && length <= 40) else { throw .malformed("bad COOKIE length") }
                request.cookieOffset = reader.offset
                request.cookieLength = length
            default:
                break  // RFC 6891 §6.1.2: unknown options are ignored (and not echoed).
            }
            reader.offset += length
        }
        return request
    }
}

/// EDNS option codes (IANA "DNS EDNS0 Option Codes").
public enum EDNSOption {
    public static let nsid: UInt16 = 3
    public static let clientSubnet: UInt16 = 8
    public static let expire: UInt16 = 9
    public static let cookie: UInt16 = 10
    public static let tcpKeepalive: UInt16 = 11
    public static let padding: UInt16 = 12
    public static let extendedError: UInt16 = 15
}

/// Writes the fixed parts of responses into a caller's buffer, without allocating.
public enum ResponseHeader {
    /// Response flags for a query's flags: QR set, opcode and RD echoed (RFC 1035 §4.1.1),
    /// AA/TC/RA/AD/CD/Z clear, rcode low 4 bits set. CD is a resolver's business
    /// (RFC 4035 §3.2.2); an authoritative server does not copy it, as NSD and Knot.
    /// RD, AD and CD are defined for QUERY only (RFC 1035 §4.1.1, RFC 4035 §3.2): the
    /// answer to any other opcode (NOTIMP, RFC 6895 §2.2) copies none of them.
    @inline(__always)
    public static func flags(forQueryFlags queryFlags: UInt16, rcode: RCode, authoritative: Bool) -> UInt16 {
        let isQuery = queryFlags & HeaderFlags.opcodeMask == 0
        var f = HeaderFlags.qr | (queryFlags & (HeaderFlags.opcodeMask | (isQuery ? HeaderFlags.rd : 0)))
        if authoritative { f |= HeaderFlags.aa }
        f |= rcode.rawValue & 0x000F
        return f
    }

    @inline(__always)
    public static func write(into out: UnsafeMutableRawBufferPointer, id: UInt16, flags: UInt16,
                             qd: UInt16, an: UInt16, ns: UInt16, ar: UInt16) {
        out.storeU16(id, at: 0); out.storeU16(flags, at: 2)
        out.storeU16(qd, at: 4); out.storeU16(an, at: 6)
        out.storeU16(ns, at: 8); out.storeU16(ar, at: 10)
    }

    /// An error response (FORMERR, NOTIMP, REFUSED, BADVERS...): header, the question
    /// echoed when known, and an OPT when the query had one. Returns its length.
    public static func writeError(
        into out: UnsafeMutableRawBufferPointer, query message: UnsafeRawBufferPointer,
        rcode: RCode, id: UInt16, queryFlags: UInt16, qnameLength: Int, edns: EDNSRequest?,
        ourPayloadSize: UInt16
    ) -> Int {
        var length = 12
        let qd: UInt16
        if qnameLength > 0 {
            let qlen = qnameLength + 4
            out.baseAddress!.advanced(by: 12).copyMemory(from: message.baseAddress!.advanced(by: 12), byteCount: qlen)
            length += qlen
            qd = 1
        } else {
            qd = 0
        }
        var ar: UInt16 = 0
        if let edns {
            length += OPTRecord.write(into: out, at: length, payloadSize: ourPayloadSize,
                                      extendedRCode: UInt8(rcode.rawValue >> 4), dnssecOK: edns.dnssecOK)
            ar = 1
        }
        write(into: out, id: id, flags: flags(forQueryFlags: queryFlags, rcode: RCode(rcode.rawValue & 0xF), authoritative: false),
              qd: qd, an: 0, ns: 0, ar: ar)
        return length
    }
}

/// The OPT pseudo-record of a response (RFC 6891 §6.1.2): version 0, no options
/// unless the caller appends them (and fixes RDLEN).
public enum OPTRecord {
    /// Size of an OPT record with no options.
    public static let baseSize = 11

    /// Writes an OPT with empty RDATA at `offset`; returns the bytes written (11).
    @inline(__always)
    public static func write(into out: UnsafeMutableRawBufferPointer, at offset: Int, payloadSize: UInt16,
                             extendedRCode: UInt8, dnssecOK: Bool) -> Int {
        out[offset] = 0  // owner: root
        out.storeU16(RRType.opt.rawValue, at: offset + 1)
        out.storeU16(payloadSize, at: offset + 3)
        out[offset + 5] = extendedRCode
        out[offset + 6] = 0  // version 0
        out.storeU16(dnssecOK ? 0x8000 : 0, at: offset + 7)  // only DO is echoed; other flags are not
        out.storeU16(0, at: offset + 9)
        return baseSize
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    public func storeU16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(value >> 8)
        self[offset + 1] = UInt8(value & 0xFF)
    }

    @inline(__always)
    public func storeU32(_ value: UInt32, at offset: Int) {
        self[offset] = UInt8(value >> 24)
        self[offset + 1] = UInt8((value >> 16) & 0xFF)
        self[offset + 2] = UInt8((value >> 8) & 0xFF)
        self[offset + 3] = UInt8(value & 0xFF)
    }
}
