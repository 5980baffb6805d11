// Outgoing zone transfers: the record sequences of AXFR (RFC 5936 §2.2) and IXFR
// (RFC 1995 §4), and the stream that packs them into messages of up to 64 KiB, each
// signed when the request was (RFC 8945 §5.3.1), made one at a time as the connection
// takes them so a large zone is never held whole as messages.
import BulwarkWire
import BulwarkZone

public enum ZoneTransfer {
    /// RFC 5936 §2.2: the SOA, every other record, the SOA again.
    public static func axfrRecords(_ zone: Zone) -> AnyIterator<ResourceRecord> {
        let soa = zone.soaRecord
        var cursor = ZoneRecordCursor(zone)
        let apex = zone.origin.lowercased()
        var state = 0  // 0: first SOA, 1: body, 2: last SOA, 3: done
        return AnyIterator {
            switch state {
            case 0:
                state = 1
                return soa
            case 1:
                while let r = cursor.next() {
                    if r.type == .soa && r.owner.lowercased() == apex { continue }
                    return r
                }
                state = 3
                return soa
            default:
                return nil
            }
        }
    }

    /// RFC 1995 §4: the current SOA, then per difference the old SOA, the records removed,
    /// the new SOA and the records added, and the current SOA to end.
    public static func ixfrRecords(_ diffs: [ZoneDiff], current: ResourceRecord) -> AnyIterator<ResourceRecord> {
        var sequence: [ResourceRecord] = [current]
        for d in diffs {
            sequence.append(d.oldSOA)
            sequence += d.removed
            sequence.append(d.newSOA)
            sequence += d.added
        }
        sequence.append(current)
        return AnyIterator(sequence.makeIterator())
    }

    /// How to answer an IXFR.
    public enum IXFRPlan: Equatable {
        /// RFC 1995 §2: the client's serial is current (or newer): the SOA alone.
        case upToDate
        /// The journal reaches the client's serial: the condensed difference.
        case incremental(ZoneDiff)
        /// RFC 1995 §4: the journal cannot reach it: the whole zone, as AXFR sends it.
        case full
    }

    public static func plan(clientSerial: UInt32, zone: Zone, journal: ZoneJournal?) -> IXFRPlan {
        // RFC 1982: a client serial equal to or after ours needs nothing.
        if SerialArithmetic.compare(clientSerial, zone.serial) != .less { return .upToDate }
        guard let journal, let diffs = journal.diffs(from: clientSerial, to: zone.serial),
              let condensed = ZoneDiff.condense(diffs) else { return .full }
        return .incremental(condensed)
    }

    /// RFC 1995 §3: the serial of the SOA in the request's authority section.
    public static func ixfrClientSerial(_ message: [UInt8]) -> UInt32? {
        message.withUnsafeBytes { b -> UInt32? in
            guard b.count >= 12 else { return nil }
            let qd = Int(b[4]) << 8 | Int(b[5]), an = Int(b[6]) << 8 | Int(b[7]), ns = Int(b[8]) << 8 | Int(b[9])
            var r = WireReader(b, offset: 12)
            do throws(WireError) {
                for _ in 0..<qd { try r.skipName(); try r.skip(4) }
                for _ in 0..<an { try r.skipName(); try r.skip(8); try r.skip(Int(try r.readU16())) }
                for _ in 0..<ns {
                    try r.skipName()
                    let type = try r.readU16()
                    try r.skip(6)
                    let length = Int(try r.readU16())
                    if type == RRType.soa.rawValue {
                        let end = r.offset + length
                        try r.skipName()
                        try r.skipName()
                        let serial = try r.readU32()
                        guard r.offset <= end else { return nil }
                        return serial
                    }
                    try r.skip(length)
                }
            } catch {
                return nil
            }
            return nil
        }
    }
}

/// The messages of one transfer answer.
public final class TransferStream {
    private let id: UInt16
    private let flags: UInt16
    private let question: (name: DNSName, type: RRType, rrClass: RRClass)
    private var records: AnyIterator<ResourceRecord>
    private var signer: TSIGResponseSigner?
    private let maxMessageSize: Int
    private let ednsPayload: UInt16?
    private var pending: ResourceRecord?
    private var finished = false
    public private(set) var messageCount = 0
    public private(set) var recordCount = 0

    /// `queryFlags`: the request's header flags (opcode and RD are copied, RFC 1035 §4.1.1).
    public init(id: UInt16, queryFlags: UInt16, question: (name: DNSName, type: RRType, rrClass: RRClass),
                records: AnyIterator<ResourceRecord>, signer: TSIGResponseSigner?,
                maxMessageSize: Int = 65535, ednsPayload: UInt16? = nil) {
        self.id = id
        self.flags = HeaderFlags.qr | HeaderFlags.aa | (queryFlags & (HeaderFlags.opcodeMask | HeaderFlags.rd))
        self.question = question
        self.records = records
        self.signer = signer
        self.maxMessageSize = min(maxMessageSize, 65535)
        self.ednsPayload = ednsPayload
    }

    /// The next message, or nil when every record has been sent.
    public func next() -> [UInt8]? {
        guard !finished else { return nil }
        // RFC 5936 §2.2.1: the question is in the first message (later ones may omit it).
        var m = MessageWriter(id: id, flags: flags, question: messageCount == 0 ? question : nil,
                              capacity: min(maxMessageSize, 16384))
        let limit = maxMessageSize - (signer?.reservedLength ?? 0) - (ednsPayload != nil ? 11 : 0)
        while true {
            guard let r = pending ?? records.next() else {
                finished = true
                break
            }
            pending = nil
            if !m.append(r, limit: limit) {
                if m.answerCount == 0 { continue }  // cannot fit even alone: skipped
                pending = r
                break
            }
            recordCount += 1
        }
        if m.answerCount == 0 && messageCount > 0 { return nil }
        if let p = ednsPayload { m.appendOPT(payloadSize: p) }
        messageCount += 1
        if signer != nil { return signer!.sign(m.bytes) }
        return m.bytes
    }

    /// Every message (tests; UDP answers).
    public func all() -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let m = next() { out.append(m) }
        return out
    }
}

/// Single-message answers of the transfer layer.
public enum TransferAnswer {
    /// A header-only answer with `rcode` (REFUSED, NOTAUTH, NOTIMP, FORMERR), the
    /// question echoed, an OPT when asked (with the Extended DNS Error `ede`, RFC 8914),
    /// signed when `signer` is given.
    public static func error(to request: [UInt8], rcode: RCode, edns: UInt16?, ede: UInt16? = nil,
                             signer: TSIGResponseSigner?) -> [UInt8] {
        var m = MessageHeaderEcho.errorResponse(to: request, rcode: rcode)
        if let payload = edns {
            var w = MessageWriter(id: 0, flags: 0, question: nil)
            w.appendOPT(payloadSize: payload, options: ede.map { [(EDNSOption.extendedError, [UInt8($0 >> 8), UInt8($0 & 0xFF)])] } ?? [])
            m += w.bytes[12...]
            m[11] = 1
        }
        if var s = signer { return s.sign(m) }
        return m
    }

    /// An answer holding `records` in the answer section (an IXFR's single SOA).
    public static func records(_ records: [ResourceRecord], to request: [UInt8], question: (name: DNSName, type: RRType, rrClass: RRClass),
                               edns: UInt16?, signer: TSIGResponseSigner?) -> [UInt8] {
        let id = UInt16(request[0]) << 8 | UInt16(request[1])
        let flags = UInt16(request[2]) << 8 | UInt16(request[3])
        let stream = TransferStream(id: id, queryFlags: flags, question: question, records: AnyIterator(records.makeIterator()),
                                    signer: signer, ednsPayload: edns)
        return stream.next() ?? []
    }
}

/// NOTIFY messages (RFC 1996 §3).
public enum NotifyMessage {
    /// RFC 1996 §3.5-3.7: opcode NOTIFY, AA set, the question (zone, SOA, IN), and the
    /// zone's SOA in the answer section as a hint of the new serial.
    public static func make(id: UInt16, zone: DNSName, soa: ResourceRecord?) -> [UInt8] {
        var m = MessageWriter(id: id, flags: UInt16(Opcode.notify.rawValue) << 11 | HeaderFlags.aa,
                              question: (zone, .soa, .in))
        if let soa { m.append(soa) }
        return m.bytes
    }
}
