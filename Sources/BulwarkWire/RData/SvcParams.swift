/// SvcParams of SVCB and HTTPS records (RFC 9460 §2.2, §7, appendix A).
enum SvcParams {
    static let mandatory: UInt16 = 0, alpn: UInt16 = 1, noDefaultALPN: UInt16 = 2, port: UInt16 = 3
    static let ipv4hint: UInt16 = 4, ech: UInt16 = 5, ipv6hint: UInt16 = 6, dohpath: UInt16 = 7, ohttp: UInt16 = 8

    /// RFC 9460 §14.3.2 and the registry (dohpath: RFC 9461, ohttp: RFC 9540).
    static let names: [UInt16: String] = [
        0: "mandatory", 1: "alpn", 2: "no-default-alpn", 3: "port", 4: "ipv4hint", 5: "ech",
        6: "ipv6hint", 7: "dohpath", 8: "ohttp",
    ]
    static let byName: [String: UInt16] = {
        var m: [String: UInt16] = [:]
        for (k, v) in names { m[v] = k }
        return m
    }()

    static func keyName(_ key: UInt16) -> String { names[key] ?? "key\(key)" }

    /// `alpn`, or `keyNNNNN` (RFC 9460 §2.1); key65535 is reserved ("Invalid key").
    static func key(_ bytes: ArraySlice<UInt8>) -> UInt16? {
        if bytes.count > 3, bytes.prefix(3).elementsEqual("key".utf8),
           let v = PresentationText.decimal(bytes.dropFirst(3), max: 65534) {
            return UInt16(v)
        }
        return byName[String(decoding: bytes, as: UTF8.self)]
    }

    // MARK: Wire

    /// RFC 9460 §2.2: keys strictly increasing, each value exactly filling its length;
    /// §7 and §8: the value rules of the defined keys and of `mandatory`.
    static func validate(_ reader: inout WireReader) throws(WireError) {
        var previous = -1
        var mandatoryKeys: [UInt16] = []
        var present: [UInt16] = []
        while !reader.isAtEnd {
            let key = try reader.readU16()
            let length = Int(try reader.readU16())
            guard Int(key) > previous else { throw .badRData("SvcParamKeys not in strictly increasing order") }
            guard key != 65535 else { throw .badRData("SvcParamKey 65535 is reserved") }
            guard reader.remaining >= length else { throw .truncated }
            previous = Int(key)
            present.append(key)
            let start = reader.offset
            let m = reader.message
            switch key {
            case mandatory:
                guard length > 0, length % 2 == 0 else { throw .badRData("bad mandatory value") }
                var last = -1
                for i in stride(from: start, to: start + length, by: 2) {
                    let k = Int(m[i]) << 8 | Int(m[i + 1])
                    guard k != 0 else { throw .badRData("mandatory lists mandatory") }
                    guard k > last else { throw .badRData("mandatory keys not in strictly increasing order") }
                    last = k
                    mandatoryKeys.append(UInt16(k))
                }
            case alpn:
                guard length > 0 else { throw .badRData("empty alpn value") }
                var i = start
                while i < start + length {
                    let n = Int(m[i])
                    guard n > 0, i + 1 + n <= start + length else { throw .badRData("bad alpn value") }
                    i += 1 + n
                }
            case noDefaultALPN, ohttp:
                guard length == 0 else { throw .badRData("\(keyName(key)) must have an empty value") }
            case port:
                guard length == 2 else { throw .badRData("port value must be 2 octets") }
            case ipv4hint:
                guard length > 0, length % 4 == 0 else { throw .badRData("bad ipv4hint value") }
            case ipv6hint:
                guard length > 0, length % 16 == 0 else { throw .badRData("bad ipv6hint value") }
            default:
                break
            }
            try reader.skip(length)
        }
        // RFC 9460 §8: every key listed in mandatory appears in the record.
        for k in mandatoryKeys where !present.contains(k) {
            throw .badRData("mandatory key \(keyName(k)) is missing")
        }
    }

    // MARK: Presentation

    /// Parses `key=value` fields (in any order) and appends them sorted by key.
    static func parse(_ fields: ArraySlice<PresentationField>, into out: inout [UInt8]) throws(RDataError) {
        var params: [(key: UInt16, value: [UInt8])] = []
        var i = fields.startIndex
        while i < fields.endIndex {
            let field = fields[i]
            i += 1
            let bytes = field.bytes
            let eq = bytes.firstIndex(of: UInt8(ascii: "="))
            let keyBytes = eq.map { bytes[..<$0] } ?? bytes[...]
            guard let key = key(keyBytes) else {
                throw RDataError("unknown SvcParamKey '\(String(decoding: keyBytes, as: UTF8.self))'")
            }
            var raw: ArraySlice<UInt8>? = nil
            if let eq {
                raw = bytes[(eq + 1)...]
                if raw!.isEmpty, !field.quoted, i < fields.endIndex, fields[i].quoted {
                    // The lexer split `key="value"` into `key=` and a quoted field.
                    raw = fields[i].bytes[...]
                    i += 1
                } else if raw!.count >= 2, raw!.first == 0x22, raw!.last == 0x22 {
                    raw = raw!.dropFirst().dropLast()
                }
            }
            var value: [UInt8] = []
            if let raw { try PresentationText.unescape(raw, into: &value) }
            let wire = try encodeValue(key: key, value: value, present: raw != nil)
            guard wire.count <= 65535 else { throw RDataError("\(keyName(key)) value too long") }
            guard !params.contains(where: { $0.key == key }) else {
                throw RDataError("duplicate SvcParamKey \(keyName(key))")
            }
            params.append((key, wire))
        }
        params.sort { $0.key < $1.key }
        for p in params {
            out.append(UInt8(p.key >> 8)); out.append(UInt8(p.key & 0xFF))
            out.append(UInt8(p.value.count >> 8)); out.append(UInt8(p.value.count & 0xFF))
            out.append(contentsOf: p.value)
        }
    }

    /// RFC 9460 appendix A.1: a comma-separated list after char-string decoding, where `\,`
    /// and `\\` stand for a literal comma and backslash inside an item.
    static func splitList(_ value: [UInt8]) -> [[UInt8]] {
        var items: [[UInt8]] = [[]]
        var i = 0
        while i < value.count {
            let c = value[i]
            if c == 0x5C && i + 1 < value.count {
                items[items.count - 1].append(value[i + 1])
                i += 2
                continue
            }
            if c == UInt8(ascii: ",") { items.append([]) } else { items[items.count - 1].append(c) }
            i += 1
        }
        return items
    }

    static func encodeValue(key: UInt16, value: [UInt8], present: Bool) throws(RDataError) -> [UInt8] {
        let name = keyName(key)
        func requireValue() throws(RDataError) {
            guard present, !value.isEmpty else { throw RDataError("\(name) requires a value") }
        }
        var out: [UInt8] = []
        switch key {
        case mandatory:
            try requireValue()
            var keys: [UInt16] = []
            for item in splitList(value) {
                guard let k = Self.key(item[...]) else {
                    throw RDataError("unknown key '\(String(decoding: item, as: UTF8.self))' in mandatory")
                }
                guard k != mandatory else { throw RDataError("mandatory must not list mandatory") }
                guard !keys.contains(k) else { throw RDataError("duplicate key \(keyName(k)) in mandatory") }
                keys.append(k)
            }
            for k in keys.sorted() { out.append(UInt8(k >> 8)); out.append(UInt8(k & 0xFF)) }
        case alpn:
            try requireValue()
            for item in splitList(value) {
                guard !item.isEmpty, item.count <= 255 else { throw RDataError("bad alpn id in '\(String(decoding: value, as: UTF8.self))'") }
                out.append(UInt8(item.count)); out.append(contentsOf: item)
            }
        case noDefaultALPN, ohttp:
            guard value.isEmpty else { throw RDataError("\(name) takes no value") }
        case port:
            try requireValue()
            guard let v = PresentationText.decimal(value[...], max: 65535) else {
                throw RDataError("bad port '\(String(decoding: value, as: UTF8.self))'")
            }
            out = [UInt8(v >> 8), UInt8(v & 0xFF)]
        case ipv4hint:
            try requireValue()
            for item in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                guard IPv4Text.parse(item, into: &out) else {
                    throw RDataError("bad IPv4 address '\(String(decoding: item, as: UTF8.self))'")
                }
            }
        case ipv6hint:
            try requireValue()
            for item in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                guard IPv6Text.parse(item, into: &out) else {
                    throw RDataError("bad IPv6 address '\(String(decoding: item, as: UTF8.self))'")
                }
            }
        case ech:
            guard Base64.decode(value[...], into: &out) else { throw RDataError("bad base64 in ech") }
        default:
            out = value
        }
        return out
    }

    /// One octet of a quoted value. Besides `"` and `\`, the octets a zone-file lexer might
    /// split on (space, `;`, parentheses) are written `\DDD`, so that `key="a b"` survives
    /// lexers that only honour quotes at the start of a field.
    @inline(__always)
    static func appendValueOctet(_ c: UInt8, to out: inout [UInt8]) {
        switch c {
        case 0x20, UInt8(ascii: ";"), UInt8(ascii: "("), UInt8(ascii: ")"): PresentationText.appendDDD(c, to: &out)
        default: PresentationText.appendStringOctet(c, to: &out)
        }
    }

    /// Appends the params as `key=value` separated by spaces, as BIND prints them. Valid input only.
    static func format(_ b: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var i = b.startIndex
        while i + 4 <= b.endIndex {
            let key = UInt16(b[i]) << 8 | UInt16(b[i + 1])
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            let value = b[(i + 4)..<(i + 4 + length)]
            i += 4 + length
            out.append(UInt8(ascii: " "))
            PresentationText.append(keyName(key), to: &out)
            switch key {
            case noDefaultALPN, ohttp:
                continue
            case mandatory:
                out.append(UInt8(ascii: "="))
                var k = value.startIndex
                while k < value.endIndex {
                    if k > value.startIndex { out.append(UInt8(ascii: ",")) }
                    PresentationText.append(keyName(UInt16(value[k]) << 8 | UInt16(value[k + 1])), to: &out)
                    k += 2
                }
            case alpn:
                out.append(UInt8(ascii: "=")); out.append(0x22)
                var k = value.startIndex
                while k < value.endIndex {
                    if k > value.startIndex { out.append(UInt8(ascii: ",")) }
                    let n = Int(value[k])
                    for c in value[(k + 1)..<(k + 1 + n)] {
                        // Appendix A.1: escape `,` and `\` for the list, then again for the char-string.
                        switch c {
                        case UInt8(ascii: ","): out.append(contentsOf: [0x5C, 0x5C, c])
                        case 0x5C: out.append(contentsOf: [0x5C, 0x5C, 0x5C, 0x5C])
                        default: appendValueOctet(c, to: &out)
                        }
                    }
                    k += 1 + n
                }
                out.append(0x22)
            case port:
                out.append(UInt8(ascii: "="))
                PresentationText.appendDecimal(UInt16(value[value.startIndex]) << 8 | UInt16(value[value.startIndex + 1]), to: &out)
            case ipv4hint:
                out.append(UInt8(ascii: "="))
                for k in stride(from: value.startIndex, to: value.endIndex, by: 4) {
                    if k > value.startIndex { out.append(UInt8(ascii: ",")) }
                    IPv4Text.format(value[k..<(k + 4)], into: &out)
                }
            case ipv6hint:
                out.append(UInt8(ascii: "="))
                for k in stride(from: value.startIndex, to: value.endIndex, by: 16) {
                    if k > value.startIndex { out.append(UInt8(ascii: ",")) }
                    IPv6Text.format(value[k..<(k + 16)], into: &out)
                }
            case ech:
                out.append(UInt8(ascii: "="))
                Base64.encode(value, into: &out)
            default:
                // dohpath and keyNNNNN: a quoted char-string; an empty value is written as the bare key.
                if value.isEmpty { continue }
                out.append(UInt8(ascii: "=")); out.append(0x22)
                for c in value { appendValueOctet(c, to: &out) }
                out.append(0x22)
            }
        }
    }
}
