import BulwarkWire

/// Splits master-file text (RFC 1035 §5.1) into logical entries: one entry is one
/// line, or several lines joined by parentheses. Tokens are byte ranges into the
/// borrowed buffer; escapes are left as written (names and record data resolve them).
///
/// The lexer allocates nothing per token: `Entry.tokens` is reused between entries.
struct ZoneFileLexer {
    struct Token {
        /// Byte range in the buffer; for a quoted string, the text between the quotes.
        var start: Int
        var end: Int
        var quoted: Bool
        var count: Int { end - start }
    }

    struct Entry {
        var tokens: [Token] = []
        /// Line on which the entry starts (1-based).
        var line = 0
        /// RFC 1035 §5.1: a line starting with a blank keeps the previous owner.
        var startsWithBlank = false
    }

    struct Failure: Error {
        var line: Int
        var message: String
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0
    /// The line the lexer is on (1-based).
    private(set) var line = 1

    /// `line` numbers the first line of `bytes` (a piece of a larger file starts later).
    init(_ bytes: UnsafeRawBufferPointer, line: Int = 1) {
        self.bytes = bytes
        self.line = line
    }

    var isAtEnd: Bool { position >= bytes.count }

    /// Reads the next non-empty entry. Returns false at the end of the input.
    /// On a lexical error the rest of the offending entry is skipped, so the caller
    /// can report it and keep reading.
    mutating func next(into entry: inout Entry) throws(Failure) -> Bool {
        entry.tokens.removeAll(keepingCapacity: true)
        let n = bytes.count
        var depth = 0
        var atLineStart = true
        var parenLine = 0
        while position < n {
            if atLineStart {
                atLineStart = false
                if depth == 0 && entry.tokens.isEmpty {
                    entry.line = line
                    let c = bytes[position]
                    entry.startsWithBlank = c == 0x20 || c == 0x09
                }
            }
            let c = bytes[position]
            switch c {
            case 0x20, 0x09, 0x0D:
                position += 1
            case 0x0A:  // newline
                position += 1
                line += 1
                atLineStart = true
                if depth == 0 && !entry.tokens.isEmpty { return true }
            case UInt8(ascii: ";"):
                while position < n && bytes[position] != 0x0A { position += 1 }
            case UInt8(ascii: "("):
                if depth == 0 { parenLine = line }
                depth += 1
                position += 1
            case UInt8(ascii: ")"):
                position += 1
                if depth == 0 {
                    let at = line
                    skipLine()
                    throw Failure(line: at, message: "unbalanced parentheses: ')' without '('")
                }
                depth -= 1
            case UInt8(ascii: "\""):
                let startLine = line
                position += 1
                let start = position
                while true {
                    guard position < n, bytes[position] != 0x0A else {
                        if depth > 0 { skipPastClosingParenthesis() } else { skipLine() }
                        throw Failure(line: startLine, message: "unterminated quoted string")
                    }
                    let b = bytes[position]
                    if b == UInt8(ascii: "\"") { break }
                    if b == UInt8(ascii: "\\") && position + 1 < n && bytes[position + 1] != 0x0A {
                        position += 2
                    } else {
                        position += 1
                    }
                }
                entry.tokens.append(Token(start: start, end: position, quoted: true))
                position += 1
            default:
                let start = position
                scan: while position < n {
                    switch bytes[position] {
                    case 0x20, 0x09, 0x0D, 0x0A, UInt8(ascii: ";"), UInt8(ascii: "("),
                         UInt8(ascii: ")"), UInt8(ascii: "\""):
                        break scan
                    case UInt8(ascii: "\\"):
                        // `\X` keeps X in the token, even a blank or a delimiter.
                        if position + 1 < n && bytes[position + 1] != 0x0A {
                            position += 2
                        } else {
                            position += 1
                        }
                    default:
                        position += 1
                    }
                }
                entry.tokens.append(Token(start: start, end: position, quoted: false))
            }
        }
        if depth > 0 {
            throw Failure(line: parenLine, message: "unbalanced parentheses: '(' without ')'")
        }
        return !entry.tokens.isEmpty
    }

    /// Skips to the start of the next line.
    private mutating func skipLine() {
        let n = bytes.count
        while position < n && bytes[position] != 0x0A { position += 1 }
        if position < n { position += 1; line += 1 }
    }

    /// Error recovery inside parentheses: skip to the line holding the closing `)`.
    private mutating func skipPastClosingParenthesis() {
        let n = bytes.count
        while position < n && bytes[position] != UInt8(ascii: ")") {
            if bytes[position] == 0x0A { line += 1 }
            position += 1
        }
        skipLine()
    }
}
