// Reading one large zone file on several cores. The file is cut at record boundaries
// found by a quick scan, each piece is parsed on its own thread with the state
// ($ORIGIN, $TTL) in force where it starts, and the pieces are joined in order. The
// result is the sequential reader's, record for record and line for line; any file
// where that could differ (an error anywhere, no $TTL in force at a cut, a malformed
// entry before one) is read sequentially instead.
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds where a zone file can be cut: at the start of a line that begins a new
/// entry with an explicit owner (not blank: RFC 1035 §5.1 would give it the previous
/// owner), outside parentheses and quoted strings, with the directives before it.
struct ZoneFileCutter {
    struct Cut {
        /// Byte offset of the line the piece starts with.
        var offset: Int
        /// Its line number (1-based).
        var line: Int
        /// Byte ranges of the directive entries (`$...` lines) before the cut, in order.
        var directives: [Range<Int>]
    }

    /// Up to `pieces - 1` cuts spread evenly, or none when the text before a cut is not
    /// cleanly lexable (the sequential reader then reports what is wrong).
    static func cuts(_ bytes: UnsafeRawBufferPointer, pieces: Int, minimumPiece: Int) -> [Cut] {
        let n = bytes.count
        guard pieces > 1, n >= 2 * minimumPiece else { return [] }
        let pieceCount = min(pieces, n / minimumPiece)
        var targets: [Int] = (1..<pieceCount).map { n / pieceCount * $0 }
        var cuts: [Cut] = []
        var directives: [Range<Int>] = []
        var depth = 0
        var line = 1
        var position = 0
        var atLineStart = true
        var directiveStart = -1
        while position < n, !targets.isEmpty {
            if atLineStart {
                atLineStart = false
                if depth == 0 {
                    let c = bytes[position]
                    if position >= targets[0], c != 0x20, c != 0x09, c != 0x0D, c != 0x0A,
                       c != UInt8(ascii: ";"), c != UInt8(ascii: "$") {
                        cuts.append(Cut(offset: position, line: line, directives: directives))
                        targets.removeFirst()
                        continue
                    }
                    if c == UInt8(ascii: "$") { directiveStart = position }
                }
            }
            let c = bytes[position]
            switch c {
            case 0x0A:
                position += 1
                line += 1
                atLineStart = true
                if depth == 0 && directiveStart >= 0 {
                    directives.append(directiveStart..<position)
                    directiveStart = -1
                }
            case UInt8(ascii: ";"):
                while position < n && bytes[position] != 0x0A { position += 1 }
            case UInt8(ascii: "("):
                depth += 1
                position += 1
            case UInt8(ascii: ")"):
                guard depth > 0 else { return [] }  // the lexer reports this
                depth -= 1
                position += 1
            case UInt8(ascii: "\""):
                position += 1
                while true {
                    guard position < n, bytes[position] != 0x0A else { return [] }  // unterminated
                    let b = bytes[position]
                    if b == UInt8(ascii: "\"") { break }
                    if b == UInt8(ascii: "\\") && position + 1 < n && bytes[position + 1] != 0x0A {
                        position += 2
                    } else {
                        position += 1
                    }
                }
                position += 1
            case UInt8(ascii: "\\"):
                position += (position + 1 < n && bytes[position + 1] != 0x0A) ? 2 : 1
            default:
                position += 1
            }
        }
        return cuts
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
        guard !cuts.isEmpty else { return false }

        // The state in force at each cut: replay the directives before it.
        var starts: [(offset: Int, line: Int, origin: DNSName, dollarTTL: UInt32?)] = [(0, 1, origin, dollarTTL)]
        for cut in cuts {
            var state = (origin: origin, ttl: dollarTTL)
            for range in cut.directives {
                guard Self.replay(UnsafeRawBufferPointer(rebasing: buffer[range]), into: &state) else { return false }
            }
            // RFC 1035 §5.1: without $TTL an omitted TTL is the previous record's, which
            // only the piece before knows.
            guard state.ttl != nil else { return false }
            starts.append((cut.offset, cut.line, state.origin, state.ttl))
        }

        let pieceCount = starts.count
        let results = UnsafeMutableBufferPointer<ZoneFileParser?>.allocate(capacity: pieceCount)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        let options = self.options
        let includeStack = self.includeStack
        let files = zone.files  // the top-level file, already listed
        let fileIndex = files.count - 1
        // Each thread reads its own piece of the shared (read-only) text and writes its
        // own slot of `results`.
        struct Shared: @unchecked Sendable {
            let buffer: UnsafeRawBufferPointer
            let results: UnsafeMutableBufferPointer<ZoneFileParser?>
            let starts: [(offset: Int, line: Int, origin: DNSName, dollarTTL: UInt32?)]
        }
        let shared = Shared(buffer: buffer, results: results, starts: starts)
        DispatchQueue.concurrentPerform(iterations: pieceCount) { k in
            let starts = shared.starts, buffer = shared.buffer, results = shared.results
            let start = starts[k]
            let end = k + 1 < pieceCount ? starts[k + 1].offset : buffer.count
            var parser = ZoneFileParser(options: options)
            parser.dollarTTL = start.dollarTTL
            parser.includeStack = includeStack
            parser.zone.files = files
            let piece = UnsafeRawBufferPointer(rebasing: buffer[start.offset..<end])
            var lines = 0
            for b in piece where b == 0x0A { lines += 1 }
            parser.zone.records.reserveCapacity(lines + 1)
            parser.zone.recordSources.reserveCapacity(lines + 1)
            var file = FileState(name: name, index: fileIndex, origin: start.origin, bytes: piece)
            parser.parse(&file, firstLine: start.line)
            results[k] = parser
        }

        // Any error: read again sequentially, so messages and the error limit are exactly
        // the sequential reader's.
        guard results.allSatisfy({ $0!.errorCount == 0 }) else { return false }
        for k in 0..<pieceCount {
            var piece = results[k]!
            results[k] = nil
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
                zone.records.append(contentsOf: piece.zone.records)
                zone.recordSources.append(contentsOf: piece.zone.recordSources)
            }
            piece.zone.records = []
            issues.append(contentsOf: piece.issues)
            if k == pieceCount - 1 {
                dollarTTL = piece.dollarTTL
                lastTTL = piece.lastTTL
            }
        }
        return true
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
