// Reading zone text as it arrives (a request body, chunk by chunk): the entries complete
// so far are parsed at once and their text dropped, so the whole text is never held.
// The result is the sequential reader's, record for record and line for line.

/// Zone text fed in chunks of any size. Each `feed` parses every entry that ends in what
/// has arrived: up to the last line end outside parentheses, quotes and comments
/// (RFC 1035 §5.1: parentheses group the lines of one entry), which the lexer starts
/// afresh from. The file's state (origin, TTLs, previous owner) carries over.
public struct ZoneTextStream {
    private var parser: ZoneFileParser
    private var file: ZoneFileParser.FileState
    private let fileName: String
    /// Text received but not yet parsed (the start of an unfinished entry).
    private var pending: [UInt8] = []
    /// How far `pending` has been scanned, and the lexical state there.
    private var scanned = 0
    private var depth = 0
    private var inQuote = false
    private var inComment = false
    private var escaped = false
    /// The last safe cut found in `pending` (just after a line end at depth 0).
    private var lastCut = 0
    /// Lines parsed so far: the next piece's first line is one more.
    private var lines = 0
    /// Parse once this much complete text has gathered (fewer, larger pieces).
    private let pieceSize: Int

    public init(reader: ZoneFileReader, fileName: String = "<text>", pieceSize: Int = 1 << 20) {
        var options = reader
        options.readThreads = 1
        parser = ZoneFileParser(options: options)
        parser.zone.files.append(fileName)
        parser.includeStack.append(fileName)
        self.fileName = fileName
        self.pieceSize = pieceSize
        file = ZoneFileParser.FileState(name: fileName, index: 0, origin: reader.origin, bytes: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// Octets received and not yet parsed.
    public var unparsedCount: Int { pending.count }

    /// Takes the next chunk; parses what it completes.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        pending.append(contentsOf: chunk)
        scan()
        if lastCut >= pieceSize { parse(upTo: lastCut) }
    }

    /// Parses the rest and returns the zone read, or the errors.
    public mutating func finish() throws(ZoneFileError) -> ParsedZone {
        scan()
        parse(upTo: pending.count)
        return try parser.finish()
    }

    /// Follows quotes, comments and parentheses from `scanned` on, noting safe cuts.
    private mutating func scan() {
        pending.withUnsafeBufferPointer { bytes in
            var i = scanned
            while i < bytes.count {
                let c = bytes[i]
                if escaped {
                    escaped = false
                } else if inComment {
                    if c == 0x0A { inComment = false; if depth == 0 { lastCut = i + 1 } }
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if inQuote {
                    if c == UInt8(ascii: "\"") { inQuote = false }
                } else {
                    switch c {
                    case UInt8(ascii: "\""): inQuote = true
                    case UInt8(ascii: ";"): inComment = true
                    case UInt8(ascii: "("): depth += 1
                    case UInt8(ascii: ")"): depth = max(0, depth - 1)
                    case 0x0A: if depth == 0 { lastCut = i + 1 }
                    default: break
                    }
                }
                i += 1
            }
            scanned = i
        }
    }

    /// Parses `pending[..<end]` and drops it.
    private mutating func parse(upTo end: Int) {
        guard end > 0 else { return }
        pending.withUnsafeBytes { bytes in
            let piece = UnsafeRawBufferPointer(rebasing: bytes[..<end])
            var state = ZoneFileParser.FileState(name: fileName, index: 0, origin: file.origin, bytes: piece)
            state.previousOwner = file.previousOwner
            state.previousOwnerText = file.previousOwnerText
            state.ownerInvalid = file.ownerInvalid
            parser.parse(&state, firstLine: lines + 1)
            file.origin = state.origin
            file.previousOwner = state.previousOwner
            file.previousOwnerText = state.previousOwnerText
            file.ownerInvalid = state.ownerInvalid
            for b in piece where b == 0x0A { lines += 1 }
        }
        pending.removeFirst(end)
        scanned -= end
        lastCut = 0
    }
}
