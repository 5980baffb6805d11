// The one place that calls the zone-file reader, the checker and the Zone builder.
import Logging

/// Why a zone could not be loaded; `description` leads with file:line when known.
public struct ZoneLoadError: Error, CustomStringConvertible {
    public var zone: DNSName
    public var description: String
}

public enum ZoneLoader {
    /// Reads, checks and builds one zone. Checker errors are load failures; warnings are logged.
    public static func load(_ source: ZoneSource, logger: Logger) throws(ZoneLoadError) -> Zone {
        let parsed: ParsedZone
        do {
            if let text = source.text {
                parsed = try ZoneFileReader(origin: source.name).read(text: text, file: source.path)
            } else {
                parsed = try ZoneFileReader(origin: source.name).read(path: source.path)
            }
        } catch {
            throw ZoneLoadError(zone: source.name, description: "\(error)")
        }
        return try build(source.name, parsed, file: source.path, logger: logger)
    }

    static func build(_ name: DNSName, _ parsed: ParsedZone, file: String, logger: Logger) throws(ZoneLoadError) -> Zone {
        var errors: [String] = []
        for issue in ZoneChecker.check(parsed) {
            switch issue.severity {
            case .error: errors.append("\(issue)")
            case .warning: logger.warning("zone \(name): \(issue)")
            }
        }
        if !errors.isEmpty {
            throw ZoneLoadError(zone: name, description: errors.joined(separator: "; "))
        }
        do {
            return try Zone(origin: name, records: parsed.records)
        } catch {
            throw ZoneLoadError(zone: name, description: "\(file): \(error)")
        }
    }

    /// Record count for the load log line.
    public static func recordCount(_ zone: Zone) -> Int { zone.records.count }
}
