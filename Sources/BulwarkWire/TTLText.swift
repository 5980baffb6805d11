/// TTLs and other periods in presentation format (RFC 1035 §5.1 numbers; RFC 2308 §4
/// `$TTL`; BIND's unit suffixes), shared by the zone-file reader and the rdata parsers.
public enum TTLText {
    /// Parses a TTL: plain seconds, or BIND's units (`1w2d3h4m5s`, case-insensitive,
    /// a trailing bare number counts as seconds). Nil when malformed or over 2^32 - 1.
    public static func parse(_ text: UnsafeRawBufferPointer) -> UInt32? {
        guard !text.isEmpty else { return nil }
        var total: UInt64 = 0
        var current: UInt64 = 0
        var digits = 0
        for c in text {
            switch c {
            case 0x30...0x39:
                current = current * 10 + UInt64(c - 0x30)
                digits += 1
                if current > UInt64(UInt32.max) { return nil }
            default:
                guard digits > 0 else { return nil }
                let unit: UInt64
                switch c | 0x20 {
                case UInt8(ascii: "s"): unit = 1
                case UInt8(ascii: "m"): unit = 60
                case UInt8(ascii: "h"): unit = 3600
                case UInt8(ascii: "d"): unit = 86400
                case UInt8(ascii: "w"): unit = 604_800
                default: return nil
                }
                total += current * unit
                if total > UInt64(UInt32.max) { return nil }
                current = 0
                digits = 0
            }
        }
        total += current
        guard total <= UInt64(UInt32.max) else { return nil }
        return UInt32(total)
    }

    public static func parse(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        bytes.withUnsafeBytes { parse($0) }
    }
}
