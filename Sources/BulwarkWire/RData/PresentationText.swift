/// One field of a record in presentation format as the zone-file lexer produced it:
/// raw bytes with escapes NOT yet resolved (`\.`, `\DDD`, `\"` still present), and whether
/// it was in double quotes (the quotes themselves are not in `bytes`).
public struct PresentationField: Sendable, Hashable {
    public var bytes: [UInt8]
    public var quoted: Bool

    public init(_ bytes: [UInt8], quoted: Bool = false) {
        self.bytes = bytes
        self.quoted = quoted
    }
}

extension PresentationField {
    public init(_ s: String, quoted: Bool = false) {
        self.init(Array(s.utf8), quoted: quoted)
    }

    /// The raw bytes as text, for error messages.
    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// RFC 3597 §5: the `\#` token that introduces generic rdata.
    var isGenericMarker: Bool { !quoted && bytes.count == 2 && bytes[0] == 0x5C && bytes[1] == 0x23 }
}

/// Why record data in presentation format was rejected, in words for the zone file's author.
public struct RDataError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Helpers shared by the presentation parsers: escapes, numbers, quoting.
enum PresentationText {
    /// Resolves `\X` and `\DDD` (RFC 1035 §5.1) in `bytes`, appending to `out`.
    static func unescape(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8]) throws(RDataError) {
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let c = bytes[i]
            if c != 0x5C { out.append(c); i += 1; continue }
            i += 1
            guard i < end else { throw RDataError("backslash at end of '\(String(decoding: bytes, as: UTF8.self))'") }
            let d0 = bytes[i]
            if isDigit(d0) {
                guard i + 2 < end, isDigit(bytes[i + 1]), isDigit(bytes[i + 2]) else {
                    throw RDataError("bad \\DDD escape in '\(String(decoding: bytes, as: UTF8.self))'")
                }
                let v = Int(d0 - 0x30) * 100 + Int(bytes[i + 1] - 0x30) * 10 + Int(bytes[i + 2] - 0x30)
                guard v <= 255 else { throw RDataError("escape \\\(v) out of range") }
                out.append(UInt8(v))
                i += 3
            } else {
                out.append(d0)
                i += 1
            }
        }
    }

    static func unescaped(_ field: PresentationField) throws(RDataError) -> [UInt8] {
        if !field.bytes.contains(0x5C) { return field.bytes }
        var out: [UInt8] = []
        out.reserveCapacity(field.bytes.count)
        try unescape(field.bytes[...], into: &out)
        return out
    }

    /// An unsigned decimal number no greater than `max`.
    static func decimal(_ bytes: ArraySlice<UInt8>, max: UInt64) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var v: UInt64 = 0
        for c in bytes {
            guard isDigit(c) else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            guard !o1, !o2 else { return nil }
            v = a
        }
        return v <= max ? v : nil
    }

    /// A TTL-style period: a plain number, or BIND units (`1w2d3h4m5s`, any case).
    static func period(_ bytes: ArraySlice<UInt8>) -> UInt32? { TTLText.parse(bytes) }

    /// Appends `bytes` as a quoted <character-string> as dig prints it: `"` and `\` escaped,
    /// octets outside printable ASCII as `\DDD`.
    static func appendQuoted(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        out.append(0x22)
        for b in bytes { appendStringOctet(b, to: &out) }
        out.append(0x22)
    }

    @inline(__always)
    static func appendStringOctet(_ b: UInt8, to out: inout [UInt8]) {
        switch b {
        case 0x22, 0x5C: out.append(0x5C); out.append(b)
        case 0x20...0x7E: out.append(b)
        default: appendDDD(b, to: &out)
        }
    }

    @inline(__always)
    static func appendDDD(_ b: UInt8, to out: inout [UInt8]) {
        out.append(0x5C)
        out.append(0x30 + b / 100); out.append(0x30 + (b / 10) % 10); out.append(0x30 + b % 10)
    }

    static func appendDecimal<T: BinaryInteger>(_ v: T, to out: inout [UInt8]) {
        if v == 0 { out.append(0x30); return }
        var digits: [UInt8] = []
        var x = UInt64(v)
        while x > 0 { digits.append(0x30 + UInt8(x % 10)); x /= 10 }
        out.append(contentsOf: digits.reversed())
    }

    static func append(_ s: String, to out: inout [UInt8]) { out.append(contentsOf: s.utf8) }
}

@inline(__always)
func isDigit(_ c: UInt8) -> Bool { (c &- 0x30) < 10 }

/// DNSSEC algorithm numbers and mnemonics (IANA "DNS Security Algorithm Numbers"; RFC 8624).
enum DNSSECAlgorithm {
    static let mnemonics: [String: UInt8] = [
        "RSAMD5": 1, "DH": 2, "DSA": 3, "RSASHA1": 5, "DSA-NSEC3-SHA1": 6, "RSASHA1-NSEC3-SHA1": 7,
        "RSASHA256": 8, "RSASHA512": 10, "ECC-GOST": 12, "ECDSAP256SHA256": 13, "ECDSAP384SHA384": 14,
        "ED25519": 15, "ED448": 16, "INDIRECT": 252, "PRIVATEDNS": 253, "PRIVATEOID": 254,
    ]

    static func parse(_ bytes: [UInt8]) -> UInt8? {
        if let v = PresentationText.decimal(bytes[...], max: 255) { return UInt8(v) }
        return mnemonics[String(decoding: bytes, as: UTF8.self).uppercased()]
    }
}

/// Type mnemonics from raw octets (`A`, `aaaa`, `TYPE65280`; RFC 3597 §5).
enum TypeMnemonic {
    static func parse(_ bytes: [UInt8]) -> RRType? {
        guard !bytes.isEmpty, bytes.count <= 16 else { return nil }
        return RRType(mnemonic: String(decoding: bytes, as: UTF8.self))
    }
}
