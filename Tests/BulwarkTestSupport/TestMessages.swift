// The pure half of the tests' DNS client: building queries (with or without EDNS) and
// reading the header, the records and the OPT options of responses. The sockets are in
// BulwarkServerTests' TestClient.swift.
import BulwarkWire

public struct TestResponse {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var id: UInt16 { UInt16(bytes[0]) << 8 | UInt16(bytes[1]) }
    public var rcode: Int { Int(bytes[3] & 0x0F) }
    public var flags: UInt16 { UInt16(bytes[2]) << 8 | UInt16(bytes[3]) }
    public var tc: Bool { flags & 0x0200 != 0 }
    public var qdcount: Int { Int(bytes[4]) << 8 | Int(bytes[5]) }
    public var ancount: Int { Int(bytes[6]) << 8 | Int(bytes[7]) }
    public var nscount: Int { Int(bytes[8]) << 8 | Int(bytes[9]) }
    public var arcount: Int { Int(bytes[10]) << 8 | Int(bytes[11]) }

    /// One resource record as it stands in the message (its owner name skipped).
    public struct Record {
        public enum Section { case answer, authority, additional }
        public var section: Section
        public var type: UInt16
        /// The TTL field's first octet: for OPT, the extended rcode (RFC 6891 §6.1.3).
        public var ttlHigh: UInt8
        public var rdata: [UInt8]
    }

    /// Every record of the answer, authority and additional sections, in order (names
    /// skipped, compression allowed); the walk stops at the first record that does not fit.
    public var records: [Record] {
        var o = 12
        func skipName() {
            while o < bytes.count {
                let l = Int(bytes[o])
                if l == 0 { o += 1; return }
                if l & 0xC0 == 0xC0 { o += 2; return }
                o += 1 + l
            }
        }
        for _ in 0..<qdcount { skipName(); o += 4 }
        let sections = Array(repeating: Record.Section.answer, count: ancount)
            + Array(repeating: .authority, count: nscount) + Array(repeating: .additional, count: arcount)
        var out: [Record] = []
        for section in sections {
            skipName()
            guard o + 10 <= bytes.count else { break }
            let rdlen = Int(bytes[o + 8]) << 8 | Int(bytes[o + 9])
            guard o + 10 + rdlen <= bytes.count else { break }
            out.append(Record(section: section, type: UInt16(bytes[o]) << 8 | UInt16(bytes[o + 1]), ttlHigh: bytes[o + 4],
                              rdata: Array(bytes[(o + 10)..<(o + 10 + rdlen)])))
            o += 10 + rdlen
        }
        return out
    }

    /// RDATA of every answer record.
    public var answerRData: [[UInt8]] { records.filter { $0.section == .answer }.map(\.rdata) }

    /// The type of every answer record.
    public var answerTypes: [UInt16] { records.filter { $0.section == .answer }.map(\.type) }

    /// The OPT record's extended rcode octet and options, when the response has one.
    public var opt: (extendedRCode: UInt8, options: [UInt16: [UInt8]])? {
        guard let record = records.first(where: { $0.type == 41 }) else { return nil }
        var options: [UInt16: [UInt8]] = [:]
        let r = record.rdata
        var p = 0
        while p + 4 <= r.count {
            let code = UInt16(r[p]) << 8 | UInt16(r[p + 1])
            let len = Int(r[p + 2]) << 8 | Int(r[p + 3])
            options[code] = Array(r[(p + 4)..<(p + 4 + len)])
            p += 4 + len
        }
        return (record.ttlHigh, options)
    }
}

public enum TestClient {
    public static func query(_ name: String, type: UInt16 = 1, id: UInt16 = 0x1234) -> [UInt8] {
        var q: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        q += (try! DNSName(name)).wire
        q += [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        return q
    }

    /// A query with an OPT record (payload 1232) carrying `options` (code, data).
    public static func ednsQuery(_ name: String, type: UInt16 = 1, id: UInt16, options: [(UInt16, [UInt8])] = []) -> [UInt8] {
        var q = query(name, type: type, id: id)
        q[11] = 1  // ARCOUNT
        var rdata: [UInt8] = []
        for (code, data) in options {
            rdata += [UInt8(code >> 8), UInt8(code & 0xFF), UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
        }
        q += [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
        return q
    }
}
