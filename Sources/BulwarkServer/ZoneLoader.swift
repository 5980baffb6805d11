// The one place that calls the zone-file reader, the checker and the Zone builder.
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
        let zone = try readAndBuild(source, logger: logger)
        // The parsed records (a few hundred bytes apiece) are gone now; hand their pages
        // back so the resident size is the packed zone's, not the reader's high-water mark.
        trimMallocHeap()
        return zone
    }

    private static func readAndBuild(_ source: ZoneSource, logger: Logger) throws(ZoneLoadError) -> Zone {
        let reader = ZoneFileReader(origin: source.name)
        var parsed: ParsedZone
        do {
            // Read, check (ZoneChecker), drop duplicates; any error throws.
            if let text = source.text {
                parsed = try reader.readChecked(text: text, fileName: source.path)
            } else {
                parsed = try reader.readChecked(path: source.path)
            }
        } catch {
            throw failure(source.name, error.errors)
        }
        for warning in parsed.warnings { logger.warning("zone \(source.name): \(warning)") }
        do {
            // Hand the records over (uniquely held) so the builder frees them as it goes.
            var records = parsed.records
            parsed.records = []
            return try Zone(origin: source.name, takingRecords: &records)
        } catch {
            throw ZoneLoadError(zone: source.name, description: "\(source.path): \(error)")
        }
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
