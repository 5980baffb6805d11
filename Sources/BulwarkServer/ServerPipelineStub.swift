// TEMPORARY: stand-ins for the lead's pipeline (QueryResponder, ZoneStore) and the
import Foundation
// `authority`/`zonefile` branches (Zone, ZoneSet, ZoneFileReader, ZoneChecker), with
// exactly the agreed signatures, so the transports can be built and tested before the
// merges. Deleted when main/authority/zonefile are merged.
import Atomics

public final class ZoneSet: Sendable {
    public let zones: [Zone]
    public init(zones: [Zone]) { self.zones = zones }
}

public final class Zone: Sendable {
    public let origin: DNSName
    public let records: [ResourceRecord]
    public let serial: UInt32
    public init(origin: DNSName, records: [ResourceRecord]) throws {
        self.origin = origin
        self.records = records
        var serial: UInt32 = 0
        if let soa = records.first(where: { $0.type == .soa && $0.owner == origin }) {
            // Serial sits after MNAME and RNAME.
            var o = 0
            for _ in 0..<2 { while soa.rdata[o] != 0 { o += Int(soa.rdata[o]) + 1 }; o += 1 }
            serial = UInt32(soa.rdata[o]) << 24 | UInt32(soa.rdata[o + 1]) << 16 | UInt32(soa.rdata[o + 2]) << 8 | UInt32(soa.rdata[o + 3])
        } else {
            throw WireError.malformed("no SOA at the apex")
        }
        self.serial = serial
    }
}

public final class ZoneStore: @unchecked Sendable {
    private let box: ManagedAtomic<Unmanaged<ZoneSet>>
    public init(_ initial: ZoneSet) { box = ManagedAtomic(Unmanaged.passRetained(initial)) }
    // The stub leaks replaced sets; the real store reclaims them.
    public var current: ZoneSet { box.load(ordering: .acquiring).takeUnretainedValue() }
    public func replace(with new: ZoneSet) { box.store(Unmanaged.passRetained(new), ordering: .releasing) }
}

public enum Transport: Sendable { case udp, tcp }

public final class QueryResponder {
    let store: ZoneStore
    let maxUDPSize: Int
    public init(store: ZoneStore, maxUDPSize: Int = 1232) { self.store = store; self.maxUDPSize = maxUDPSize }

    /// Stub: exact-match answers only, owner written uncompressed.
    public func respond(to query: UnsafeRawBufferPointer, transport: Transport, into out: UnsafeMutableRawBufferPointer) -> Int {
        switch QueryParser.parse(query) {
        case .drop: return 0
        case let .error(rcode, id, flags, qnameLength, edns):
            return ResponseHeader.writeError(into: out, query: query, rcode: rcode, id: id, queryFlags: flags,
                                             qnameLength: qnameLength, edns: edns, ourPayloadSize: UInt16(maxUDPSize))
        case .query(let q):
            let qname = DNSName(uncheckedWire: Array(query[12..<(12 + q.qnameLength)]))
            var length = q.questionEnd
            out.baseAddress!.advanced(by: 12).copyMemory(from: query.baseAddress!.advanced(by: 12), byteCount: length - 12)
            var an: UInt16 = 0
            var found = false
            for zone in store.current.zones {
                for rr in zone.records where rr.owner == qname {
                    found = true
                    guard rr.type == q.qtype else { continue }
                    out.baseAddress!.advanced(by: length).copyMemory(from: query.baseAddress!.advanced(by: 12), byteCount: q.qnameLength)
                    length += q.qnameLength
                    out.storeU16(rr.type.rawValue, at: length); out.storeU16(rr.rrClass.rawValue, at: length + 2)
                    out.storeU32(rr.ttl, at: length + 4); out.storeU16(UInt16(rr.rdata.count), at: length + 8)
                    length += 10
                    rr.rdata.withUnsafeBytes { out.baseAddress!.advanced(by: length).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                    length += rr.rdata.count
                    an += 1
                }
            }
            let flags = ResponseHeader.flags(forQueryFlags: q.flags, rcode: found ? .noError : .nxDomain, authoritative: true)
            ResponseHeader.write(into: out, id: q.id, flags: flags, qd: 1, an: an, ns: 0, ar: 0)
            return length
        }
    }
}

// MARK: zonefile branch stand-ins

public struct ParsedZone: Sendable {
    public var records: [ResourceRecord]
}

public struct ZoneIssue: Sendable, CustomStringConvertible {
    public enum Severity: Sendable { case error, warning }
    public var severity: Severity
    public var message: String
    public var description: String { message }
}

public enum ZoneChecker {
    public static func check(_ zone: ParsedZone) -> [ZoneIssue] { [] }
}

public struct ZoneFileError: Error, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { "\(file):\(line): \(message)" }
}

/// Stub reader: one record per line, `owner ttl IN type rdata`, types A, AAAA, NS, CNAME, MX, TXT, SOA; `$ORIGIN`, `$TTL`, `;` comments.
public struct ZoneFileReader {
    public var origin: DNSName
    public init(origin: DNSName) { self.origin = origin }

    public func read(path: String) throws -> ParsedZone {
        guard let f = fopen(path, "r") else { throw ZoneFileError(file: path, line: 0, message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { fclose(f) }
        var text = ""
        var buf = [CChar](repeating: 0, count: 4096)
        while fgets(&buf, 4096, f) != nil { text += String(cString: buf) }
        return try read(text: text, file: path)
    }

    public func read(text: String, file: String = "<string>") throws -> ParsedZone {
        var records: [ResourceRecord] = []
        var origin = self.origin
        var lastOwner = origin
        var defaultTTL: UInt32 = 3600
        for (i, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fail = { (m: String) in ZoneFileError(file: file, line: i + 1, message: m) }
            let line = rawLine.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            var tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if tokens.isEmpty { continue }
            if tokens[0] == "$ORIGIN" { origin = try DNSName(tokens[1]); continue }
            if tokens[0] == "$TTL" { defaultTTL = UInt32(tokens[1]) ?? 3600; continue }
            var owner = lastOwner
            if !(line.first == " " || line.first == "\t") {
                owner = tokens[0] == "@" ? origin : try DNSName(tokens[0], origin: origin)
                tokens.removeFirst()
            }
            lastOwner = owner
            var ttl = defaultTTL
            if let t = tokens.first.flatMap({ UInt32($0) }) { ttl = t; tokens.removeFirst() }
            if tokens.first == "IN" { tokens.removeFirst() }
            guard !tokens.isEmpty else { throw fail("missing type") }
            let type = tokens.removeFirst()
            func name(_ s: String) throws -> [UInt8] { (s == "@" ? origin : try DNSName(s, origin: origin)).wire }
            var rdata: [UInt8] = []
            switch type {
            case "A":
                var a = in_addr()
                guard tokens.count == 1, inet_pton(AF_INET, tokens[0], &a) == 1 else { throw fail("bad A") }
                rdata = withUnsafeBytes(of: &a) { Array($0) }
            case "AAAA":
                var a = in6_addr()
                guard tokens.count == 1, inet_pton(AF_INET6, tokens[0], &a) == 1 else { throw fail("bad AAAA") }
                rdata = withUnsafeBytes(of: &a) { Array($0) }
            case "NS", "CNAME":
                guard tokens.count == 1 else { throw fail("bad \(type)") }
                rdata = try name(tokens[0])
            case "MX":
                guard tokens.count == 2, let p = UInt16(tokens[0]) else { throw fail("bad MX") }
                rdata = [UInt8(p >> 8), UInt8(p & 0xFF)] + (try name(tokens[1]))
            case "TXT":
                let s = tokens.joined(separator: " ").replacingOccurrences(of: "\"", with: "")
                rdata = [UInt8(s.utf8.count)] + Array(s.utf8)
            case "SOA":
                guard tokens.count == 7 else { throw fail("bad SOA") }
                rdata = try name(tokens[0]) + (try name(tokens[1]))
                for t in tokens[2...] {
                    guard let v = UInt32(t) else { throw fail("bad SOA number") }
                    rdata += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
                }
            default: throw fail("unsupported type \(type)")
            }
            let t: RRType = ["A": .a, "AAAA": .aaaa, "NS": .ns, "CNAME": .cname, "MX": .mx, "TXT": .txt, "SOA": .soa][type]!
            records.append(ResourceRecord(owner: owner, type: t, ttl: ttl, rdata: rdata))
        }
        return ParsedZone(records: records)
    }
}
