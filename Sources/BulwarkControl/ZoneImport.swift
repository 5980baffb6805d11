// A zone imported from zone-file text: read as the request body arrives, checked as a
// zone file is at start-up (the checker and the builder side by side on two cores), and
// its RRsets formatted for storage from the built zone. Off the per-change path: an
// import is the one change that costs the whole zone.
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
    /// Its RRsets as stored: canonical presentation text, one TTL per RRset (the lowest,
    /// RFC 2181 §5.2), duplicates dropped (RFC 2181 §5).
    public var rrsets: [StoredRRset]
    public var warnings: [String]
    /// Seconds spent reading the text, checking and building, formatting for storage.
    public var timings = (read: 0.0, build: 0.0, format: 0.0)
}

enum ZoneImport {
    /// Reads a request body of zone text as it arrives (at most `limit` octets: 413
    /// beyond), parsing each complete entry at once.
    static func read(_ body: RequestBody, origin: DNSName, limit: Int, connection: any Channel,
                     field: String) async throws -> ParsedZone {
        var stream = ZoneTextStream(reader: ZoneFileReader(origin: origin, allowInclude: false), fileName: field)
        try await ControlAPI.readBody(body, limit: limit, connection: connection) { part in
            part.withUnsafeReadableBytes { stream.feed($0) }
        }
        do {
            return try stream.finish()
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
            let parsed = try await read(body, origin: origin, limit: limit, connection: connection, field: field)
            var prepared = try prepare(parsed, origin: origin, field: field)
            prepared.timings.read = (ContinuousClock.now - start).seconds - prepared.timings.build - prepared.timings.format
            return prepared
        }
        let prepared = try await readAndPrepare()
        if prepared.rrsets.count > 10_000 { trimMallocHeap() }
        return prepared
    }

    /// Reads zone text held whole (a JSON body's string).
    static func read(text: String, origin: DNSName, field: String) throws(APIError) -> ParsedZone {
        do {
            return try ZoneFileReader(origin: origin, allowInclude: false).read(text: text, fileName: field)
        } catch {
            throw invalid(error.errors, field: field)
        }
    }

    static func invalid(_ issues: [ZoneIssue], field: String) -> APIError {
        let first = issues.first { $0.isError } ?? issues.first
        return APIError.invalid(field, first.map { ($0.location.map { "line \($0.line): " } ?? "") + $0.message } ?? "unreadable zone text")
    }

    /// Checks `parsed` as a zone file is checked and builds it; the zone's records are
    /// then formatted into stored RRsets on both cores.
    static func prepare(_ parsed: ParsedZone, origin: DNSName, field: String) throws(APIError) -> PreparedZone {
        final class Slots: @unchecked Sendable {
            // Each slot is written by one thread and read after all have finished.
            var issues: [ZoneIssue] = []
            var built: Result<Zone, ZoneError>?
            var halves: [[StoredRRset]] = [[], []]
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
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            slots.halves[k] = storedRRsets(zone, names: k == 0 ? 0..<(names / 2) : (names / 2)..<names)
        }
        let warnings = (parsed.warnings + slots.issues).map(\.description)
        var prepared = PreparedZone(zone: zone, rrsets: slots.halves[0] + slots.halves[1], warnings: warnings)
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
