// Reading zone text as it arrives on several cores: the text is cut into pieces at
// the start of an entry with an owner, each piece is parsed on a thread of its own as
// soon as it is complete, from the state ($ORIGIN, $TTL) in force where it starts, and
// the pieces are joined in order at the end, as a large file is read
// (ZoneFileParallelRead.swift). The pieces are kept for the caller, who stores them.
import BulwarkWire
import Dispatch
import Synchronization

/// Zone text fed in chunks of any size, parsed piece by piece while more arrives.
/// The result is the sequential reader's, record for record and line for line. Where
/// reading apart could differ (an error anywhere, no `$TTL` in force at a cut, a
/// directive that cannot be replayed), the whole text is read again by `reader` at
/// the end, as a file is.
public struct ZoneTextPieces {
    /// The text received, in pieces: each but the last ends with a line end, and the
    /// next starts with an owner name outside parentheses, quotes and comments.
    public private(set) var pieces: [[UInt8]] = []
    private var current: [UInt8] = []
    private let reader: ZoneFileReader
    private let fileName: String
    private let pieceSize: Int
    private let context: ZoneFilePiece.Context
    private let parsed = Parsed()
    private let group = DispatchGroup()

    /// The lexical state at `scanned` in `current` (RFC 1035 §5.1: parentheses group
    /// the lines of one entry; quotes and comments hide them).
    private var scanned = 0
    private var depth = 0
    private var inQuote = false
    private var inComment = false
    private var escaped = false
    private var atLineStart = true
    /// Where in `current` the directive line being scanned started.
    private var directiveStart: Int?
    /// The directives of the current piece, to replay into `state` once it is cut.
    private var directives: [[UInt8]] = []
    /// The state where the current piece starts; nil once reading apart is given up.
    private var state: (origin: DNSName, ttl: UInt32?)?
    /// Whether `finish` joined the pieces as read apart (false: it read the text again whole).
    private(set) var readApart = false

    /// Pieces parsed so far, by number (written by the parsing threads).
    private final class Parsed: Sendable {
        let slots = Mutex<[Int: ZoneFilePiece]>([:])
    }

    public init(reader: ZoneFileReader, fileName: String = "<text>", pieceSize: Int = 4 << 20) {
        self.reader = reader
        self.fileName = fileName
        self.pieceSize = pieceSize
        context = ZoneFilePiece.Context(options: reader, includeStack: [fileName], files: [fileName], name: fileName)
        state = (reader.origin, reader.defaultTTL)
    }

    /// Takes the next chunk; starts parsing each piece it completes.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        current.append(contentsOf: chunk)
        while let cut = nextCut() { cutPiece(at: cut) }
    }

    /// Parses the rest, waits for every piece, and returns the zone read, or the errors.
    public mutating func finish() throws(ZoneFileError) -> ParsedZone {
        if !current.isEmpty || pieces.isEmpty { cutPiece(at: current.count) }
        group.wait()
        if state != nil {
            let slots = parsed.slots.withLock { slots in
                defer { slots = [:] }
                return slots
            }
            var read = slots.sorted { $0.key < $1.key }.map(\.value)
            var parser = ZoneFileParser(options: reader)
            parser.zone.files.append(fileName)
            parser.includeStack.append(fileName)
            if read.count == pieces.count, parser.join(&read) {
                readApart = true
                return try parser.finish()
            }
        }
        // Read again as one text, as the reader reads a file.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
        for piece in pieces { bytes.append(contentsOf: piece) }
        return try reader.read(bytes: bytes, fileName: fileName)
    }

    /// The start of the first line in `current` at or after `pieceSize` that begins an
    /// entry with an owner name, scanning on from where the last call stopped.
    private mutating func nextCut() -> Int? {
        let size = pieceSize
        return current.withUnsafeBufferPointer { bytes -> Int? in
            var i = scanned
            defer { scanned = i }
            while i < bytes.count {
                let c = bytes[i]
                if atLineStart {
                    atLineStart = false
                    if c == UInt8(ascii: "$") {
                        directiveStart = i
                    } else if i >= size && ZoneFileCutter.startsOwner(c) {
                        return i
                    }
                }
                if escaped {
                    escaped = false
                } else if inComment {
                    if c == 0x0A { inComment = false; lineEnded(at: i, bytes) }
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
                    case 0x0A: lineEnded(at: i, bytes)
                    default: break
                    }
                }
                i += 1
            }
            return nil
        }
    }

    /// A line end outside quotes: at depth 0 the next line starts an entry, and a
    /// directive line is complete.
    private mutating func lineEnded(at i: Int, _ bytes: UnsafeBufferPointer<UInt8>) {
        guard depth == 0 else { return }
        atLineStart = true
        if let start = directiveStart {
            directives.append(Array(bytes[start...i]))
            directiveStart = nil
        }
    }

    /// Makes `current[..<end]` a piece, parses it on another thread while the state
    /// where it starts is known, and moves the state on to its end.
    private mutating func cutPiece(at end: Int) {
        let piece = Array(current[..<end])
        current.removeFirst(end)
        scanned -= end
        if let start = directiveStart { directiveStart = start - end }
        let number = pieces.count
        pieces.append(piece)
        guard var next = state else { return }
        let context = self.context, parsed = self.parsed, start = next
        DispatchQueue.global().async(group: group) {
            let read = piece.withUnsafeBytes { ZoneFilePiece($0, context: context, origin: start.origin, dollarTTL: start.ttl) }
            parsed.slots.withLock { $0[number] = read }
        }
        for line in directives {
            let replayed = line.withUnsafeBytes { ZoneFileParser.replay($0, into: &next) }
            if !replayed { state = nil; break }
        }
        directives = []
        // RFC 1035 §5.1: without $TTL an omitted TTL is the previous record's, which only
        // the piece before knows.
        if state != nil { state = next.ttl == nil ? nil : next }
    }
}
