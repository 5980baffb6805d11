/// Type bitmaps of NSEC, NSEC3 and CSYNC (RFC 4034 §4.1.2, RFC 5155 §3.2.1).
public enum TypeBitmap {
    /// RFC 4034 §4.1.2: windows in increasing order, each with a bitmap of 1 to 32 octets
    /// whose last octet is not zero (trailing zero octets MUST be omitted).
    static func validate(_ reader: inout WireReader) throws(WireError) {
        var previous = -1
        while !reader.isAtEnd {
            let window = Int(try reader.readU8())
            let length = Int(try reader.readU8())
            guard window > previous else { throw .badRData("type bitmap windows out of order") }
            guard length >= 1, length <= 32 else { throw .badRData("type bitmap window length \(length)") }
            guard reader.remaining >= length else { throw .truncated }
            guard reader.message[reader.offset + length - 1] != 0 else {
                throw .badRData("type bitmap window with trailing zero octet")
            }
            try reader.skip(length)
            previous = window
        }
    }

    /// The types in a bitmap, ascending. The bitmap must be valid.
    public static func types(_ bitmap: ArraySlice<UInt8>) -> [RRType] {
        var result: [RRType] = []
        var i = bitmap.startIndex
        while i + 1 < bitmap.endIndex {
            let window = UInt16(bitmap[i]), length = Int(bitmap[i + 1])
            i += 2
            let end = min(i + length, bitmap.endIndex)
            for k in i..<end {
                let octet = bitmap[k]
                if octet == 0 { continue }
                for bit in 0..<8 where octet & (0x80 >> UInt8(bit)) != 0 {
                    result.append(RRType(window << 8 | UInt16((k - i) * 8 + bit)))
                }
            }
            i = end
        }
        return result
    }

    /// Encodes a set of types (any order, duplicates ignored) as a bitmap.
    public static func encode<S: Sequence>(_ types: S, into out: inout [UInt8]) where S.Element == RRType {
        let sorted = Array(Set(types.map(\.rawValue))).sorted()
        var k = 0
        while k < sorted.count {
            let window = sorted[k] >> 8
            var octets = [UInt8](repeating: 0, count: 32)
            var used = 0
            while k < sorted.count && sorted[k] >> 8 == window {
                let low = Int(sorted[k] & 0xFF)
                octets[low / 8] |= 0x80 >> UInt8(low % 8)
                used = low / 8 + 1
                k += 1
            }
            out.append(UInt8(window)); out.append(UInt8(used))
            out.append(contentsOf: octets[0..<used])
        }
    }

    public static func encode<S: Sequence>(_ types: S) -> [UInt8] where S.Element == RRType {
        var out: [UInt8] = []
        encode(types, into: &out)
        return out
    }
}

/// RRSIG times (RFC 4034 §3.2): YYYYMMDDHHmmSS in UTC, or a plain number of seconds.
enum DNSSECTime {
    /// Days since 1970-01-01 of a civil date (proleptic Gregorian).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Parses 14 digits as a UTC date (serial arithmetic modulo 2^32, RFC 4034 §3.1.5), or a plain number.
    static func parse(_ s: [UInt8]) -> UInt32? {
        if s.count == 14, s.allSatisfy(isDigit) {
            func num(_ a: Int, _ n: Int) -> Int { s[a..<(a + n)].reduce(0) { $0 * 10 + Int($1 - 0x30) } }
            let year = num(0, 4), month = num(4, 2), day = num(6, 2)
            let hour = num(8, 2), minute = num(10, 2), second = num(12, 2)
            guard year >= 1970, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
                  hour < 24, minute < 60, second < 60 else { return nil }
            let t = days(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
            return UInt32(truncatingIfNeeded: t)
        }
        guard s.count < 14, let v = PresentationText.decimal(s[...], max: UInt64(UInt32.max)) else { return nil }
        return UInt32(v)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func format(_ t: UInt32, into out: inout [UInt8]) {
        let secs = Int(t)
        let (y, m, d) = civil(days: secs / 86400)
        let rem = secs % 86400
        for (v, width) in [(y, 4), (m, 2), (d, 2), (rem / 3600, 2), (rem / 60 % 60, 2), (rem % 60, 2)] {
            var digits = [UInt8](repeating: 0x30, count: width)
            var x = v
            for k in stride(from: width - 1, through: 0, by: -1) { digits[k] = 0x30 + UInt8(x % 10); x /= 10 }
            out.append(contentsOf: digits)
        }
    }
}
