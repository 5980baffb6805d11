/// IPSECKEY record data (RFC 4025 §2): precedence, gateway type, algorithm, a gateway whose
/// form depends on the gateway type, and an optional public key.
enum IPSECKEYData {
    static func validate(_ reader: inout WireReader) throws(WireError) {
        try reader.skip(1)
        let gatewayType = try reader.readU8()
        try reader.skip(1)
        switch gatewayType {
        case 0: break
        case 1: guard reader.remaining >= 4 else { throw .badRData("IPSECKEY gateway must be 4 octets") }; try reader.skip(4)
        case 2: guard reader.remaining >= 16 else { throw .badRData("IPSECKEY gateway must be 16 octets") }; try reader.skip(16)
        case 3: _ = try reader.readUncompressedName()
        default: throw .badRData("unknown IPSECKEY gateway type \(gatewayType)")
        }
        try reader.skip(reader.remaining)
    }

    static func parse(_ fields: ArraySlice<PresentationField>, origin: DNSName, into out: inout [UInt8]) throws(RDataError) {
        guard fields.count >= 4 else { throw RDataError("IPSECKEY rdata is incomplete") }
        var i = fields.startIndex
        let precedence = fields[i].bytes, type = fields[i + 1].bytes, algorithm = fields[i + 2].bytes
        let gateway = fields[i + 3].bytes
        i += 4
        guard let p = PresentationText.decimal(precedence[...], max: 255),
              let t = PresentationText.decimal(type[...], max: 3),
              let a = PresentationText.decimal(algorithm[...], max: 255) else {
            throw RDataError("bad IPSECKEY precedence, gateway type or algorithm")
        }
        out.append(UInt8(p)); out.append(UInt8(t)); out.append(UInt8(a))
        let text = String(decoding: gateway, as: UTF8.self)
        switch t {
        case 0:
            guard gateway == [UInt8(ascii: ".")] else { throw RDataError("IPSECKEY gateway type 0 needs '.' as gateway") }
        case 1:
            guard IPv4Text.parse(gateway[...], into: &out) else { throw RDataError("bad IPv4 address '\(text)'") }
        case 2:
            guard IPv6Text.parse(gateway[...], into: &out) else { throw RDataError("bad IPv6 address '\(text)'") }
        default:
            let result = gateway.withUnsafeBytes { buf in
                Result { () throws(WireError) -> DNSName in try DNSName(presentation: buf, origin: origin) }
            }
            guard case .success(let name) = result else { throw RDataError("bad IPSECKEY gateway '\(text)'") }
            out.append(contentsOf: name.wire)
        }
        var key: [UInt8] = []
        while i < fields.endIndex { key.append(contentsOf: fields[i].bytes); i += 1 }
        guard Base64.decode(key[...], into: &out) else { throw RDataError("bad base64 in IPSECKEY") }
    }

    static func format(_ r: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var p = r.startIndex
        PresentationText.append("\(r[p]) \(r[p + 1]) \(r[p + 2]) ", to: &out)
        let gatewayType = r[p + 1]
        p += 3
        switch gatewayType {
        case 0: out.append(UInt8(ascii: "."))
        case 1: IPv4Text.format(r[p..<(p + 4)], into: &out); p += 4
        case 2: IPv6Text.format(r[p..<(p + 16)], into: &out); p += 16
        default:
            var length = 0
            while r[p + length] != 0 { length += 1 + Int(r[p + length]) }
            length += 1
            PresentationText.append(DNSName(uncheckedWire: Array(r[p..<(p + length)])).description, to: &out)
            p += length
        }
        if p < r.endIndex {
            out.append(UInt8(ascii: " "))
            Base64.encode(r[p...], into: &out)
        }
    }
}

/// APL record data (RFC 3123 §4): address prefix items `[!]family:address/prefix`.
enum APLData {
    static func validate(_ reader: inout WireReader) throws(WireError) {
        while !reader.isAtEnd {
            let family = try reader.readU16()
            let prefix = try reader.readU8()
            let length = Int(try reader.readU8() & 0x7F)
            switch family {
            case 1: guard prefix <= 32, length <= 4 else { throw .badRData("bad APL IPv4 item") }
            case 2: guard prefix <= 128, length <= 16 else { throw .badRData("bad APL IPv6 item") }
            default: break
            }
            // RFC 3123 §4.1: trailing zero octets of the address MUST be omitted.
            if length > 0 {
                guard reader.remaining >= length else { throw .truncated }
                guard reader.message[reader.offset + length - 1] != 0 else { throw .badRData("APL address with trailing zero octet") }
            }
            try reader.skip(length)
        }
    }

    static func parse(_ fields: ArraySlice<PresentationField>, into out: inout [UInt8]) throws(RDataError) {
        for field in fields {
            var b = field.bytes[...]
            let text = field.text
            var negate: UInt8 = 0
            if b.first == UInt8(ascii: "!") { negate = 0x80; b = b.dropFirst() }
            guard let colon = b.firstIndex(of: UInt8(ascii: ":")), let slash = b.lastIndex(of: UInt8(ascii: "/")),
                  colon < slash, let family = PresentationText.decimal(b[..<colon], max: 2), family >= 1 else {
                throw RDataError("bad APL item '\(text)' (RFC 3123: [!]family:address/prefix)")
            }
            var address: [UInt8] = []
            let ok = family == 1 ? IPv4Text.parse(b[(colon + 1)..<slash], into: &address)
                                 : IPv6Text.parse(b[(colon + 1)..<slash], into: &address)
            guard ok, let prefix = PresentationText.decimal(b[(slash + 1)...], max: family == 1 ? 32 : 128) else {
                throw RDataError("bad APL item '\(text)'")
            }
            while address.last == 0 { address.removeLast() }
            out.append(0); out.append(UInt8(family)); out.append(UInt8(prefix))
            out.append(negate | UInt8(address.count))
            out.append(contentsOf: address)
        }
    }

    /// False for address families without a presentation format (the caller falls back to RFC 3597).
    static func format(_ r: ArraySlice<UInt8>, into out: inout [UInt8]) -> Bool {
        var p = r.startIndex
        while p < r.endIndex {
            let family = UInt16(r[p]) << 8 | UInt16(r[p + 1])
            let prefix = r[p + 2], negate = r[p + 3] & 0x80 != 0, length = Int(r[p + 3] & 0x7F)
            guard family == 1 || family == 2 else { return false }
            if p > r.startIndex { out.append(UInt8(ascii: " ")) }
            if negate { out.append(UInt8(ascii: "!")) }
            PresentationText.append("\(family):", to: &out)
            var address = Array(r[(p + 4)..<(p + 4 + length)])
            address += [UInt8](repeating: 0, count: (family == 1 ? 4 : 16) - length)
            if family == 1 { IPv4Text.format(address[...], into: &out) } else { IPv6Text.format(address[...], into: &out) }
            PresentationText.append("/\(prefix)", to: &out)
            p += 4 + length
        }
        return true
    }
}
