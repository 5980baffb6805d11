import BulwarkWire

/// Where a record or a problem comes from in a zone file.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// `file:line`, or just `file` for a problem of the whole file (line 0).
    public var description: String { line > 0 ? "\(file):\(line)" : file }
}

/// One problem found while reading or checking a zone.
public struct ZoneIssue: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: Sendable, Hashable, CustomStringConvertible {
        case error
        case warning

        public var description: String {
            switch self {
            case .error: return "error"
            case .warning: return "warning"
            }
        }
    }

    public var severity: Severity
    /// Nil when the problem is not tied to one line (a missing SOA, say).
    public var location: SourceLocation?
    public var message: String

    public init(_ severity: Severity, _ message: String, at location: SourceLocation? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
    }

    public var isError: Bool { severity == .error }

    /// `file:line: message`, or just the message when there is no location.
    public var description: String {
        guard let location else { return message }
        return "\(location): \(message)"
    }
}

/// A zone file could not be read: every error found (up to the reader's cap), with
/// the warnings seen before them. Each issue names the file and the line.
public struct ZoneFileError: Error, Sendable, CustomStringConvertible {
    public var issues: [ZoneIssue]

    public init(issues: [ZoneIssue]) {
        self.issues = issues
    }

    public var errors: [ZoneIssue] { issues.filter(\.isError) }
    public var warnings: [ZoneIssue] { issues.filter { !$0.isError } }

    public var description: String {
        issues.filter(\.isError).map(\.description).joined(separator: "\n")
    }
}

/// The records of one zone file, in file order, each with the place it was read from.
public struct ParsedZone: Sendable {
    public var origin: DNSName
    public var rrClass: RRClass
    public var records: [ResourceRecord]
    /// Warnings from reading (the checker adds its own).
    public var warnings: [ZoneIssue]

    /// Source files, indexed by `recordSources`.
    public var files: [String]
    /// Parallel to `records`: file index in the high 32 bits, line in the low 32.
    /// Kept packed so a million records cost 8 bytes each here, not a string apiece.
    public var recordSources: [UInt64]

    public init(origin: DNSName, rrClass: RRClass = .in, records: [ResourceRecord] = [],
                warnings: [ZoneIssue] = [], files: [String] = [], recordSources: [UInt64] = []) {
        self.origin = origin
        self.rrClass = rrClass
        self.records = records
        self.warnings = warnings
        self.files = files
        self.recordSources = recordSources
    }

    /// Where record `index` was read, when known.
    public func location(ofRecord index: Int) -> SourceLocation? {
        guard index < recordSources.count else { return nil }
        let packed = recordSources[index]
        let file = Int(packed >> 32)
        guard file < files.count else { return nil }
        return SourceLocation(file: files[file], line: Int(packed & 0xFFFF_FFFF))
    }

    /// All locations, parallel to `records`.
    public var locations: [SourceLocation?] {
        records.indices.map { location(ofRecord: $0) }
    }

    /// Appends a record read from `file` (an index into `files`) at `line`.
    public mutating func append(_ record: ResourceRecord, file: Int, line: Int) {
        records.append(record)
        recordSources.append(UInt64(file) << 32 | UInt64(UInt32(truncatingIfNeeded: line)))
    }

    /// The SOA record at the apex, if there is one.
    public var soa: ResourceRecord? {
        records.first { $0.type == .soa && $0.owner == origin }
    }

    /// The serial of the apex SOA (RFC 1035 §3.3.13: the first field after the two names).
    public var serial: UInt32? {
        guard let soa else { return nil }
        return SOAFields(rdata: soa.rdata)?.serial
    }
}

/// The five counters at the end of SOA data (RFC 1035 §3.3.13).
struct SOAFields {
    var serial: UInt32
    var refresh: UInt32
    var retry: UInt32
    var expire: UInt32
    var minimum: UInt32

    init?(rdata: [UInt8]) {
        guard rdata.count >= 22 else { return nil }
        func u32(_ i: Int) -> UInt32 {
            UInt32(rdata[i]) << 24 | UInt32(rdata[i + 1]) << 16 | UInt32(rdata[i + 2]) << 8 | UInt32(rdata[i + 3])
        }
        let end = rdata.count
        serial = u32(end - 20)
        refresh = u32(end - 16)
        retry = u32(end - 12)
        expire = u32(end - 8)
        minimum = u32(end - 4)
    }
}
