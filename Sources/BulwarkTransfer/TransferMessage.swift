// Building the messages of transfers and NOTIFY: a header, the question, records with
// name compression within the message (RFC 1035 §4.1.4; rdata names only for the
// well-known types, RFC 3597 §4), under a size limit.
import BulwarkWire

/// One DNS message being written.
public struct MessageWriter {
    public private(set) var bytes: [UInt8]
    /// Lower-cased wire suffixes already written, and where (pointers reach 0x3FFF).
    private var offsets: [[UInt8]: Int] = [:]
    public private(set) var answerCount = 0
    public private(set) var authorityCount = 0
    public private(set) var additionalCount = 0

    /// A header with `id` and `flags`, and the question when given.
    public init(id: UInt16, flags: UInt16, question: (name: DNSName, type: RRType, rrClass: RRClass)?, capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes += [UInt8(id >> 8), UInt8(id & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF)]
        bytes += [0, question == nil ? 0 : 1, 0, 0, 0, 0, 0, 0]
        if let q = question {
            writeName(q.name, compress: true)
            append16(q.type.rawValue)
            append16(q.rrClass.rawValue)
        }
    }

    public enum Section { case answer, authority, additional }

    public var count: Int { bytes.count }

    /// Appends `record`; returns false (and leaves the message as it was) when the message
    /// would grow beyond `limit` octets.
    @discardableResult
    public mutating func append(_ record: ResourceRecord, to section: Section = .answer, limit: Int = 65535) -> Bool {
        let mark = bytes.count
        writeName(record.owner, compress: true)
        append16(record.type.rawValue)
        append16(record.rrClass.rawValue)
        append32(record.ttl)
        let rdlengthAt = bytes.count
        append16(0)
        let names = record.type.hasCompressibleNames ? RDataWire.embeddedNames(type: record.type, rdata: record.rdata) : []
        var at = 0
        for n in names where n.compressible {
            bytes += record.rdata[at..<n.offset]
            writeName(DNSName(uncheckedWire: Array(record.rdata[n.offset..<(n.offset + n.length)])), compress: true)
            at = n.offset + n.length
        }
        bytes += record.rdata[at...]
        let rdlength = bytes.count - rdlengthAt - 2
        guard bytes.count <= limit, rdlength <= 65535 else {
            bytes.removeLast(bytes.count - mark)
            offsets = offsets.filter { $0.value < mark }  // once per full message
            return false
        }
        bytes[rdlengthAt] = UInt8(rdlength >> 8)
        bytes[rdlengthAt + 1] = UInt8(rdlength & 0xFF)
        switch section {
        case .answer: answerCount += 1; store16(UInt16(answerCount), at: 6)
        case .authority: authorityCount += 1; store16(UInt16(authorityCount), at: 8)
        case .additional: additionalCount += 1; store16(UInt16(additionalCount), at: 10)
        }
        return true
    }

    /// Appends an OPT record (RFC 6891 §6.1.2) with `options` (code, data).
    public mutating func appendOPT(payloadSize: UInt16, options: [(UInt16, [UInt8])] = []) {
        bytes += [0]
        append16(RRType.opt.rawValue)
        append16(payloadSize)
        append32(0)
        append16(UInt16(options.reduce(0) { $0 + 4 + $1.1.count }))
        for (code, data) in options {
            append16(code)
            append16(UInt16(data.count))
            bytes += data
        }
        additionalCount += 1
        store16(UInt16(additionalCount), at: 10)
    }

    private mutating func writeName(_ name: DNSName, compress: Bool) {
        let wire = name.wire
        let lower = wire.map(asciiLower)
        var i = 0
        while wire[i] != 0 {
            let suffix = Array(lower[i...])
            if compress, let target = offsets[suffix] {
                append16(0xC000 | UInt16(target))
                return
            }
            if bytes.count < 0x4000 { offsets[suffix] = bytes.count }
            let len = Int(wire[i])
            bytes += wire[i...(i + len)]
            i += len + 1
        }
        bytes.append(0)
    }

    private mutating func append16(_ v: UInt16) { bytes += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    private mutating func append32(_ v: UInt32) {
        bytes += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
    private mutating func store16(_ v: UInt16, at i: Int) {
        bytes[i] = UInt8(v >> 8)
        bytes[i + 1] = UInt8(v & 0xFF)
    }
}

/// The serial of SOA record data (comparisons: `SerialArithmetic`, RFC 1982).
public enum SerialNumber {
    /// The SERIAL field of SOA rdata: after MNAME and RNAME.
    public static func of(soaRData rdata: [UInt8]) -> UInt32? {
        rdata.withUnsafeBytes { b -> UInt32? in
            var r = WireReader(b)
            do throws(WireError) {
                try r.skipName()
                try r.skipName()
                return try r.readU32()
            } catch {
                return nil
            }
        }
    }
}
