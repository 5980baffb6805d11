/// Base64 (RFC 4648 §4), base32hex (RFC 4648 §7) and hex (RFC 4648 §8) without Foundation.
/// Decoders take raw presentation octets and return nil on any invalid input.
enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    /// 0xFF marks octets that are not in the alphabet.
    static let decodeTable: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    package static func encode(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
        var i = bytes.startIndex
        let end = bytes.endIndex
        while end - i >= 3 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(v >> 18)]); out.append(alphabet[Int((v >> 12) & 63)])
            out.append(alphabet[Int((v >> 6) & 63)]); out.append(alphabet[Int(v & 63)])
            i += 3
        }
        switch end - i {
        case 1:
            let v = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(v >> 18)]); out.append(alphabet[Int((v >> 12) & 63)])
            out.append(UInt8(ascii: "=")); out.append(UInt8(ascii: "="))
        case 2:
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(v >> 18)]); out.append(alphabet[Int((v >> 12) & 63)])
            out.append(alphabet[Int((v >> 6) & 63)]); out.append(UInt8(ascii: "="))
        default: break
        }
    }

    /// Decodes padded base64, appending to `out`. Returns false on bad characters or length.
    static func decode(_ text: ArraySlice<UInt8>, into out: inout [UInt8]) -> Bool {
        guard text.count % 4 == 0 else { return false }
        out.reserveCapacity(out.count + text.count / 4 * 3)
        var i = text.startIndex
        let end = text.endIndex
        while i < end {
            let c0 = decodeTable[Int(text[i])], c1 = decodeTable[Int(text[i + 1])]
            let p2 = text[i + 2], p3 = text[i + 3]
            guard c0 != 0xFF, c1 != 0xFF else { return false }
            if p3 == UInt8(ascii: "=") {
                // Padding only in the last quantum.
                guard i + 4 == end else { return false }
                out.append(c0 << 2 | c1 >> 4)
                if p2 != UInt8(ascii: "=") {
                    let c2 = decodeTable[Int(p2)]
                    guard c2 != 0xFF else { return false }
                    out.append((c1 & 0x0F) << 4 | c2 >> 2)
                }
                return true
            }
            let c2 = decodeTable[Int(p2)], c3 = decodeTable[Int(p3)]
            guard c2 != 0xFF, c3 != 0xFF else { return false }
            out.append(c0 << 2 | c1 >> 4)
            out.append((c1 & 0x0F) << 4 | c2 >> 2)
            out.append((c2 & 0x03) << 6 | c3)
            i += 4
        }
        return true
    }
}

package enum Base32Hex {
    static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUV".utf8)

    /// Unpadded, upper case, as BIND and dig print NSEC3 hashes (RFC 5155 §3.3).
    package static func encode(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var buffer: UInt64 = 0
        var bits = 0
        for b in bytes {
            buffer = buffer << 8 | UInt64(b)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt64(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt64(5 - bits)) & 31)]) }
    }

    static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "V"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "v"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Decodes unpadded base32hex (either case). Rejects impossible lengths and stray bits.
    package static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        switch text.count % 8 { case 1, 3, 6: return nil; default: break }
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for c in text {
            guard let v = value(c) else { return nil }
            buffer = (buffer << 5 | UInt32(v)) & 0xFFFF
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}

enum Hex {
    static let upper: [UInt8] = Array("0123456789ABCDEF".utf8)
    static let lower: [UInt8] = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8], lowercase: Bool = false) {
        let digits = lowercase ? lower : upper
        out.reserveCapacity(out.count + bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    }

    @inline(__always)
    static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Decodes an even number of hex digits, appending to `out`.
    static func decode(_ text: ArraySlice<UInt8>, into out: inout [UInt8]) -> Bool {
        guard text.count % 2 == 0 else { return false }
        var i = text.startIndex
        while i < text.endIndex {
            guard let hi = value(text[i]), let lo = value(text[i + 1]) else { return false }
            out.append(hi << 4 | lo)
            i += 2
        }
        return true
    }
}
