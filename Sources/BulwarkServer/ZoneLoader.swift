// The one place that calls the zone-file reader, the checker and the Zone builder.
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
import Dispatch
import Logging

/// Why a zone could not be loaded; `description` leads with file:line when known.
public struct ZoneLoadError: Error, CustomStringConvertible {
    public var zone: DNSName
    public var description: String
}

public enum ZoneLoader {
    /// At most this many errors of one zone go into the log line.
    static let maxReportedErrors = 5

    /// Reads, checks and builds one zone. The checker's errors are load failures;
    /// the reader's and the checker's warnings are logged. Duplicates are dropped (RFC 2181 §5).
    public static func load(_ source: ZoneSource, logger: Logger) throws(ZoneLoadError) -> Zone {
        try readAndBuild(source, logger: logger)
    }

    /// Frees the parsed records of a large zone (millions of small arrays) and trims the
    /// heap on a thread of its own, so the new zone is served meanwhile; the resident size
    /// then falls to the packed zone's, not the reader's high-water mark.
    private final class Leftovers: @unchecked Sendable {
        // Touched by the loading thread until handed over, then only by the cleanup.
        var records: [ResourceRecord]
        init(_ records: [ResourceRecord]) { self.records = records }
    }

    private static func disposeInBackground(_ records: inout [ResourceRecord]) {
        let leftovers = Leftovers(records)
        records = []
        DispatchQueue.global(qos: .utility).async {
            leftovers.records = []
            trimMallocHeap()
        }
    }

    /// Above this many records the checker and the builder run side by side.
    static let concurrentCheckThreshold = 50_000

    private static func readAndBuild(_ source: ZoneSource, logger: Logger) throws(ZoneLoadError) -> Zone {
        let reader = ZoneFileReader(origin: source.name)
        var parsed: ParsedZone
        do {
            if let text = source.text {
                parsed = try reader.read(text: text, fileName: source.path)
            } else {
                parsed = try reader.read(path: source.path)
            }
        } catch {
            throw failure(source.name, error.errors)
        }
        for warning in parsed.warnings { logger.warning("zone \(source.name): \(warning)") }

        let issues: [ZoneIssue]
        let built: Result<Zone, ZoneError>?
        if parsed.records.count < concurrentCheckThreshold {
            // Check (dropping duplicates, RFC 2181 §5), then hand the records over
            // uniquely held so the builder frees them as it goes.
            issues = ZoneChecker.checkRemovingDuplicates(&parsed)
            var records = parsed.records
            parsed.records = []
            built = issues.contains(where: \.isError)
                ? nil
                : Result { () throws(ZoneError) in try Zone(origin: source.name, takingRecords: &records) }
            // The parsed records are gone now: hand their pages back.
            records = []
            trimMallocHeap()
        } else {
            // A large zone: the checker and the builder both only read the records, so they
            // run on two cores at once; the checker's verdict decides whether the zone is kept.
            (issues, built) = checkAndBuild(parsed, origin: source.name)
            disposeInBackground(&parsed.records)
        }
        for issue in issues where !issue.isError { logger.warning("zone \(source.name): \(issue)") }
        if issues.contains(where: \.isError) { throw failure(source.name, issues.filter(\.isError)) }
        switch built {
        case .success(let zone): return zone
        case .failure(let error): throw ZoneLoadError(zone: source.name, description: "\(source.path): \(error)")
        case nil: throw failure(source.name, [])
        }
    }

    private static func checkAndBuild(_ parsed: ParsedZone, origin: DNSName) -> ([ZoneIssue], Result<Zone, ZoneError>?) {
        final class Outcome: @unchecked Sendable {
            // Each slot is written by one thread and read after both have finished.
            var issues: [ZoneIssue] = []
            var built: Result<Zone, ZoneError>?
        }
        let outcome = Outcome()
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 {
                outcome.issues = ZoneChecker.check(parsed)
            } else {
                outcome.built = Result { () throws(ZoneError) in try Zone(origin: origin, records: parsed.records) }
            }
        }
        return (outcome.issues, outcome.built)
    }

    private static func failure(_ zone: DNSName, _ errors: [ZoneIssue]) -> ZoneLoadError {
        var text = errors.prefix(maxReportedErrors).map(\.description).joined(separator: "; ")
        if errors.count > maxReportedErrors { text += "; and \(errors.count - maxReportedErrors) more error(s)" }
        if errors.isEmpty { text = "unreadable zone" }
        return ZoneLoadError(zone: zone, description: text)
    }

    /// Record count for the load log line.
    public static func recordCount(_ zone: Zone) -> Int { zone.recordCount }
}
