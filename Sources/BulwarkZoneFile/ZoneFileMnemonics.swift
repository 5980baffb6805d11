import BulwarkWire

/// Type and class mnemonics looked up straight from token bytes, without building
/// a String per token: the upper-cased bytes (at most 16) are packed into two words.
enum Mnemonics {
    struct Key: Hashable {
        var low: UInt64 = 0
        var high: UInt64 = 0

        /// Nil for tokens longer than 16 bytes (no mnemonic is that long).
        init?(_ text: UnsafeRawBufferPointer) {
            guard !text.isEmpty, text.count <= 16 else { return nil }
            for (i, c) in text.enumerated() {
                let u = (c &- 0x61) < 26 ? c & ~0x20 : c
                if i < 8 {
                    low |= UInt64(u) << (8 * UInt64(i))
                } else {
                    high |= UInt64(u) << (8 * UInt64(i - 8))
                }
            }
        }

        init?(_ text: String) {
            guard let key = Array(text.utf8).withUnsafeBytes({ Key($0) }) else { return nil }
            self = key
        }
    }

    /// Every type with a mnemonic in `RRType` (its description is not `TYPEnnn`).
    static let types: [Key: RRType] = {
        var table: [Key: RRType] = [:]
        for raw in UInt16(0)...UInt16(1024) {
            let type = RRType(raw)
            let name = type.description
            if name.hasPrefix("TYPE") { continue }
            if let key = Key(name) { table[key] = type }
        }
        return table
    }()

    static let classes: [Key: RRClass] = {
        var table: [Key: RRClass] = [:]
        for (name, c) in [("IN", RRClass.in), ("CH", .ch), ("CHAOS", .ch), ("HS", .hs), ("HESIOD", .hs),
                          ("NONE", .none), ("ANY", .any)] {
            table[Key(name)!] = c
        }
        return table
    }()

    /// Packs up to 8 ASCII characters as `Key` does (for the switch below).
    private static func word(_ s: StaticString) -> UInt64 {
        var w: UInt64 = 0
        for i in 0..<s.utf8CodeUnitCount { w |= UInt64(s.utf8Start[i]) << (8 * UInt64(i)) }
        return w
    }

    private static let wA = word("A"), wAAAA = word("AAAA"), wNS = word("NS"), wMX = word("MX"),
        wTXT = word("TXT"), wCNAME = word("CNAME"), wDS = word("DS"), wRRSIG = word("RRSIG"),
        wNSEC = word("NSEC"), wIN = word("IN")

    /// `A`, `aaaa`, or RFC 3597 §5's `TYPEnnn`.
    static func rrType(_ text: UnsafeRawBufferPointer) -> RRType? {
        guard let key = Key(text) else { return nil }
        // The types that fill most zones, without hashing.
        if key.high == 0 {
            switch key.low {
            case wA: return .a
            case wAAAA: return .aaaa
            case wNS: return .ns
            case wMX: return .mx
            case wTXT: return .txt
            case wCNAME: return .cname
            case wDS: return .ds
            case wRRSIG: return .rrsig
            case wNSEC: return .nsec
            default: break
            }
        }
        if let type = types[key] { return type }
        if let value = generic(text, prefix: "TYPE") { return RRType(value) }
        return nil
    }

    /// `IN`, `ch`, or RFC 3597 §5's `CLASSnnn`.
    static func rrClass(_ text: UnsafeRawBufferPointer) -> RRClass? {
        guard let key = Key(text) else { return nil }
        if key.high == 0 && key.low == wIN { return .in }
        if let c = classes[key] { return c }
        if let value = generic(text, prefix: "CLASS") { return RRClass(value) }
        return nil
    }

    /// The number after `prefix` (case-insensitive) when it is 1 to 5 digits ≤ 65535.
    private static func generic(_ text: UnsafeRawBufferPointer, prefix: StaticString) -> UInt16? {
        let p = prefix.utf8CodeUnitCount
        guard text.count > p, text.count <= p + 5 else { return nil }
        let pp = prefix.utf8Start
        for i in 0..<p where (text[i] & ~0x20) != pp[i] { return nil }
        var value = 0
        for i in p..<text.count {
            let c = text[i]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            value = value * 10 + Int(c - 0x30)
        }
        guard value <= 65535 else { return nil }
        return UInt16(value)
    }
}
