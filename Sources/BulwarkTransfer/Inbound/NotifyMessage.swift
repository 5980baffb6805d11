// NOTIFY as a secondary receives it (RFC 1996 §3.7–3.11): the request, parsed strictly,
// and our answer (same ID, QR, opcode NOTIFY, AA, the question echoed).
import BulwarkWire

public struct NotifyRequest: Sendable, Equatable {
    public static let opcode: UInt16 = 4

    public var id: UInt16
    public var flags: UInt16
    public var zone: DNSName
    public var qtype: RRType
    /// The serial of the SOA in the answer section, when the primary sent one (§3.7: a hint).
    public var serial: UInt32?
    /// The question's end: the answer echoes the message up to here.
    public var questionWire: [UInt8]

    /// Parses a NOTIFY request. Throws (FORMERR) for anything but one question of class IN.
    public init(parsing message: [UInt8]) throws(TransferError) {
        let r = message.withUnsafeBytes { buf in
            Result { () throws(WireError) -> NotifyRequest in try NotifyRequest(buf) }
        }
        switch r {
        case .success(let v): self = v
        case .failure(let e): throw .malformed("NOTIFY: \(e)")
        }
    }

    private init(_ buf: UnsafeRawBufferPointer) throws(WireError) {
        var reader = WireReader(buf)
        id = try reader.readU16()
        flags = try reader.readU16()
        guard (flags & HeaderFlags.opcodeMask) >> 11 == Self.opcode, flags & HeaderFlags.qr == 0 else {
            throw .malformed("not a NOTIFY request")
        }
        let qd = try reader.readU16(), an = try reader.readU16()
        _ = try reader.readU16()
        _ = try reader.readU16()
        // RFC 1996 §3.7: QDCOUNT 1 (the zone), QTYPE SOA in practice.
        guard qd == 1 else { throw .malformed("QDCOUNT \(qd)") }
        zone = try reader.readName()
        qtype = RRType(try reader.readU16())
        let qclass = try reader.readU16()
        guard qclass == RRClass.in.rawValue else { throw .malformed("class \(qclass)") }
        questionWire = Array(buf[12..<reader.offset])
        serial = nil
        for _ in 0..<Int(an) {
            let owner = try reader.readName()
            let type = RRType(try reader.readU16())
            _ = try reader.readU16()
            _ = try reader.readU32()
            let length = Int(try reader.readU16())
            let rdata = try RDataWire.read(type: type, from: &reader, length: length)
            if type == .soa && owner == zone, serial == nil, let f = try? SOAFields(rdata: rdata) {
                serial = f.serial
            }
        }
    }

    /// The answer: same ID, QR, opcode NOTIFY, AA, RD copied, the question echoed (§3.7).
    public func response(rcode: RCode) -> [UInt8] {
        var w = WireWriter(capacity: 12 + questionWire.count)
        w.writeU16(id)
        let f = HeaderFlags.qr | (Self.opcode << 11) | HeaderFlags.aa | (flags & HeaderFlags.rd) | (rcode.rawValue & 0xF)
        w.writeU16(f)
        w.writeU16(1); w.writeU16(0); w.writeU16(0); w.writeU16(0)
        w.writeBytes(questionWire)
        return w.bytes
    }

    /// A header-only answer for a request that could not be parsed (FORMERR), or nil
    /// when the message is too short to have an ID.
    public static func headerOnlyResponse(to message: [UInt8], rcode: RCode) -> [UInt8]? {
        guard message.count >= 12 else { return nil }
        var w = WireWriter(capacity: 12)
        w.writeU16(UInt16(message[0]) << 8 | UInt16(message[1]))
        w.writeU16(HeaderFlags.qr | (Self.opcode << 11) | (rcode.rawValue & 0xF))
        w.writeU16(0); w.writeU16(0); w.writeU16(0); w.writeU16(0)
        return w.bytes
    }
}
