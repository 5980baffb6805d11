// Zones stored as the text they were imported from, with RRset rows over it: how the
// text is cut into parts for storage, and how a stored zone is read back (built to
// serve, or listed as RRsets). An import then costs what reading the text costs, and a
// restart reads a large zone as fast as a zone file.
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum ZoneTextStorage {
    /// Zone text in pieces (`ZoneTextPieces`: each but the last ends with a line end, so
    /// none splits a character) as SQL text; nil when it cannot be, being not UTF-8 or
    /// holding a NUL (such a zone is stored as rows).
    static func sqlText(_ pieces: [[UInt8]]) -> [String]? {
        var out: [String] = []
        out.reserveCapacity(pieces.count)
        for piece in pieces where !piece.isEmpty {
            let hasNUL = piece.withUnsafeBytes { memchr($0.baseAddress!, 0, $0.count) != nil }
            guard !hasNUL, let text = String(validating: piece, as: UTF8.self) else { return nil }
            out.append(text)
        }
        return out
    }
}

extension StoredZoneContent {
    /// The zone to serve: the text read as a zone file is (on every core), the rows
    /// applied over it. The text was checked when it was imported, the rows when they
    /// were changed.
    func zone(origin: DNSName) throws(APIError) -> Zone {
        guard !text.isEmpty else {
            return try ZoneEditing.build(origin: origin, rrsets: rows.filter { !$0.records.isEmpty }).0
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.reduce(0) { $0 + $1.utf8.count })
        for part in text { bytes.append(contentsOf: part.utf8) }
        let parsed: ParsedZone
        do {
            parsed = try ZoneFileReader(origin: origin, allowInclude: false).read(bytes: bytes, fileName: "zone text")
        } catch {
            throw .invalid("zone", "stored zone text cannot be read: \(error)")
        }
        bytes = []
        let zone: Zone
        do {
            zone = try Zone(origin: origin, records: parsed.records)
        } catch {
            throw .invalid("zone", error.description)
        }
        guard !rows.isEmpty else { return zone }
        return try ZoneEditing.apply(upserts: rows.filter { !$0.records.isEmpty },
                                     deletes: rows.filter { $0.records.isEmpty }.map(\.key),
                                     to: zone, fieldOf: { _ in nil }).0
    }

    /// Every RRset of the zone, sorted, as rows hold them.
    func rrsets(origin: DNSName) throws(APIError) -> [StoredRRset] {
        guard !text.isEmpty else { return rows.filter { !$0.records.isEmpty } }
        let zone = try zone(origin: origin)
        return ZoneImport.storedRRsets(zone, names: 0..<zone.nameCount).sorted { $0.key < $1.key }
    }
}
