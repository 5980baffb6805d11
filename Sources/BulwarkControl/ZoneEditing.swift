// Zone content as the API edits it: RRsets with presentation-text records, checked
// like a zone file (the reader's syntax rules, then ZoneChecker's semantic rules) and
// built into a `Zone` snapshot to publish. Pure: no I/O.
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile

/// One requested RRset change, as parsed from a request.
public struct RRsetChange: Sendable {
    public enum Action: String, Sendable { case replace, delete }
    public var action: Action
    public var key: RRsetKey
    /// For `replace`: the parsed RRset (canonical presentation text).
    public var rrset: StoredRRset?
    /// Where it came from in the request (`changes[2]`), for error fields.
    public var field: String
}

public enum ZoneEditing {
    /// Types that are not data (RFC 6895 §3.1: meta and query types), nor ours to edit.
    static let forbiddenTypes: Set<RRType> = [.opt, RRType(249), RRType(250), RRType(251), RRType(252), RRType(253), RRType(254), RRType(255)]

    /// An owner name from a request: absolute (`www.example.com.`), relative to the zone
    /// (`www`), or `@`. Returned lower-cased and absolute; must be in the zone.
    public static func ownerName(_ text: String, origin: DNSName, field: String) throws(APIError) -> DNSName {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty else { throw .invalid(field, "a name is required") }
        let name: DNSName
        do {
            name = trimmed == "@" ? origin : try DNSName(trimmed, origin: origin)
        } catch {
            throw .invalid(field, "'\(text)' is not a valid domain name: \(error)")
        }
        // RFC 1034 §4.2: a zone is the subtree below its origin.
        guard name.isSubdomain(of: origin) else {
            throw .invalid(field, "\(name) is outside zone \(origin) (RFC 1034 §4.2)")
        }
        return name.lowercased()
    }

    public static func zoneName(_ text: String, field: String) throws(APIError) -> DNSName {
        var t = text.trimmingSpaces
        guard !t.isEmpty else { throw .invalid(field, "a zone name is required") }
        if !t.hasSuffix(".") { t += "." }
        do {
            return try DNSName(t).lowercased()
        } catch {
            throw .invalid(field, "'\(text)' is not a valid zone name: \(error)")
        }
    }

    public static func rrType(_ text: String, field: String) throws(APIError) -> RRType {
        guard let t = RRType(mnemonic: text.trimmingSpaces) else {
            throw .invalid(field, "'\(text)' is not a record type (a mnemonic such as A, or TYPE123)")
        }
        if forbiddenTypes.contains(t) || t.rawValue == 0 {
            throw .invalid(field, "\(t) is a meta type, not zone data (RFC 6895 §3.1)")
        }
        return t
    }

    /// Parses the records of one RRset with the zone-file reader (relative names are
    /// relative to the zone); returns it with canonical presentation text.
    public static func parseRRset(name: DNSName, type: RRType, ttl: Int64, records: [String],
                                  origin: DNSName, field: String) throws(APIError) -> StoredRRset {
        // RFC 2181 §8: a TTL is an unsigned 31-bit number.
        guard (0...2_147_483_647).contains(ttl) else {
            throw .invalid(join(field, "ttl"), "TTL must be between 0 and 2147483647 (RFC 2181 §8), got \(ttl)")
        }
        guard !records.isEmpty else {
            throw .invalid(join(field, "records"), "an RRset needs at least one record (delete it to remove it)")
        }
        guard records.count <= 10_000 else { throw .invalid(join(field, "records"), "at most 10000 records per RRset") }
        if type == .soa && records.count != 1 {
            throw .invalid(join(field, "records"), "a zone has exactly one SOA record (RFC 1035 §5.2)")
        }
        var text = ""
        for (i, r) in records.enumerated() {
            if r.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) {
                throw .invalid(join(field, "records") + "[\(i)]", "record data must be on one line")
            }
            if r.trimmingSpaces.isEmpty && type != .null {
                throw .invalid(join(field, "records") + "[\(i)]", "record data is empty")
            }
            text += "\(name) \(ttl) IN \(type) \(r)\n"
        }
        let parsed: ParsedZone
        do {
            parsed = try ZoneFileReader(origin: origin, allowInclude: false, maxErrors: 10).read(text: text, fileName: "request")
        } catch {
            let issue = error.errors.first
            let line = issue?.location?.line ?? 1
            throw .invalid(join(field, "records") + "[\(max(0, min(records.count - 1, line - 1)))]",
                           "malformed \(type) data: \(issue?.message ?? error.description)")
        }
        guard parsed.records.count == records.count else {
            throw .invalid(join(field, "records"), "each entry must be the data of exactly one \(type) record")
        }
        var seen = Set<[UInt8]>()
        var out: [String] = []
        for record in parsed.records where seen.insert(record.rdata).inserted {  // RFC 2181 §5: an RRset is a set
            out.append(RDataText.format(type: type, rdata: record.rdata))
        }
        return StoredRRset(name: name.description, type: type.description, ttl: UInt32(ttl), records: out)
    }

    /// The zone text of stored RRsets (SOA first): what export returns and what a
    /// snapshot is built from.
    public static func zoneText(origin: DNSName, rrsets: [StoredRRset]) -> String {
        var out = "$ORIGIN \(origin)\n"
        let sorted = rrsets.sorted { a, b in
            let aSOA = a.type == "SOA" && a.name == origin.description
            let bSOA = b.type == "SOA" && b.name == origin.description
            if aSOA != bSOA { return aSOA }
            let an = (try? DNSName(a.name)) ?? origin, bn = (try? DNSName(b.name)) ?? origin
            let c = DNSName.canonicalCompare(an, bn)
            if c != 0 { return c < 0 }
            return a.type < b.type
        }
        for r in sorted {
            for data in r.records {
                out += "\(r.name)\t\(r.ttl)\tIN\t\(r.type)\t\(data)\n"
            }
        }
        return out
    }

    /// Checks the zone made of `rrsets` as the zone checker checks a file and builds its
    /// snapshot. `fieldOf` names the request field an RRset came from (nil: unchanged).
    public static func build(origin: DNSName, rrsets: [StoredRRset],
                             fieldOf: (RRsetKey) -> String? = { _ in nil }) throws(APIError) -> (Zone, [ZoneIssue]) {
        // One read of the whole zone's text (much faster than one read per RRset);
        // each record's "line" then indexes `sources`, so an issue leads back to its RRset.
        var sources: [(key: RRsetKey, field: String?)] = []
        var index: [RRsetKey: Int] = [:]
        var text = ""
        for r in rrsets {
            sources.append((r.key, fieldOf(r.key)))
            index[r.key] = sources.count
            for data in r.records { text += "\(r.name) \(r.ttl) IN \(r.type) \(data)\n" }
        }
        let read: ParsedZone
        do {
            read = try ZoneFileReader(origin: origin, allowInclude: false).read(text: text, fileName: "zone")
        } catch {
            let line = error.errors.first?.location?.line ?? 0
            throw .invalid("zone", "stored zone data cannot be read (line \(line)): \(error)")
        }
        var parsed = ParsedZone(origin: origin, files: ["zone", "request"])
        parsed.records.reserveCapacity(read.records.count)
        parsed.recordSources.reserveCapacity(read.records.count)
        for rec in read.records {
            let key = RRsetKey(name: rec.owner.lowercased().description, type: rec.type.description)
            let i = index[key] ?? 0
            parsed.append(rec, file: i > 0 && sources[i - 1].field != nil ? 1 : 0, line: i)
        }
        let issues = ZoneChecker.checkRemovingDuplicates(&parsed)
        if let error = issues.first(where: \.isError) {
            var field = "zone"
            if let loc = error.location, loc.line >= 1, loc.line <= sources.count {
                let source = sources[loc.line - 1]
                if let f = source.field {
                    field = f
                } else if let touched = sources.first(where: { $0.field != nil && $0.key.name == source.key.name }) {
                    // The rule broke at a name the request changed (a CNAME added beside
                    // existing data): the change is at fault, not the data already there.
                    field = touched.field!
                }
            }
            throw .invalid(field, error.message)
        }
        do {
            return (try Zone(origin: origin, records: parsed.records), issues)
        } catch {
            throw .invalid("zone", error.description)
        }
    }

    /// Applies RRsets replaced and deleted to `base`, the version being served: only the
    /// names they touch are checked (`Zone.applying`), and the new version shares the
    /// rest with `base`. Returns it with the warnings at those names.
    public static func apply(upserts: [StoredRRset], deletes: [RRsetKey], to base: Zone,
                             fieldOf: (RRsetKey) -> String?) throws(APIError) -> (Zone, [String]) {
        let origin = base.origin
        // One read of every new record's text.
        var text = ""
        for r in upserts {
            for data in r.records { text += "\(r.name) \(r.ttl) IN \(r.type) \(data)\n" }
        }
        let read: ParsedZone
        do {
            read = try ZoneFileReader(origin: origin, allowInclude: false).read(text: text, fileName: "zone")
        } catch {
            throw .invalid("zone", "stored zone data cannot be read: \(error)")
        }
        var records: [RRsetKey: [ResourceRecord]] = [:]
        for rec in read.records {
            records[RRsetKey(name: rec.owner.lowercased().description, type: rec.type.description), default: []].append(rec)
        }
        var edit = ZoneEdit()
        do {
            for r in upserts {
                guard let type = RRType(mnemonic: r.type) else { throw APIError.invalid(fieldOf(r.key) ?? "zone", "unknown type \(r.type)") }
                let owner = try DNSName(r.name)
                edit.replace(owner, type, with: (records[r.key] ?? []).map {
                    ResourceRecord(owner: owner, type: type, ttl: $0.ttl, rdata: $0.rdata)
                })
            }
            for k in deletes {
                guard let type = RRType(mnemonic: k.type) else { continue }
                edit.replace(try DNSName(k.name), type, with: [])
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw .invalid("zone", "\(error)")
        }
        do {
            let zone = try base.applying(edit)
            return (zone, zone.edit?.warnings ?? [])
        } catch {
            // The field of an RRset the change touched at the name that broke the rule.
            let owner = error.owner?.lowercased().description
            let keys = upserts.map(\.key) + deletes
            let field = keys.filter { $0.name == owner }.compactMap(fieldOf).min()
                ?? keys.compactMap(fieldOf).min() ?? "zone"
            throw .invalid(field, error.message)
        }
    }

    /// The RRset `key` of `zone` as rows store it (nil when the zone has none).
    static func storedRRset(_ key: RRsetKey, in zone: Zone) -> StoredRRset? {
        guard let owner = try? DNSName(key.name), let type = RRType(mnemonic: key.type) else { return nil }
        let records = zone.records(at: owner, type: type)
        guard !records.isEmpty else { return nil }
        // One TTL per RRset: the lowest (RFC 2181 §5.2).
        return StoredRRset(name: key.name, type: key.type, ttl: records.map(\.ttl).min()!,
                           records: records.map { RDataText.format(type: type, rdata: $0.rdata) })
    }

    /// The SOA serial in stored presentation text (RFC 1035 §3.3.13: the third field).
    public static func serial(ofSOA text: String) -> UInt32? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 7 else { return nil }
        return UInt32(fields[2])
    }

    public static func settingSerial(_ serial: UInt32, inSOA text: String) -> String {
        var fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count >= 7 else { return text }
        fields[2] = String(serial)
        return fields.joined(separator: " ")
    }

    /// RFC 1982 §3.2: `a` is greater than `b` in serial number arithmetic.
    public static func serialGreater(_ a: UInt32, _ b: UInt32) -> Bool {
        SerialArithmetic.isNewer(a, than: b)
    }

    /// The serial after a change: the requested one when it moves forward (RFC 1982),
    /// else the old one plus one (RFC 1982 §3.1 addition, wrapping; never zero, which
    /// some secondaries treat specially).
    public static func nextSerial(old: UInt32, requested: UInt32?) -> UInt32 {
        if let requested, serialGreater(requested, old) { return requested }
        let next = old &+ 1
        return next == 0 ? 1 : next
    }
}

/// `changes[1]` + `ttl` → `changes[1].ttl`; at the top level just `ttl`.
func join(_ base: String, _ name: String) -> String {
    base.isEmpty ? name : base + "." + name
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
