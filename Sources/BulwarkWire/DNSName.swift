/// A domain name held as its uncompressed wire form (RFC 1035 §3.1): length-prefixed
/// labels ending with the root's zero octet. Case is preserved; equality and hashing
/// ignore ASCII case (RFC 4343).
public struct DNSName: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Uncompressed wire form, including the terminating zero octet.
    public let wire: [UInt8]

    /// RFC 1035 §2.3.4: at most 255 octets in wire form, labels of at most 63.
    public static let maxWireLength = 255
    public static let maxLabelLength = 63

    public static let root = DNSName(uncheckedWire: [0])

    /// Wraps bytes already known to be a valid uncompressed name.
    public init(uncheckedWire: [UInt8]) {
        self.wire = uncheckedWire
    }

    /// Validates an uncompressed wire name (no pointers allowed).
    public init(wire: [UInt8]) throws(WireError) {
        var offset = 0
        while true {
            guard offset < wire.count else { throw .truncated }
            let length = Int(wire[offset])
            if length == 0 { break }
            guard length <= 63 else { throw length & 0xC0 == 0 ? .labelTooLong : .badLabelType }
            offset += 1 + length
        }
        guard offset + 1 == wire.count else { throw .trailingData }
        guard wire.count <= Self.maxWireLength else { throw .nameTooLong }
        self.wire = wire
    }

    /// Builds a name from labels (each without its length octet).
    public init<L: Sequence>(labels: L) throws(WireError) where L.Element == [UInt8] {
        var bytes: [UInt8] = []
        for label in labels {
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.count <= 63 else { throw .labelTooLong }
            bytes.append(UInt8(label.count))
            bytes.append(contentsOf: label)
        }
        bytes.append(0)
        guard bytes.count <= Self.maxWireLength else { throw .nameTooLong }
        self.wire = bytes
    }

    // MARK: Presentation format (RFC 1035 §5.1)

    /// Parses a name in presentation format. A name not ending in an unescaped `.` is
    /// relative and has `origin` appended; without an origin it is an error.
    /// `\X` is the literal octet X and `\DDD` the octet with decimal value DDD.
    public init(_ text: String, origin: DNSName? = nil) throws(WireError) {
        let utf8 = Array(text.utf8)
        let result = utf8.withUnsafeBytes { buf in
            Result { () throws(WireError) -> DNSName in try DNSName(presentation: buf, origin: origin) }
        }
        self = try result.get()
    }

    /// Parses a name in presentation format from raw bytes (escapes not yet resolved).
    public init(presentation text: UnsafeRawBufferPointer, origin: DNSName?) throws(WireError) {
        if text.count == 1 && text[0] == UInt8(ascii: ".") {
            self.wire = [0]
            return
        }
        guard !text.isEmpty else { throw .emptyLabel }
        var out: [UInt8] = []
        out.reserveCapacity(min(text.count + 2, 256))
        var labelStart = 0
        out.append(0)
        var absolute = false
        var i = 0
        let n = text.count
        while i < n {
            var c = text[i]
            if c == UInt8(ascii: ".") {
                let len = out.count - labelStart - 1
                guard len > 0 else { throw .emptyLabel }
                guard len <= 63 else { throw .labelTooLong }
                out[labelStart] = UInt8(len)
                i += 1
                if i == n { absolute = true; break }
                labelStart = out.count
                out.append(0)
                continue
            }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < n else { throw .badEscape }
                let d0 = text[i]
                if d0 >= 0x30 && d0 <= 0x39 {
                    guard i + 2 < n else { throw .badEscape }
                    let d1 = text[i + 1], d2 = text[i + 2]
                    guard d1 >= 0x30 && d1 <= 0x39 && d2 >= 0x30 && d2 <= 0x39 else { throw .badEscape }
                    let value = Int(d0 - 0x30) * 100 + Int(d1 - 0x30) * 10 + Int(d2 - 0x30)
                    guard value <= 255 else { throw .badEscape }
                    c = UInt8(value)
                    i += 3
                } else {
                    c = d0
                    i += 1
                }
            } else {
                i += 1
            }
            out.append(c)
            if out.count - labelStart - 1 > 63 { throw .labelTooLong }
        }
        if !absolute {
            let len = out.count - labelStart - 1
            guard len > 0 else { throw .emptyLabel }
            out[labelStart] = UInt8(len)
            guard let origin else { throw .malformed("relative name without an origin") }
            out.append(contentsOf: origin.wire)
        } else {
            out.append(0)
        }
        guard out.count <= Self.maxWireLength else { throw .nameTooLong }
        self.wire = out
    }

    /// Presentation format, absolute (with the trailing dot), escaping as `dig` does.
    public var description: String {
        if wire.count == 1 { return "." }
        var s: [UInt8] = []
        s.reserveCapacity(wire.count + 8)
        var offset = 0
        while true {
            let len = Int(wire[offset])
            if len == 0 { break }
            for b in wire[(offset + 1)...(offset + len)] {
                Self.appendEscaped(b, to: &s)
            }
            s.append(UInt8(ascii: "."))
            offset += 1 + len
        }
        return String(decoding: s, as: UTF8.self)
    }

    /// Appends one label octet in presentation form.
    public static func appendEscaped(_ octet: UInt8, to out: inout [UInt8]) {
        switch octet {
        case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "("),
             UInt8(ascii: ")"), UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "$"):
            out.append(UInt8(ascii: "\\")); out.append(octet)
        case 0x21...0x7E:
            out.append(octet)
        default:
            out.append(UInt8(ascii: "\\"))
            out.append(0x30 + octet / 100); out.append(0x30 + (octet / 10) % 10); out.append(0x30 + octet % 10)
        }
    }

    // MARK: Structure

    public var isRoot: Bool { wire.count == 1 }

    /// Number of labels, not counting the root.
    public var labelCount: Int {
        var count = 0
        var offset = 0
        while wire[offset] != 0 { count += 1; offset += 1 + Int(wire[offset]) }
        return count
    }

    /// The labels from left to right, without length octets.
    public var labels: [[UInt8]] {
        var result: [[UInt8]] = []
        var offset = 0
        while wire[offset] != 0 {
            let len = Int(wire[offset])
            result.append(Array(wire[(offset + 1)...(offset + len)]))
            offset += 1 + len
        }
        return result
    }

    /// The first label, or an empty array for the root.
    public var firstLabel: [UInt8] {
        let len = Int(wire[0])
        return len == 0 ? [] : Array(wire[1...len])
    }

    /// RFC 4592 §2.1.1: a wildcard domain name has `*` as its first label.
    public var isWildcard: Bool { wire.count >= 2 && wire[0] == 1 && wire[1] == UInt8(ascii: "*") }

    /// The name with its first label removed; nil for the root.
    public var parent: DNSName? {
        if isRoot { return nil }
        return DNSName(uncheckedWire: Array(wire[(1 + Int(wire[0]))...]))
    }

    /// The name with `label` prepended.
    public func prepending(_ label: [UInt8]) throws(WireError) -> DNSName {
        guard !label.isEmpty else { throw .emptyLabel }
        guard label.count <= 63 else { throw .labelTooLong }
        guard wire.count + 1 + label.count <= Self.maxWireLength else { throw .nameTooLong }
        return DNSName(uncheckedWire: [UInt8(label.count)] + label + wire)
    }

    /// Replaces the suffix `oldSuffix` (which this name must be under) with `newSuffix`
    /// (DNAME substitution, RFC 6672 §2.2). Throws nameTooLong when the result is too long.
    public func replacingSuffix(_ oldSuffix: DNSName, with newSuffix: DNSName) throws(WireError) -> DNSName {
        let keep = wire.count - oldSuffix.wire.count
        guard keep >= 0 else { throw .malformed("not a subdomain") }
        let out = Array(wire[0..<keep]) + newSuffix.wire
        guard out.count <= Self.maxWireLength else { throw .nameTooLong }
        return DNSName(uncheckedWire: out)
    }

    /// The name with ASCII letters folded to lower case.
    public func lowercased() -> DNSName {
        DNSName(uncheckedWire: wire.map(asciiLower))
    }

    /// True when this name equals `other` or lies below it (ignoring case).
    public func isSubdomain(of other: DNSName) -> Bool {
        let a = wire, b = other.wire
        guard a.count >= b.count else { return false }
        let start = a.count - b.count
        // The suffix must start on a label boundary.
        var offset = 0
        while offset < start { offset += 1 + Int(a[offset]) }
        guard offset == start else { return false }
        for i in 0..<b.count where asciiLower(a[start + i]) != asciiLower(b[i]) { return false }
        return true
    }

    /// The name relative to `origin` in presentation format (`@` for the origin itself);
    /// absolute when it is not under `origin`.
    public func relativeDescription(to origin: DNSName) -> String {
        guard isSubdomain(of: origin) else { return description }
        if wire.count == origin.wire.count { return "@" }
        let full = description
        let suffix = origin.isRoot ? "" : origin.description
        return String(full.dropLast(suffix.count + 1))
    }

    // MARK: Equality, hashing, ordering

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.wire.count == rhs.wire.count else { return false }
        for i in 0..<lhs.wire.count where asciiLower(lhs.wire[i]) != asciiLower(rhs.wire[i]) { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for b in wire { hasher.combine(asciiLower(b)) }
    }

    /// Canonical DNS name order (RFC 4034 §6.1): compare labels right to left,
    /// each label as lower-cased octets.
    public static func < (lhs: DNSName, rhs: DNSName) -> Bool {
        canonicalCompare(lhs, rhs) < 0
    }

    public static func canonicalCompare(_ lhs: DNSName, _ rhs: DNSName) -> Int {
        let a = lhs.labelOffsets, b = rhs.labelOffsets
        var i = a.count - 1, j = b.count - 1
        while i >= 0 && j >= 0 {
            let la = Int(lhs.wire[a[i]]), lb = Int(rhs.wire[b[j]])
            let n = min(la, lb)
            for k in 0..<n {
                let x = asciiLower(lhs.wire[a[i] + 1 + k]), y = asciiLower(rhs.wire[b[j] + 1 + k])
                if x != y { return x < y ? -1 : 1 }
            }
            if la != lb { return la < lb ? -1 : 1 }
            i -= 1; j -= 1
        }
        if i == j { return 0 }
        return i < j ? -1 : 1
    }

    /// Offsets of each label's length octet, left to right (root excluded).
    public var labelOffsets: [Int] {
        var result: [Int] = []
        var offset = 0
        while wire[offset] != 0 { result.append(offset); offset += 1 + Int(wire[offset]) }
        return result
    }
}

/// ASCII-only lower-casing used for DNS name comparison (RFC 4343 §3).
@inline(__always)
public func asciiLower(_ octet: UInt8) -> UInt8 {
    (octet &- 0x41) < 26 ? octet | 0x20 : octet
}
