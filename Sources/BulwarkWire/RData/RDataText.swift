/// Record data in presentation format (RFC 1035 §5.1, RFC 3597 §5, and each type's RFC),
/// driven by `RDataSchema.table`.
public enum RDataText {
    /// Parses the rdata fields of one record (everything after the type) into uncompressed wire
    /// rdata. Relative names get `origin` appended. `\# len hex` is accepted for every type
    /// (RFC 3597 §5) and then validated as that type.
    public static func parse(type: RRType, fields: [PresentationField], origin: DNSName) throws(RDataError) -> [UInt8] {
        if let first = fields.first, first.isGenericMarker {
            let rdata = try parseGeneric(fields)
            do {
                try RDataWire.validate(type: type, rdata: rdata)
            } catch {
                throw RDataError("\\# data is not valid \(type) rdata: \(error)")
            }
            return rdata
        }
        guard let schema = RDataSchema.fields(type) else {
            throw RDataError("no presentation format for \(type) rdata; write it as \\# (RFC 3597)")
        }
        var out: [UInt8] = []
        out.reserveCapacity(64)
        var index = 0
        for field in schema {
            try parseField(field, type: type, fields: fields, index: &index, origin: origin, into: &out)
        }
        guard index == fields.count else {
            throw RDataError("too many fields for \(type): unexpected '\(fields[index].text)'")
        }
        guard out.count <= 65535 else { throw RDataError("\(type) rdata longer than 65535 octets") }
        if type == .ds || type == .cds || type == .zonemd {
            let check = out.withUnsafeBytes { buf in
                Result { () throws(WireError) in try RDataSchema.checkDigests(type: type, buf, start: 0, end: buf.count) }
            }
            if case .failure(let e) = check, case .badRData(let why) = e { throw RDataError(why) }
        }
        return out
    }

    /// RFC 3597 §5: `\# <length> <hex>...`, the hex possibly split over several fields.
    static func parseGeneric(_ fields: [PresentationField]) throws(RDataError) -> [UInt8] {
        guard fields.count >= 2, let length = PresentationText.decimal(fields[1].bytes[...], max: 65535) else {
            throw RDataError("\\# must be followed by the rdata length (RFC 3597 §5)")
        }
        var out: [UInt8] = []
        out.reserveCapacity(Int(length))
        for f in fields[2...] {
            guard Hex.decode(f.bytes[...], into: &out) else { throw RDataError("bad hex '\(f.text)' in \\# rdata") }
        }
        guard out.count == Int(length) else {
            throw RDataError("\\# length \(length) does not match \(out.count) octets of data")
        }
        return out
    }

    private static func parseField(
        _ field: RDataField, type: RRType, fields: [PresentationField], index: inout Int,
        origin: DNSName, into out: inout [UInt8]
    ) throws(RDataError) {
        /// The next single field, or an error naming what is missing.
        func next(_ what: String) throws(RDataError) -> PresentationField {
            guard index < fields.count else { throw RDataError("\(type) rdata is missing the \(what)") }
            defer { index += 1 }
            return fields[index]
        }
        func number(_ what: String, max: UInt64) throws(RDataError) -> UInt64 {
            let f = try next(what)
            guard let v = PresentationText.decimal(f.bytes[...], max: max) else {
                throw RDataError("bad \(what) '\(f.text)' in \(type)")
            }
            return v
        }
        func u16(_ v: UInt16) { out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xFF)) }
        func u32(_ v: UInt32) {
            out.append(UInt8(v >> 24)); out.append(UInt8((v >> 16) & 0xFF))
            out.append(UInt8((v >> 8) & 0xFF)); out.append(UInt8(v & 0xFF))
        }
        /// All remaining fields concatenated (base64 and hex may be split by whitespace).
        func rest(_ what: String) throws(RDataError) -> [UInt8] {
            guard index < fields.count else { throw RDataError("\(type) rdata is missing the \(what)") }
            if index + 1 == fields.count { index += 1; return fields[index - 1].bytes }
            var joined: [UInt8] = []
            while index < fields.count { joined.append(contentsOf: fields[index].bytes); index += 1 }
            return joined
        }
        func characterString(_ f: PresentationField) throws(RDataError) {
            let s = try PresentationText.unescaped(f)
            guard s.count <= 255 else { throw RDataError("\(type) string longer than 255 octets") }
            out.append(UInt8(s.count))
            out.append(contentsOf: s)
        }

        switch field {
        case .u8:
            out.append(UInt8(try number("value", max: 255)))
        case .u16:
            u16(UInt16(try number("value", max: 65535)))
        case .u32:
            u32(UInt32(try number("value", max: UInt64(UInt32.max))))
        case .period:
            let f = try next("period")
            guard let v = PresentationText.period(f.bytes[...]) else { throw RDataError("bad period '\(f.text)' in \(type)") }
            u32(v)
        case .algorithm:
            let f = try next("algorithm")
            guard let v = DNSSECAlgorithm.parse(f.bytes) else { throw RDataError("bad algorithm '\(f.text)' in \(type)") }
            out.append(v)
        case .rrType:
            let f = try next("type covered")
            guard let t = TypeMnemonic.parse(f.bytes) else { throw RDataError("unknown type '\(f.text)' in \(type)") }
            u16(t.rawValue)
        case .time:
            let f = try next("time")
            guard let v = DNSSECTime.parse(f.bytes) else { throw RDataError("bad time '\(f.text)' in \(type)") }
            u32(v)
        case .ipv4:
            let f = try next("address")
            guard IPv4Text.parse(f.bytes[...], into: &out) else { throw RDataError("bad IPv4 address '\(f.text)'") }
        case .ipv6:
            let f = try next("address")
            guard IPv6Text.parse(f.bytes[...], into: &out) else { throw RDataError("bad IPv6 address '\(f.text)'") }
        case .name:
            let f = try next("domain name")
            if !f.quoted && f.bytes == [UInt8(ascii: "@")] {
                out.append(contentsOf: origin.wire)
                return
            }
            let result = f.bytes.withUnsafeBytes { buf in
                Result { () throws(WireError) -> DNSName in try DNSName(presentation: buf, origin: origin) }
            }
            switch result {
            case .success(let name): out.append(contentsOf: name.wire)
            case .failure(let e): throw RDataError("bad domain name '\(f.text)' in \(type): \(e)")
            }
        case .string:
            try characterString(try next("string"))
        case .strings:
            guard index < fields.count else { throw RDataError("\(type) rdata is missing the string") }
            while index < fields.count { try characterString(fields[index]); index += 1 }
        case .stringRest:
            let f = try next("value")
            out.append(contentsOf: try PresentationText.unescaped(f))
        case .caaTag:
            let f = try next("tag")
            let tag = try PresentationText.unescaped(f)
            guard !tag.isEmpty, tag.count <= 255, tag.allSatisfy(isAlnum) else {
                throw RDataError("bad CAA tag '\(f.text)' (RFC 8659: letters and digits)")
            }
            out.append(UInt8(tag.count))
            out.append(contentsOf: tag)
        case .base64Rest:
            let text = try rest("base64 data")
            guard Base64.decode(text[...], into: &out) else { throw RDataError("bad base64 in \(type)") }
        case .hexRest:
            let text = try rest("hex data")
            guard Hex.decode(text[...], into: &out) else { throw RDataError("bad hex in \(type)") }
        case .salt:
            let f = try next("salt")
            if f.bytes == [UInt8(ascii: "-")] { out.append(0); return }
            var salt: [UInt8] = []
            guard Hex.decode(f.bytes[...], into: &salt), salt.count <= 255 else { throw RDataError("bad salt '\(f.text)' in \(type)") }
            out.append(UInt8(salt.count))
            out.append(contentsOf: salt)
        case .hashBase32:
            let f = try next("next hashed owner name")
            guard let hash = Base32Hex.decode(f.bytes[...]), !hash.isEmpty, hash.count <= 255 else {
                throw RDataError("bad base32hex '\(f.text)' in \(type)")
            }
            out.append(UInt8(hash.count))
            out.append(contentsOf: hash)
        case .typeBitmap:
            var types: [RRType] = []
            while index < fields.count {
                guard let t = TypeMnemonic.parse(fields[index].bytes) else {
                    throw RDataError("unknown type '\(fields[index].text)' in \(type) type list")
                }
                types.append(t)
                index += 1
            }
            TypeBitmap.encode(types, into: &out)
        case .svcParams:
            let start = out.count
            try SvcParams.parse(fields[index...], into: &out)
            index = fields.count
            // RFC 9460 §8: the rules on `mandatory` are checked on the result.
            let check = out[start...].withUnsafeBytes { buf in
                Result { () throws(WireError) in
                    var reader = WireReader(buf)
                    try SvcParams.validate(&reader)
                }
            }
            if case .failure(let e) = check { throw RDataError("\(type): \(e)") }
        case .eui48, .eui64:
            let f = try next("address")
            let count = field == .eui48 ? 6 : 8
            let b = f.bytes
            guard b.count == count * 3 - 1 else { throw RDataError("bad \(type) '\(f.text)' (RFC 7043: xx-xx-...)") }
            for k in 0..<count {
                let p = k * 3
                guard let hi = Hex.value(b[p]), let lo = Hex.value(b[p + 1]),
                      k == count - 1 || b[p + 2] == UInt8(ascii: "-") else {
                    throw RDataError("bad \(type) '\(f.text)' (RFC 7043: xx-xx-...)")
                }
                out.append(hi << 4 | lo)
            }
        case .certType:
            let f = try next("certificate type")
            guard let v = CertType.parse(f.bytes) else { throw RDataError("bad certificate type '\(f.text)' in \(type)") }
            u16(v)
        case .loc:
            try LOCData.parse(fields[index...], into: &out)
            index = fields.count
        case .ipseckey:
            try IPSECKEYData.parse(fields[index...], origin: origin, into: &out)
            index = fields.count
        case .apl:
            try APLData.parse(fields[index...], into: &out)
            index = fields.count
        case .ilnp64:
            let f = try next("locator")
            let groups = f.bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard groups.count == 4 else { throw RDataError("bad \(type) '\(f.text)' (RFC 6742: four hex groups)") }
            for g in groups {
                guard !g.isEmpty, g.count <= 4 else { throw RDataError("bad \(type) '\(f.text)'") }
                var v: UInt16 = 0
                for c in g {
                    guard let d = Hex.value(c) else { throw RDataError("bad \(type) '\(f.text)'") }
                    v = v << 4 | UInt16(d)
                }
                u16(v)
            }
        }
    }

    // MARK: Formatting

    /// Presentation text of the rdata (as dig/BIND print it: names absolute, strings quoted with
    /// escapes, base64 and hex unbroken). Malformed rdata and types without a presentation format
    /// are written in RFC 3597 form, `\# len hex`.
    public static func format(type: RRType, rdata: [UInt8]) -> String {
        guard let schema = RDataSchema.fields(type),
              (try? RDataWire.validate(type: type, rdata: rdata)) != nil,
              let text = formatFields(schema, type: type, rdata: rdata) else {
            return generic(rdata)
        }
        return text
    }

    /// RFC 3597 §5: `\# 4 0A000001`.
    public static func generic(_ rdata: [UInt8]) -> String {
        var out: [UInt8] = Array("\\# ".utf8)
        PresentationText.appendDecimal(rdata.count, to: &out)
        if !rdata.isEmpty {
            out.append(UInt8(ascii: " "))
            Hex.encode(rdata[...], into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Formats rdata already validated against `schema`; nil when a field has no text form
    /// (an empty key or digest), so the caller falls back to RFC 3597 form.
    private static func formatFields(_ schema: [RDataField], type: RRType, rdata: [UInt8]) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(rdata.count * 2 + 16)
        var p = 0
        let n = rdata.count
        func u16(_ at: Int) -> UInt16 { UInt16(rdata[at]) << 8 | UInt16(rdata[at + 1]) }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
        for field in schema {
            // SvcParams write their own leading spaces; an empty type bitmap writes nothing.
            if !out.isEmpty && field != .svcParams && !(field == .typeBitmap && p == n) {
                out.append(UInt8(ascii: " "))
            }
            switch field {
            case .u8, .algorithm:
                PresentationText.appendDecimal(rdata[p], to: &out); p += 1
            case .u16:
                PresentationText.appendDecimal(u16(p), to: &out); p += 2
            case .rrType:
                PresentationText.append(RRType(u16(p)).description, to: &out); p += 2
            case .certType:
                let v = u16(p)
                if let m = CertType.mnemonics[v] { PresentationText.append(m, to: &out) } else { PresentationText.appendDecimal(v, to: &out) }
                p += 2
            case .loc:
                guard LOCData.format(rdata[p..<n], into: &out) else { return nil }
                p = n
            case .ipseckey:
                IPSECKEYData.format(rdata[p..<n], into: &out); p = n
            case .apl:
                guard APLData.format(rdata[p..<n], into: &out) else { return nil }
                p = n
            case .u32, .period:
                PresentationText.appendDecimal(u32(p), to: &out); p += 4
            case .time:
                DNSSECTime.format(u32(p), into: &out); p += 4
            case .ipv4:
                IPv4Text.format(rdata[p..<(p + 4)], into: &out); p += 4
            case .ipv6:
                IPv6Text.format(rdata[p..<(p + 16)], into: &out); p += 16
            case .name:
                var length = 0
                while rdata[p + length] != 0 { length += 1 + Int(rdata[p + length]) }
                length += 1
                PresentationText.append(DNSName(uncheckedWire: Array(rdata[p..<(p + length)])).description, to: &out)
                p += length
            case .string:
                let len = Int(rdata[p])
                PresentationText.appendQuoted(rdata[(p + 1)..<(p + 1 + len)], to: &out)
                p += 1 + len
            case .strings:
                var first = true
                while p < n {
                    if !first { out.append(UInt8(ascii: " ")) }
                    let len = Int(rdata[p])
                    PresentationText.appendQuoted(rdata[(p + 1)..<(p + 1 + len)], to: &out)
                    p += 1 + len
                    first = false
                }
            case .stringRest:
                PresentationText.appendQuoted(rdata[p..<n], to: &out); p = n
            case .caaTag:
                let len = Int(rdata[p])
                out.append(contentsOf: rdata[(p + 1)..<(p + 1 + len)])
                p += 1 + len
            case .base64Rest:
                guard p < n else { return nil }
                Base64.encode(rdata[p..<n], into: &out); p = n
            case .hexRest:
                guard p < n else { return nil }
                Hex.encode(rdata[p..<n], into: &out); p = n
            case .salt:
                let len = Int(rdata[p])
                if len == 0 { out.append(UInt8(ascii: "-")) } else { Hex.encode(rdata[(p + 1)..<(p + 1 + len)], into: &out) }
                p += 1 + len
            case .hashBase32:
                let len = Int(rdata[p])
                Base32Hex.encode(rdata[(p + 1)..<(p + 1 + len)], into: &out)
                p += 1 + len
            case .typeBitmap:
                var first = true
                for t in TypeBitmap.types(rdata[p..<n]) {
                    if !first { out.append(UInt8(ascii: " ")) }
                    PresentationText.append(t.description, to: &out)
                    first = false
                }
                p = n
            case .svcParams:
                SvcParams.format(rdata[p..<n], into: &out); p = n
            case .eui48, .eui64:
                let count = field == .eui48 ? 6 : 8
                for k in 0..<count {
                    if k > 0 { out.append(UInt8(ascii: "-")) }
                    Hex.encode(rdata[(p + k)...(p + k)], into: &out, lowercase: true)
                }
                p += count
            case .ilnp64:
                for k in 0..<4 {
                    if k > 0 { out.append(UInt8(ascii: ":")) }
                    Hex.encode(rdata[(p + 2 * k)..<(p + 2 * k + 2)], into: &out, lowercase: true)
                }
                p += 8
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension ResourceRecord {
    /// One zone-file line: "owner TTL CLASS TYPE rdata" with absolute names, tab separated like dig.
    public var presentation: String {
        "\(owner)\t\(ttl)\t\(rrClass)\t\(type)\t\(RDataText.format(type: type, rdata: rdata))"
    }
}
