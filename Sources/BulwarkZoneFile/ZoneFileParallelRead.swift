// Reading one large zone file on several cores. The file is cut at record boundaries
// found by a quick scan, each piece is parsed on its own thread with the state
// ($ORIGIN, $TTL) in force where it starts, and the pieces are joined in order. The
// result is the sequential reader's, record for record and line for line; any file
// where that could differ (an error anywhere, no $TTL in force at a cut, a malformed
// entry before one) is read sequentially instead.
import BulwarkWire
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds where a zone file can be cut without reading it first: at the start of a
/// line that begins with an owner name (not blank, which RFC 1035 §5.1 would give the
/// previous owner; not a comment or a directive). Whether the cut really falls between
/// two entries is checked afterwards: a cut inside parentheses or a quoted string makes
/// the pieces on both sides fail to lex, and the caller then reads the file in one go.
struct ZoneFileCutter {
    /// Up to `pieces - 1` cut offsets spread evenly (fewer when pieces would be smaller
    /// than `minimumPiece`, or no line near a target starts with an owner).
    static func cuts(_ bytes: UnsafeRawBufferPointer, pieces: Int, minimumPiece: Int) -> [Int] {
        let n = bytes.count
        guard pieces > 1, n >= 2 * minimumPiece else { return [] }
        let pieceCount = min(pieces, n / minimumPiece)
        var cuts: [Int] = []
        for k in 1..<pieceCount {
            var p = n / pieceCount * k
            let limit = min(n, p + minimumPiece / 2)
            while p < limit {
                guard let newline = find(0x0A, in: bytes, from: p, to: limit) else { break }
                p = newline + 1
                if p < n && startsOwner(bytes[p]) && p > (cuts.last ?? 0) {
                    cuts.append(p)
                    break
                }
            }
        }
        return cuts
    }

    static func startsOwner(_ c: UInt8) -> Bool {
        c != 0x20 && c != 0x09 && c != 0x0D && c != 0x0A && c != UInt8(ascii: ";") && c != UInt8(ascii: "$")
    }

    /// The lines before `end` that start with `$`: the directives whose state ($ORIGIN,
    /// $TTL) a piece starting at `end` inherits. A `$` line that is really inside a
    /// multi-line entry is caught by the caller's check of each piece's end state.
    static func directiveLines(_ bytes: UnsafeRawBufferPointer, before end: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var p = 0
        while p < end, let dollar = find(UInt8(ascii: "$"), in: bytes, from: p, to: end) {
            p = dollar + 1
            guard dollar == 0 || bytes[dollar - 1] == 0x0A else { continue }
            let lineEnd = find(0x0A, in: bytes, from: dollar, to: end).map { $0 + 1 } ?? end
            result.append(dollar..<lineEnd)
            p = lineEnd
        }
        return result
    }

    /// The first `byte` in `bytes[from..<to]` (memchr).
    static func find(_ byte: UInt8, in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard from < to, let base = bytes.baseAddress else { return nil }
        guard let hit = memchr(base + from, Int32(byte), to - from) else { return nil }
        return UnsafeRawPointer(hit) - base
    }
}

/// One piece of a top-level zone file, read on its own from the state ($ORIGIN, $TTL)
/// in force where it starts, its lines numbered from its own start.
struct ZoneFilePiece: @unchecked Sendable {
    /// What every piece of one file is read with.
    struct Context: @unchecked Sendable {
        let options: ZoneFileReader
        let includeStack: [String]
        /// The files listed before the piece is read (the top-level file last).
        let files: [String]
        let name: String
    }

    var parser: ZoneFileParser
    let origin: DNSName
    let dollarTTL: UInt32?
    /// Its line ends, and the origin in force at its end.
    let lines: Int
    let endOrigin: DNSName

    init(_ piece: UnsafeRawBufferPointer, context: Context, origin: DNSName, dollarTTL: UInt32?) {
        var parser = ZoneFileParser(options: context.options)
        parser.dollarTTL = dollarTTL
        parser.includeStack = context.includeStack
        parser.zone.files = context.files
        var lines = 0
        for b in piece where b == 0x0A { lines += 1 }
        parser.zone.records.reserveCapacity(lines + 1)
        parser.zone.recordSources.reserveCapacity(lines + 1)
        var file = ZoneFileParser.FileState(name: context.name, index: context.files.count - 1, origin: origin, bytes: piece)
        parser.parse(&file)
        self.parser = parser
        self.origin = origin
        self.dollarTTL = dollarTTL
        self.lines = lines
        self.endOrigin = file.origin
    }
}

extension ZoneFileParser {
    /// Worker threads for one file: the option, else the online CPUs, at most 4.
    var readThreads: Int {
        options.readThreads ?? min(4, max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }

    /// Reads the top-level file in pieces on several threads. Returns false (having
    /// changed nothing) when the file should be read sequentially.
    mutating func readInPieces(_ buffer: UnsafeRawBufferPointer, name: String, origin: DNSName) -> Bool {
        let threads = readThreads
        guard threads > 1, zone.records.isEmpty, issues.isEmpty else { return false }
        let cuts = ZoneFileCutter.cuts(buffer, pieces: threads, minimumPiece: max(1, options.minimumPieceSize))
        guard let lastCut = cuts.last else { return false }

        // The state assumed at each cut: the directives before it replayed. Checked below
        // against the state the piece before actually ends with.
        let directives = ZoneFileCutter.directiveLines(buffer, before: lastCut)
        var starts: [(offset: Int, origin: DNSName, dollarTTL: UInt32?)] = [(0, origin, dollarTTL)]
        var state = (origin: origin, ttl: dollarTTL)
        var next = 0
        for cut in cuts {
            while next < directives.count && directives[next].lowerBound < cut {
                guard Self.replay(UnsafeRawBufferPointer(rebasing: buffer[directives[next]]), into: &state) else { return false }
                next += 1
            }
            // RFC 1035 §5.1: without $TTL an omitted TTL is the previous record's, which
            // only the piece before knows.
            guard state.ttl != nil else { return false }
            starts.append((cut, state.origin, state.ttl))
        }

        let pieceCount = starts.count
        let results = UnsafeMutableBufferPointer<ZoneFilePiece?>.allocate(capacity: pieceCount)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        let context = ZoneFilePiece.Context(options: options, includeStack: includeStack, files: zone.files, name: name)
        // Each thread reads its own piece of the shared (read-only) text and writes its
        // own slot of `results`.
        struct Shared: @unchecked Sendable {
            let buffer: UnsafeRawBufferPointer
            let results: UnsafeMutableBufferPointer<ZoneFilePiece?>
            let starts: [(offset: Int, origin: DNSName, dollarTTL: UInt32?)]
        }
        let shared = Shared(buffer: buffer, results: results, starts: starts)
        DispatchQueue.concurrentPerform(iterations: pieceCount) { k in
            let starts = shared.starts, buffer = shared.buffer
            let start = starts[k]
            let end = k + 1 < pieceCount ? starts[k + 1].offset : buffer.count
            shared.results[k] = ZoneFilePiece(UnsafeRawBufferPointer(rebasing: buffer[start.offset..<end]), context: context,
                                              origin: start.origin, dollarTTL: start.dollarTTL)
        }
        var pieces = results.map { $0! }
        return join(&pieces)
    }

    /// Joins pieces of the top-level file (the last file listed) read apart, in order.
    /// Returns false, having changed nothing, when the sequential reader could read
    /// otherwise: any piece has an error (then messages and the error limit are exactly
    /// the sequential reader's), or a piece did not start in the state ($ORIGIN, $TTL)
    /// the one before it ended in (a `$` line taken for a directive that was not one).
    mutating func join(_ pieces: inout [ZoneFilePiece]) -> Bool {
        guard !pieces.isEmpty, pieces.allSatisfy({ $0.parser.errorCount == 0 }) else { return false }
        for k in 1..<max(1, pieces.count) {
            guard pieces[k - 1].endOrigin.wire == pieces[k].origin.wire,
                  pieces[k - 1].parser.dollarTTL == pieces[k].dollarTTL else { return false }
        }
        let name = zone.files[zone.files.count - 1]
        let fileIndex = zone.files.count - 1
        var lineBase = 0
        for k in pieces.indices {
            var piece = pieces[k].parser
            pieces[k].parser = ZoneFileParser(options: options)
            if lineBase > 0 {
                let mainFile = UInt64(fileIndex)
                for i in piece.zone.recordSources.indices where piece.zone.recordSources[i] >> 32 == mainFile {
                    piece.zone.recordSources[i] += UInt64(lineBase)
                }
                for i in piece.issues.indices where piece.issues[i].location?.file == name {
                    piece.issues[i].location!.line += lineBase
                }
            }
            lineBase += pieces[k].lines
            // Files $INCLUDEd by this piece follow those of the pieces before.
            let shift = UInt64(zone.files.count - (fileIndex + 1))
            zone.files.append(contentsOf: piece.zone.files[(fileIndex + 1)...])
            if shift != 0 {
                for i in piece.zone.recordSources.indices where piece.zone.recordSources[i] >> 32 > UInt64(fileIndex) {
                    piece.zone.recordSources[i] += shift << 32
                }
            }
            if k == 0 {
                zone.records = piece.zone.records
                zone.recordSources = piece.zone.recordSources
            } else {
                Self.moveRecords(from: &piece.zone.records, to: &zone.records)
                zone.recordSources.append(contentsOf: piece.zone.recordSources)
            }
            piece.zone.records = []
            issues.append(contentsOf: piece.issues)
            if k == pieces.count - 1 {
                dollarTTL = piece.dollarTTL
                lastTTL = piece.lastTTL
            }
        }
        return true
    }

    /// Appends `source`'s records to `destination` by moving them: a plain copy would
    /// retain and later release two arrays per record, touching every one of millions of
    /// small heap objects. The moved-from slots are refilled with a record of empty
    /// arrays (the shared empty storage, which needs no reference counting).
    static func moveRecords(from source: inout [ResourceRecord], to destination: inout [ResourceRecord]) {
        destination.reserveCapacity(destination.count + source.count)
        let hollow = ResourceRecord(owner: DNSName(uncheckedWire: []), type: .a, ttl: 0, rdata: [])
        source.withUnsafeMutableBufferPointer { slots in
            guard let base = slots.baseAddress else { return }
            for i in 0..<slots.count {
                destination.append((base + i).move())
                (base + i).initialize(to: hollow)
            }
        }
        source = []
    }

    /// Applies a `$ORIGIN` or `$TTL` directive to the state; false for anything else
    /// or anything malformed (the sequential reader handles and reports those).
    static func replay(_ text: UnsafeRawBufferPointer, into state: inout (origin: DNSName, ttl: UInt32?)) -> Bool {
        var lexer = ZoneFileLexer(text)
        var entry = ZoneFileLexer.Entry()
        guard (try? lexer.next(into: &entry)) == true, !entry.tokens.isEmpty else { return false }
        let keyword = String(decoding: UnsafeRawBufferPointer(rebasing: text[entry.tokens[0].start..<entry.tokens[0].end]), as: UTF8.self).uppercased()
        let value = UnsafeRawBufferPointer(rebasing: text[entry.tokens[1].start..<entry.tokens[1].end])
        // RFC 1035 §5.1: $INCLUDE leaves the including file's origin as it was.
        if keyword == "$INCLUDE" { return true }
        guard entry.tokens.count == 2 else { return false }
        switch keyword {
        case "$ORIGIN":
            guard let o = try? DNSName(presentation: value, origin: state.origin) else { return false }
            state.origin = o
        case "$TTL":
            guard let t = TTLText.parse(value) else { return false }
            state.ttl = t
        default:
            return false
        }
        return true
    }
}
