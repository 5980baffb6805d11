/// LOC record data (RFC 1876): version 0, three precision octets, latitude, longitude, altitude.
enum LOCData {
    static let equator: Int64 = 1 << 31
    /// Altitude is in centimetres above a base 100,000 m below the WGS 84 ellipsoid (RFC 1876 §2).
    static let altitudeBase: Int64 = 10_000_000

    static func validate(_ reader: inout WireReader) throws(WireError) {
        guard reader.remaining == 16 else { throw .badRData("LOC rdata must be 16 octets") }
        let m = reader.message, o = reader.offset
        guard m[o] == 0 else { throw .badRData("LOC version \(m[o]) is unknown (RFC 1876 §2)") }
        for k in 1...3 where m[o + k] >> 4 > 9 || m[o + k] & 0x0F > 9 {
            throw .badRData("bad LOC size or precision")
        }
        func u32(_ at: Int) -> Int64 {
            Int64(m[o + at]) << 24 | Int64(m[o + at + 1]) << 16 | Int64(m[o + at + 2]) << 8 | Int64(m[o + at + 3])
        }
        guard abs(u32(4) - equator) <= 90 * 3_600_000 else { throw .badRData("LOC latitude out of range") }
        guard abs(u32(8) - equator) <= 180 * 3_600_000 else { throw .badRData("LOC longitude out of range") }
        try reader.skip(16)
    }

    // MARK: Presentation

    /// `d1 [m1 [s1]] {N|S} d2 [m2 [s2]] {E|W} alt[m] [siz[m] [hp[m] [vp[m]]]]` (RFC 1876 §3).
    static func parse(_ fields: ArraySlice<PresentationField>, into out: inout [UInt8]) throws(RDataError) {
        var i = fields.startIndex
        func next() throws(RDataError) -> [UInt8] {
            guard i < fields.endIndex else { throw RDataError("LOC rdata is incomplete") }
            defer { i += 1 }
            return fields[i].bytes
        }
        /// Degrees, minutes, seconds and hemisphere, in thousandths of a second from the equator.
        func coordinate(maxDegrees: Int64, positive: UInt8, negative: UInt8) throws(RDataError) -> UInt32 {
            let d = try next()
            guard let degrees = PresentationText.decimal(d[...], max: UInt64(maxDegrees)) else {
                throw RDataError("bad LOC degrees '\(String(decoding: d, as: UTF8.self))'")
            }
            var value = Int64(degrees) * 3_600_000
            var part = 0
            while true {
                let f = try next()
                if f.count == 1, f[0] | 0x20 == positive | 0x20 || f[0] | 0x20 == negative | 0x20 {
                    guard value <= maxDegrees * 3_600_000 else { throw RDataError("LOC coordinate out of range") }
                    let signed = f[0] | 0x20 == positive | 0x20 ? value : -value
                    return UInt32(equator + signed)
                }
                if part == 0 {
                    guard let minutes = PresentationText.decimal(f[...], max: 59) else {
                        throw RDataError("bad LOC minutes '\(String(decoding: f, as: UTF8.self))'")
                    }
                    value += Int64(minutes) * 60_000
                } else if part == 1 {
                    guard let ms = fixedPoint(f, decimals: 3), ms < 60_000 else {
                        throw RDataError("bad LOC seconds '\(String(decoding: f, as: UTF8.self))'")
                    }
                    value += ms
                } else {
                    throw RDataError("LOC coordinate without hemisphere")
                }
                part += 1
            }
        }
        let latitude = try coordinate(maxDegrees: 90, positive: UInt8(ascii: "N"), negative: UInt8(ascii: "S"))
        let longitude = try coordinate(maxDegrees: 180, positive: UInt8(ascii: "E"), negative: UInt8(ascii: "W"))
        let a = try next()
        guard let altitude = metres(a, allowNegative: true), altitude >= -altitudeBase,
              altitude + altitudeBase <= Int64(UInt32.max) else {
            throw RDataError("bad LOC altitude '\(String(decoding: a, as: UTF8.self))'")
        }
        // RFC 1876 §3 defaults: size 1m, horizontal precision 10000m, vertical precision 10m.
        var precision: [UInt8] = [0x12, 0x16, 0x13]
        for k in 0..<3 where i < fields.endIndex {
            let f = try next()
            guard let cm = metres(f, allowNegative: false), cm <= 9_000_000_000 else {
                throw RDataError("bad LOC size or precision '\(String(decoding: f, as: UTF8.self))'")
            }
            precision[k] = encodePrecision(cm)
        }
        guard i == fields.endIndex else { throw RDataError("too many fields for LOC") }
        out.append(0)
        out.append(contentsOf: precision)
        for v in [latitude, longitude, UInt32(altitude + altitudeBase)] {
            out.append(UInt8(v >> 24)); out.append(UInt8((v >> 16) & 0xFF))
            out.append(UInt8((v >> 8) & 0xFF)); out.append(UInt8(v & 0xFF))
        }
    }

    /// A decimal with up to `decimals` fractional digits, scaled to an integer.
    static func fixedPoint(_ s: [UInt8], decimals: Int) -> Int64? {
        let parts = s.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = PresentationText.decimal(parts[0], max: 100_000_000_000) else { return nil }
        var value = Int64(whole)
        var fraction = parts.count > 1 ? parts[1] : []
        guard fraction.count <= decimals, parts.count == 1 || !fraction.isEmpty else { return nil }
        while fraction.count < decimals { fraction.append(UInt8(ascii: "0")) }
        for c in fraction {
            guard isDigit(c) else { return nil }
            value = value * 10 + Int64(c - 0x30)
        }
        return value
    }

    /// Metres with an optional `m` suffix and up to two decimals, in centimetres.
    static func metres(_ s: [UInt8], allowNegative: Bool) -> Int64? {
        var body = s[...]
        if body.last == UInt8(ascii: "m") || body.last == UInt8(ascii: "M") { body = body.dropLast() }
        var negative = false
        if allowNegative, body.first == UInt8(ascii: "-") { negative = true; body = body.dropFirst() }
        guard let v = fixedPoint(Array(body), decimals: 2) else { return nil }
        return negative ? -v : v
    }

    /// RFC 1876 §2: mantissa (high nibble) times ten to the exponent (low nibble), in centimetres.
    static func encodePrecision(_ cm: Int64) -> UInt8 {
        var exponent: Int64 = 0
        var power: Int64 = 1
        while exponent < 9 && cm >= power * 10 { power *= 10; exponent += 1 }
        return UInt8(min(cm / power, 9)) << 4 | UInt8(exponent)
    }

    /// As BIND prints LOC: `52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m`. False when a
    /// precision is a zero mantissa with a non-zero exponent, which text cannot carry (the caller
    /// then writes RFC 3597 form so the octets survive).
    static func format(_ r: ArraySlice<UInt8>, into out: inout [UInt8]) -> Bool {
        let b = r.startIndex
        for k in 1...3 where r[b + k] >> 4 == 0 && r[b + k] != 0 { return false }
        func u32(_ at: Int) -> Int64 {
            Int64(r[b + at]) << 24 | Int64(r[b + at + 1]) << 16 | Int64(r[b + at + 2]) << 8 | Int64(r[b + at + 3])
        }
        func coordinate(_ raw: Int64, _ positive: String, _ negative: String) {
            let v = raw - equator
            let a = abs(v)
            let text = "\(a / 3_600_000) \(a / 60_000 % 60) \(a / 1000 % 60).\(pad(a % 1000, 3)) \(v >= 0 ? positive : negative) "
            PresentationText.append(text, to: &out)
        }
        coordinate(u32(4), "N", "S")
        coordinate(u32(8), "E", "W")
        let altitude = u32(12) - altitudeBase
        let sign = altitude < 0 ? "-" : ""
        PresentationText.append("\(sign)\(abs(altitude) / 100).\(pad(abs(altitude) % 100, 2))m", to: &out)
        for k in 1...3 {
            let p = r[b + k]
            let mantissa = Int64(p >> 4), exponent = Int(p & 0x0F)
            var cm = mantissa
            for _ in 0..<exponent { cm *= 10 }
            let text = exponent >= 2 ? " \(cm / 100)m" : " \(cm / 100).\(pad(cm % 100, 2))m"
            PresentationText.append(text, to: &out)
        }
        return true
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

/// CERT types (RFC 4398 §2.1), accepted and printed as mnemonics like BIND does.
enum CertType {
    static let mnemonics: [UInt16: String] = [
        1: "PKIX", 2: "SPKI", 3: "PGP", 4: "IPKIX", 5: "ISPKI", 6: "IPGP", 7: "ACPKIX", 8: "IACPKIX",
        253: "URI", 254: "OID",
    ]

    static func parse(_ bytes: [UInt8]) -> UInt16? {
        if let v = PresentationText.decimal(bytes[...], max: 65535) { return UInt16(v) }
        let s = String(decoding: bytes, as: UTF8.self).uppercased()
        return mnemonics.first { $0.value == s }?.key
    }
}
