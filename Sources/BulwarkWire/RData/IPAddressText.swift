/// IPv4 and IPv6 addresses in text without inet_pton/inet_ntop.
enum IPv4Text {
    /// Dotted quad, four decimal octets without leading zeros (as inet_pton accepts).
    static func parse(_ s: ArraySlice<UInt8>, into out: inout [UInt8]) -> Bool {
        var parts = 0
        var value = 0
        var digits = 0
        var leadingZero = false
        for c in s {
            if c == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return false }
                out.append(UInt8(value))
                parts += 1; value = 0; digits = 0
                continue
            }
            guard isDigit(c) else { return false }
            if digits == 1 && leadingZero { return false }
            if digits == 0 { leadingZero = c == UInt8(ascii: "0") }
            value = value * 10 + Int(c - 0x30)
            digits += 1
            guard value <= 255 else { return false }
        }
        guard digits > 0, parts == 3 else { return false }
        out.append(UInt8(value))
        return true
    }

    static func parse(_ s: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        return parse(s, into: &out) ? out : nil
    }

    static func format(_ a: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var first = true
        for b in a {
            if !first { out.append(UInt8(ascii: ".")) }
            PresentationText.appendDecimal(b, to: &out)
            first = false
        }
    }
}

enum IPv6Text {
    /// RFC 4291 §2.2: eight groups of up to four hex digits, one `::` standing for one or more
    /// zero groups, and an optional dotted IPv4 address in the last 32 bits.
    static func parse(_ s: ArraySlice<UInt8>, into out: inout [UInt8]) -> Bool {
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        var gapAt = -1
        var i = s.startIndex
        let end = s.endIndex
        guard i < end else { return false }
        if s[i] == UInt8(ascii: ":") {
            guard i + 1 < end, s[i + 1] == UInt8(ascii: ":") else { return false }
            gapAt = 0
            i += 2
        }
        while i < end {
            // One group, or the embedded IPv4 address.
            var j = i
            var value: UInt32 = 0
            while j < end, let d = Hex.value(s[j]) {
                value = value << 4 | UInt32(d)
                j += 1
                guard j - i <= 4 else { break }
            }
            if j < end && s[j] == UInt8(ascii: ".") {
                guard groups.count <= 6, let v4 = IPv4Text.parse(s[i..<end]) else { return false }
                groups.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                groups.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                i = end
                break
            }
            guard j > i, j - i <= 4, groups.count < 8 else { return false }
            groups.append(UInt16(value))
            i = j
            if i == end { break }
            guard s[i] == UInt8(ascii: ":") else { return false }
            i += 1
            if i < end && s[i] == UInt8(ascii: ":") {
                guard gapAt < 0 else { return false }
                gapAt = groups.count
                i += 1
            } else if i == end {
                return false  // trailing single colon
            }
        }
        if gapAt >= 0 {
            guard groups.count <= 7 else { return false }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gapAt)
        }
        guard groups.count == 8 else { return false }
        for g in groups { out.append(UInt8(g >> 8)); out.append(UInt8(g & 0xFF)) }
        return true
    }

    static func parse(_ s: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        return parse(s, into: &out) ? out : nil
    }

    /// RFC 5952 §4: lower case, no leading zeros, the longest run of two or more zero groups
    /// (the first one on a tie) as `::`; §5: IPv4-mapped addresses in dotted form.
    static func format(_ a: ArraySlice<UInt8>, into out: inout [UInt8]) {
        let base = a.startIndex
        var groups = [UInt16](repeating: 0, count: 8)
        for k in 0..<8 { groups[k] = UInt16(a[base + 2 * k]) << 8 | UInt16(a[base + 2 * k + 1]) }
        let mapped = groups[0..<5].allSatisfy { $0 == 0 } && groups[5] == 0xFFFF
        let count = mapped ? 6 : 8
        var bestStart = -1, bestLength = 1
        var k = 0
        while k < count {
            if groups[k] == 0 {
                var e = k
                while e < count && groups[e] == 0 { e += 1 }
                if e - k > bestLength { bestStart = k; bestLength = e - k }
                k = e
            } else {
                k += 1
            }
        }
        k = 0
        while k < count {
            if k == bestStart {
                out.append(UInt8(ascii: ":")); out.append(UInt8(ascii: ":"))
                k += bestLength
                continue
            }
            if k > 0 && !(bestStart >= 0 && k == bestStart + bestLength) { out.append(UInt8(ascii: ":")) }
            appendGroup(groups[k], to: &out)
            k += 1
        }
        if mapped {
            out.append(UInt8(ascii: ":"))
            IPv4Text.format(a[(base + 12)..<(base + 16)], into: &out)
        }
    }

    private static func appendGroup(_ g: UInt16, to out: inout [UInt8]) {
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let d = Int((g >> UInt16(shift)) & 0xF)
            if d != 0 || started || shift == 0 { out.append(Hex.lower[d]); started = true }
        }
    }
}
