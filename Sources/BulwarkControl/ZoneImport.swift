// A zone imported from zone-file text: read as the request body arrives, checked as a
// zone file is at start-up (the checker and the builder side by side on two cores), and
// stored as the text it came in (`StoredZoneText`): an import costs what reading the
// text costs. Off the per-change path: an import is the one change that costs the
// whole zone.
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
import Dispatch
import Foundation
import Hummingbird
import NIOCore

/// A zone read, checked and built from imported text, ready to be stored and served.
public struct PreparedZone: Sendable {
    /// The snapshot to serve (its SOA serial the text's; the change may move it on).
    public var zone: Zone
    /// The text to store, in parts; none when it cannot be stored as text (not UTF-8,
    /// or with a NUL), and then `rrsets` holds the zone's RRsets.
    public var text: [String]
    /// The RRsets as rows store them (canonical presentation text, one TTL per RRset,
    /// the lowest, RFC 2181 §5.2; duplicates dropped, RFC 2181 §5): every one when the
    /// zone is not stored as text, else those of a zone small enough to list back.
    public var rrsets: [StoredRRset]
    public var warnings: [String]
    /// Seconds spent reading the text, checking and building, formatting for storage.
    public var timings = (read: 0.0, build: 0.0, format: 0.0)
}

enum ZoneImport {
    /// Reads a request body of zone text as it arrives (at most `limit` octets: 413
    /// beyond), each piece parsed on another core as soon as it is complete; keeps the
    /// text to store.
    static func read(_ body: RequestBody, origin: DNSName, limit: Int, connection: any Channel,
                     field: String) async throws -> (ParsedZone, [String]?) {
        var text = ZoneTextPieces(reader: ZoneFileReader(origin: origin, allowInclude: false), fileName: field)
        try await ControlAPI.readBody(body, limit: limit, connection: connection) { part in
            part.withUnsafeReadableBytes { text.feed($0) }
        }
        do {
            return (try text.finish(), ZoneTextStorage.sqlText(text.pieces))
        } catch {
            throw invalid(error.errors, field: field)
        }
    }

    /// Reads, checks and builds a zone from a request body of zone text; the parsed
    /// records are freed (and the heap trimmed, for a large zone) before it returns.
    static func prepare(_ body: RequestBody, origin: DNSName, limit: Int, connection: any Channel,
                        field: String) async throws -> PreparedZone {
        func readAndPrepare() async throws -> PreparedZone {
            let start = ContinuousClock.now
            let (parsed, text) = try await read(body, origin: origin, limit: limit, connection: connection, field: field)
            var prepared = try prepare(parsed, text: text, origin: origin, field: field)
            prepared.timings.read = (ContinuousClock.now - start).seconds - prepared.timings.build - prepared.timings.format
            return prepared
        }
        let prepared = try await readAndPrepare()
        if prepared.zone.recordCount > 10_000 { trimMallocHeap() }
        return prepared
    }

    /// Reads zone text held whole (a JSON body's string), and keeps it to store.
    static func read(text: String, origin: DNSName, field: String) throws(APIError) -> (ParsedZone, [String]?) {
        var pieces = ZoneTextPieces(reader: ZoneFileReader(origin: origin, allowInclude: false), fileName: field)
        var bytes = Array(text.utf8)
        bytes.withUnsafeBytes { pieces.feed($0) }
        bytes = []
        do {
            return (try pieces.finish(), ZoneTextStorage.sqlText(pieces.pieces))
        } catch {
            throw invalid(error.errors, field: field)
        }
    }

    static func invalid(_ issues: [ZoneIssue], field: String) -> APIError {
        let first = issues.first { $0.isError } ?? issues.first
        return APIError.invalid(field, first.map { ($0.location.map { "line \($0.line): " } ?? "") + $0.message } ?? "unreadable zone text")
    }

    /// Zones with at most this many records have their RRsets formatted (to list them back).
    static let listedRecords = 5000

    /// Checks `parsed` as a zone file is checked and builds it. Without `text` to store,
    /// the zone's records are then formatted into rows on both cores.
    static func prepare(_ parsed: ParsedZone, text: [String]?, origin: DNSName, field: String) throws(APIError) -> PreparedZone {
        final class Slots: @unchecked Sendable {
            // Each slot is written by one thread and read after all have finished: one
            // property each (two threads writing elements of one array would race on it).
            var issues: [ZoneIssue] = []
            var built: Result<Zone, ZoneError>?
            var firstHalf: [StoredRRset] = []
            var secondHalf: [StoredRRset] = []
        }
        let slots = Slots()
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 {
                slots.issues = ZoneChecker.check(parsed)
            } else {
                slots.built = Result { () throws(ZoneError) in try Zone(origin: origin, records: parsed.records) }
            }
        }
        if slots.issues.contains(where: \.isError) { throw invalid(slots.issues, field: field) }
        let zone: Zone
        switch slots.built {
        case .success(let z): zone = z
        case .failure(let error): throw APIError.invalid(field, error.description)
        case nil: throw APIError.invalid(field, "unreadable zone text")
        }
        let built = ContinuousClock.now
        let names = zone.nameCount
        if text == nil || zone.recordCount <= listedRecords {
            DispatchQueue.concurrentPerform(iterations: 2) { k in
                if k == 0 {
                    slots.firstHalf = storedRRsets(zone, names: 0..<(names / 2))
                } else {
                    slots.secondHalf = storedRRsets(zone, names: (names / 2)..<names)
                }
            }
        }
        let warnings = (parsed.warnings + slots.issues).map(\.description)
        var prepared = PreparedZone(zone: zone, text: text ?? [], rrsets: slots.firstHalf + slots.secondHalf, warnings: warnings)
        prepared.timings.build = (built - start).seconds
        prepared.timings.format = (ContinuousClock.now - built).seconds
        return prepared
    }

    /// The RRsets owned by the names in `range` of the zone's name table, as stored.
    static func storedRRsets(_ zone: Zone, names range: Range<Int>) -> [StoredRRset] {
        var out: [StoredRRset] = []
        zone.forEachRRset(names: range) { owner, type, records in
            var texts: [String] = []
            texts.reserveCapacity(records.count)
            var ttl = UInt32.max
            for r in records {
                texts.append(RDataText.format(type: type, rdata: r.rdata))
                ttl = min(ttl, r.ttl)
            }
            out.append(StoredRRset(name: owner.lowercased().description, type: type.description, ttl: ttl, records: texts))
        }
        return out
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
