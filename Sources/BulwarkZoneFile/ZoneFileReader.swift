import BulwarkWire

/// Reads zone files in the master-file format of RFC 1035 §5, with the `$TTL`
/// directive of RFC 2308 §4, `TYPEnnn`/`CLASSnnn` and `\#` data of RFC 3597 §5, and
/// BIND's TTL units (`1h30m`, `1w2d`).
///
/// ```swift
/// let zone = try ZoneFileReader(origin: DNSName("example.com.")).read(path: "example.com.zone")
/// ```
///
/// Errors are collected (up to `maxErrors`) rather than stopping at the first; if
/// there are any, `read` throws them all together in a `ZoneFileError`.
public struct ZoneFileReader: Sendable {
    /// The initial `$ORIGIN`: relative names and `@` are resolved against it.
    public var origin: DNSName
    /// The zone's class; a record of another class is an error.
    public var rrClass: RRClass
    /// `$TTL` in force before the file sets one (nil: none, as BIND).
    public var defaultTTL: UInt32?
    /// Whether `$INCLUDE` is honoured. Turn off for zone text from untrusted sources.
    public var allowInclude: Bool
    /// Deepest nesting of `$INCLUDE` accepted.
    public var maxIncludeDepth: Int
    /// Reading stops after this many errors.
    public var maxErrors: Int
    /// Threads that read one large file in pieces (nil: one per CPU, at most 4; 1: sequential).
    public var readThreads: Int?
    /// Smallest piece worth a thread of its own.
    var minimumPieceSize = 1 << 20

    public init(origin: DNSName, rrClass: RRClass = .in, defaultTTL: UInt32? = nil,
                allowInclude: Bool = true, maxIncludeDepth: Int = 16, maxErrors: Int = 100) {
        self.origin = origin
        self.rrClass = rrClass
        self.defaultTTL = defaultTTL
        self.allowInclude = allowInclude
        self.maxIncludeDepth = maxIncludeDepth
        self.maxErrors = maxErrors
    }

    /// Reads the zone file at `path`. Relative `$INCLUDE` paths are relative to the
    /// directory of the file that includes them.
    public func read(path: String) throws(ZoneFileError) -> ParsedZone {
        var parser = ZoneFileParser(options: self)
        parser.include(path: path, origin: origin, from: nil)
        return try parser.finish()
    }

    /// Reads zone text. `fileName` names it in messages; relative `$INCLUDE` paths are
    /// resolved against its directory.
    public func read(text: String, fileName: String = "<text>") throws(ZoneFileError) -> ParsedZone {
        try read(bytes: Array(text.utf8), fileName: fileName)
    }

    /// Reads zone text held as bytes.
    public func read(bytes: [UInt8], fileName: String = "<text>") throws(ZoneFileError) -> ParsedZone {
        var parser = ZoneFileParser(options: self)
        parser.readFile(bytes: bytes, name: fileName, canonicalPath: nil, origin: origin)
        return try parser.finish()
    }
}

/// The state of one read: the zone built so far, issues, TTL defaults and the
/// include stack. Per-file state (origin, previous owner) lives in `readFile`.
struct ZoneFileParser {
    let options: ZoneFileReader
    var zone: ParsedZone
    var issues: [ZoneIssue] = []
    var errorCount = 0
    /// RFC 2308 §4: the `$TTL` value, used for records without a TTL.
    var dollarTTL: UInt32?
    /// RFC 1035 §5.1: without `$TTL`, an omitted TTL is the last one given.
    var lastTTL: UInt32?
    /// Canonical paths of the files being read, outermost first (include loops).
    var includeStack: [String] = []
    var gaveUp = false
    /// Reused between records to avoid allocating the field array each time.
    var fields: [PresentationField] = []

    init(options: ZoneFileReader) {
        self.options = options
        self.zone = ParsedZone(origin: options.origin, rrClass: options.rrClass)
        self.dollarTTL = options.defaultTTL
    }

    func finish() throws(ZoneFileError) -> ParsedZone {
        if errorCount > 0 { throw ZoneFileError(issues: issues) }
        var result = zone
        result.warnings = issues
        return result
    }

    mutating func report(_ severity: ZoneIssue.Severity, _ message: String, file: String, line: Int) {
        guard !gaveUp else { return }
        issues.append(ZoneIssue(severity, message, at: file.isEmpty ? nil : SourceLocation(file: file, line: line)))
        if severity == .error {
            errorCount += 1
            if errorCount >= options.maxErrors {
                gaveUp = true
                issues.append(ZoneIssue(.error, "too many errors (\(errorCount)), stopped reading",
                                        at: SourceLocation(file: file, line: line)))
            }
        }
    }

    // MARK: Files and $INCLUDE

    /// Reads a file (the top-level one, or an included one) with `origin` in force.
    mutating func include(path: String, origin: DNSName, from includer: SourceLocation?) {
        let canonical = ZoneFileIO.canonicalPath(path) ?? path
        let where_ = includer ?? SourceLocation(file: path, line: 0)
        if includeStack.contains(canonical) {
            report(.error, "$INCLUDE loop: '\(path)' is already being read", file: where_.file, line: where_.line)
            return
        }
        if includeStack.count > options.maxIncludeDepth {
            report(.error, "$INCLUDE nested more than \(options.maxIncludeDepth) deep", file: where_.file, line: where_.line)
            return
        }
        let bytes: [UInt8]
        do {
            bytes = try ZoneFileIO.readFile(path)
        } catch {
            if includer == nil {
                report(.error, "cannot read '\(path)': \(error.message)", file: "", line: 0)
            } else {
                report(.error, "cannot read included file '\(path)': \(error.message)", file: where_.file, line: where_.line)
            }
            return
        }
        readFile(bytes: bytes, name: path, canonicalPath: canonical, origin: origin)
    }

    mutating func readFile(bytes: [UInt8], name: String, canonicalPath: String?, origin: DNSName) {
        let fileIndex = zone.files.count
        zone.files.append(name)
        includeStack.append(canonicalPath ?? name)
        defer { includeStack.removeLast() }
        bytes.withUnsafeBytes { buffer in
            // A large top-level file is read on several cores (ZoneFileParallelRead.swift).
            if fileIndex == 0, readInPieces(buffer, name: name, origin: origin) { return }
            if zone.records.isEmpty {
                // One record a line is the common case: size the arrays once.
                var lines = 0
                for b in buffer where b == 0x0A { lines += 1 }
                zone.records.reserveCapacity(lines + 1)
                zone.recordSources.reserveCapacity(lines + 1)
            }
            var file = FileState(name: name, index: fileIndex, origin: origin, bytes: buffer)
            parse(&file)
        }
    }

    /// Per-file state: RFC 1035 §5.1 says `$INCLUDE` does not change the including
    /// file's origin or previous owner, so each file has its own.
    struct FileState {
        let name: String
        let index: Int
        var origin: DNSName
        let bytes: UnsafeRawBufferPointer
        /// The previous owner and the token it was parsed from, so runs of records at
        /// one name parse the name once. `$ORIGIN` clears the text.
        var previousOwner: DNSName?
        var previousOwnerText: [UInt8] = []
        /// Set after a bad owner, so the records that follow with a blank owner are
        /// skipped silently instead of being attached to the wrong name.
        var ownerInvalid = false

        init(name: String, index: Int, origin: DNSName, bytes: UnsafeRawBufferPointer) {
            self.name = name
            self.index = index
            self.origin = origin
            self.bytes = bytes
        }

        func text(_ t: ZoneFileLexer.Token) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[t.start..<t.end]), as: UTF8.self)
        }

        func slice(_ t: ZoneFileLexer.Token) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: bytes[t.start..<t.end])
        }
    }

    mutating func parse(_ file: inout FileState, firstLine: Int = 1) {
        var lexer = ZoneFileLexer(file.bytes, line: firstLine)
        var entry = ZoneFileLexer.Entry()
        entry.tokens.reserveCapacity(16)
        while !gaveUp {
            do {
                guard try lexer.next(into: &entry) else { break }
            } catch {
                report(.error, error.message, file: file.name, line: error.line)
                continue
            }
            if !entry.startsWithBlank, let first = entry.tokens.first, !first.quoted,
               file.bytes[first.start] == UInt8(ascii: "$") {
                directive(entry, &file)
            } else {
                record(entry, &file)
            }
        }
    }

    // MARK: Directives

    mutating func directive(_ entry: ZoneFileLexer.Entry, _ file: inout FileState) {
        let tokens = entry.tokens
        let line = entry.line
        let keyword = file.text(tokens[0]).uppercased()
        switch keyword {
        case "$ORIGIN":
            // RFC 1035 §5.1: `$ORIGIN <domain-name>`; a relative name is taken
            // relative to the current origin, as BIND does.
            guard tokens.count == 2 else {
                report(.error, "$ORIGIN takes exactly one domain name", file: file.name, line: line)
                return
            }
            do {
                file.origin = try DNSName(presentation: file.slice(tokens[1]), origin: file.origin)
                file.previousOwnerText.removeAll(keepingCapacity: true)  // its meaning changed
            } catch {
                report(.error, "bad $ORIGIN '\(file.text(tokens[1]))': \(error)", file: file.name, line: line)
            }
        case "$TTL":
            // RFC 2308 §4: `$TTL <TTL> [comment]`.
            guard tokens.count == 2 else {
                report(.error, "$TTL takes exactly one TTL value", file: file.name, line: line)
                return
            }
            if let ttl = TTLText.parse(file.slice(tokens[1])) {
                checkTTLRange(ttl, file: file, line: line)
                dollarTTL = ttl
            } else {
                report(.error, "bad TTL '\(file.text(tokens[1]))' in $TTL", file: file.name, line: line)
            }
        case "$INCLUDE":
            // RFC 1035 §5.1: `$INCLUDE <file-name> [<domain-name>]`.
            guard tokens.count == 2 || tokens.count == 3 else {
                report(.error, "$INCLUDE takes a file name and an optional origin", file: file.name, line: line)
                return
            }
            guard options.allowInclude else {
                report(.error, "$INCLUDE is not allowed here", file: file.name, line: line)
                return
            }
            var includeOrigin = file.origin
            if tokens.count == 3 {
                do {
                    includeOrigin = try DNSName(presentation: file.slice(tokens[2]), origin: file.origin)
                } catch {
                    report(.error, "bad origin '\(file.text(tokens[2]))' in $INCLUDE: \(error)", file: file.name, line: line)
                    return
                }
            }
            let target = file.text(tokens[1])
            let path = target.hasPrefix("/") ? target : ZoneFileIO.directory(of: file.name) + target
            include(path: path, origin: includeOrigin, from: SourceLocation(file: file.name, line: line))
        case "$GENERATE":
            report(.error, "$GENERATE is not supported", file: file.name, line: line)
        default:
            report(.error, "unknown directive '\(file.text(tokens[0]))'", file: file.name, line: line)
        }
    }

    // MARK: Records

    mutating func record(_ entry: ZoneFileLexer.Entry, _ file: inout FileState) {
        let tokens = entry.tokens
        let line = entry.line
        var i = 0

        // Owner: RFC 1035 §5.1, a blank owner is the previous one; `@` is the origin.
        let owner: DNSName
        if entry.startsWithBlank {
            if file.ownerInvalid { return }
            guard let previous = file.previousOwner else {
                report(.error, "no owner name: the first record must name its owner", file: file.name, line: line)
                return
            }
            owner = previous
        } else {
            let t = tokens[0]
            i = 1
            if t.quoted {
                report(.error, "owner name must not be quoted", file: file.name, line: line)
                file.ownerInvalid = true
                return
            }
            if let previous = file.previousOwner, file.sameText(t, as: file.previousOwnerText) {
                owner = previous
            } else if t.count == 1 && file.bytes[t.start] == UInt8(ascii: "@") {
                owner = file.origin
                file.rememberOwner(owner, token: t)
            } else {
                do {
                    owner = try DNSName(presentation: file.slice(t), origin: file.origin)
                } catch {
                    report(.error, "bad owner name '\(file.text(t))': \(error)", file: file.name, line: line)
                    file.ownerInvalid = true
                    return
                }
                file.rememberOwner(owner, token: t)
            }
            file.ownerInvalid = false
        }

        // TTL and class, in either order, each optional (RFC 1035 §5.1).
        var ttl: UInt32?
        var rrClass: RRClass?
        while i < tokens.count, ttl == nil || rrClass == nil {
            let t = tokens[i]
            if t.quoted { break }
            let first = file.bytes[t.start]
            if first >= 0x30 && first <= 0x39 {
                guard ttl == nil else {
                    report(.error, "TTL given twice ('\(ttl!)' and '\(file.text(t))')", file: file.name, line: line)
                    return
                }
                guard let value = TTLText.parse(file.slice(t)) else {
                    report(.error, "bad TTL '\(file.text(t))'", file: file.name, line: line)
                    return
                }
                checkTTLRange(value, file: file, line: line)
                ttl = value
                i += 1
            } else if rrClass == nil, let c = Mnemonics.rrClass(file.slice(t)) {
                guard c == zone.rrClass else {
                    report(.error, "class \(c) differs from the zone's class \(zone.rrClass)", file: file.name, line: line)
                    return
                }
                rrClass = c
                i += 1
            } else {
                break
            }
        }

        guard i < tokens.count else {
            report(.error, "missing record type", file: file.name, line: line)
            return
        }
        let typeToken = tokens[i]
        i += 1
        guard !typeToken.quoted, let type = Mnemonics.rrType(file.slice(typeToken)) else {
            let text = file.text(typeToken)
            if let rrClass, let c = Mnemonics.rrClass(file.slice(typeToken)) {
                report(.error, "class given twice ('\(rrClass)' and '\(c)')", file: file.name, line: line)
            } else {
                report(.error, "unknown type '\(text)'", file: file.name, line: line)
            }
            return
        }
        if type.isMetaType {
            report(.error, "type \(type) cannot appear in a zone", file: file.name, line: line)
            return
        }

        // Record data: handed over as raw fields, escapes unresolved.
        fields.removeAll(keepingCapacity: true)
        while i < tokens.count {
            let t = tokens[i]
            fields.append(PresentationField(Array(file.slice(t)), quoted: t.quoted))
            i += 1
        }
        var rdata: [UInt8]
        do {
            rdata = try RDataText.parse(type: type, fields: fields, origin: file.origin)
            if rdata.capacity > rdata.count + 16 {
                // Millions of records stay in memory: keep each at its size.
                rdata = Array(rdata[...])
            }
        } catch {
            report(.error, "bad \(type) record: \(error.message)", file: file.name, line: line)
            return
        }

        // TTL defaults: $TTL (RFC 2308 §4), else the last TTL given (RFC 1035 §5.1),
        // else for an SOA its MINIMUM, as BIND does.
        let recordTTL: UInt32
        if let ttl {
            recordTTL = ttl
            lastTTL = ttl
        } else if let dollarTTL {
            recordTTL = dollarTTL
        } else if let lastTTL {
            recordTTL = lastTTL
        } else if type == .soa, let soa = SOAFields(rdata: rdata) {
            recordTTL = soa.minimum
            lastTTL = soa.minimum
            report(.warning, "no TTL specified; using SOA MINIMUM (\(soa.minimum)) instead", file: file.name, line: line)
        } else {
            report(.error, "no TTL specified and no $TTL in force", file: file.name, line: line)
            return
        }

        zone.append(ResourceRecord(owner: owner, type: type, rrClass: zone.rrClass, ttl: recordTTL, rdata: rdata),
                    file: file.index, line: line)
    }

    /// RFC 2181 §8: TTLs are 31-bit; a larger value is kept but flagged.
    mutating func checkTTLRange(_ ttl: UInt32, file: FileState, line: Int) {
        if ttl > 0x7FFF_FFFF {
            report(.warning, "TTL \(ttl) exceeds 2147483647 (RFC 2181 §8)", file: file.name, line: line)
        }
    }
}

extension ZoneFileParser.FileState {
    func sameText(_ t: ZoneFileLexer.Token, as text: [UInt8]) -> Bool {
        guard t.count == text.count else { return false }
        var k = 0
        var j = t.start
        while k < text.count {
            if bytes[j] != text[k] { return false }
            k += 1; j += 1
        }
        return true
    }

    mutating func rememberOwner(_ owner: DNSName, token t: ZoneFileLexer.Token) {
        previousOwner = owner
        previousOwnerText.removeAll(keepingCapacity: true)
        previousOwnerText.append(contentsOf: slice(t))
    }
}

