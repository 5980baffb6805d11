/// A domain name embedded in uncompressed rdata.
public struct EmbeddedName: Sendable, Hashable {
    /// Offset of the name's first octet within the rdata.
    public var offset: Int
    /// Wire length of the (uncompressed) name.
    public var length: Int
    /// Whether a writer may compress it (RFC 3597 §4: only the well-known types).
    public var compressible: Bool

    public init(offset: Int, length: Int, compressible: Bool) {
        self.offset = offset
        self.length = length
        self.compressible = compressible
    }
}

/// Record data on the wire: reading from messages, validation, and the names inside.
public enum RDataWire {
    /// Reads `length` octets of rdata of `type` at reader.offset from a message, expanding compressed
    /// names where RFC 3597 §4 allows compression (RRType.hasCompressibleNames), rejecting pointers
    /// elsewhere; validates the structure; returns uncompressed rdata; leaves reader.offset at the
    /// end of the rdata.
    public static func read(type: RRType, from reader: inout WireReader, length: Int) throws(WireError) -> [UInt8] {
        guard length >= 0, reader.remaining >= length else { throw .truncated }
        let start = reader.offset, end = start + length
        let savedLimit = reader.limit
        defer { reader.limit = savedLimit }
        reader.limit = end
        guard let fields = RDataSchema.fields(type) else {
            // Opaque (RFC 3597 §4): taken as is.
            return try reader.readBytes(length)
        }
        if type.hasCompressibleNames {
            var out: [UInt8]? = []
            out!.reserveCapacity(length + 32)
            try RDataScanner.scan(fields, type: type, reader: &reader, pointers: true, rebuild: &out)
            guard out!.count <= 65535 else { throw .badRData("rdata longer than 65535 octets after decompression") }
            return out!
        }
        var none: [UInt8]? = nil
        try RDataScanner.scan(fields, type: type, reader: &reader, pointers: false, rebuild: &none)
        return Array(reader.message[start..<end])
    }

    /// Validates uncompressed rdata of `type` (no compression pointers at all).
    public static func validate(type: RRType, rdata: [UInt8]) throws(WireError) {
        guard let fields = RDataSchema.fields(type) else {
            guard rdata.count <= 65535 else { throw .badRData("rdata longer than 65535 octets") }
            return
        }
        let result = rdata.withUnsafeBytes { buf in
            Result { () throws(WireError) in
                var reader = WireReader(buf)
                var none: [UInt8]? = nil
                try RDataScanner.scan(fields, type: type, reader: &reader, pointers: false, rebuild: &none)
            }
        }
        try result.get()
    }

    /// The domain names embedded in uncompressed rdata, in order. Empty for malformed rdata.
    public static func embeddedNames(type: RRType, rdata: [UInt8]) -> [EmbeddedName] {
        guard let fields = RDataSchema.fields(type), fields.contains(.name) else { return [] }
        let compressible = type.hasCompressibleNames
        return rdata.withUnsafeBytes { buf -> [EmbeddedName] in
            var reader = WireReader(buf)
            var names: [EmbeddedName] = []
            do {
                for field in fields {
                    if field == .name {
                        let start = reader.offset
                        _ = try reader.readUncompressedName()
                        names.append(EmbeddedName(offset: start, length: reader.offset - start, compressible: compressible))
                    } else {
                        try RDataScanner.skip(field, type: type, reader: &reader)
                    }
                }
            } catch {
                return []
            }
            return names
        }
    }

    /// The rdata in DNSSEC canonical form (RFC 4034 §6.2 item 3, as amended by RFC 6840 §5.1):
    /// names embedded in the rdata of NS, MD, MF, CNAME, SOA, MB, MG, MR, PTR, MINFO, MX, RP,
    /// AFSDB, NAPTR, KX, SRV, DNAME and RRSIG lower-cased; other types (NSEC among them) unchanged.
    public static func canonicalForm(type: RRType, rdata: [UInt8]) -> [UInt8] {
        switch type.rawValue {
        case 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15, 17, 18, 35, 36, 33, 39, 46: break
        default: return rdata
        }
        var out = rdata
        for name in embeddedNames(type: type, rdata: rdata) {
            for i in name.offset..<(name.offset + name.length) { out[i] = asciiLower(out[i]) }
        }
        return out
    }

    /// The target name of NS, CNAME, DNAME, PTR, MX and SRV records (the host or alias the
    /// record points at); nil for other types or malformed rdata.
    public static func targetName(type: RRType, rdata: [UInt8]) -> DNSName? {
        let offset: Int
        switch type {
        case .ns, .cname, .dname, .ptr: offset = 0
        case .mx: offset = 2
        case .srv: offset = 6
        default: return nil
        }
        return name(in: rdata, at: offset)
    }

    /// The uncompressed name at `offset` in `rdata`, or nil when malformed.
    static func name(in rdata: [UInt8], at offset: Int) -> DNSName? {
        guard offset < rdata.count else { return nil }
        return rdata.withUnsafeBytes { buf -> DNSName? in
            var reader = WireReader(buf, offset: offset)
            return try? reader.readUncompressedName()
        }
    }
}

/// Walks rdata along its schema, validating every field against what is left.
enum RDataScanner {
    /// Validates the fields from reader.offset to reader.limit. With `rebuild` non-nil, appends
    /// the uncompressed rdata to it (names expanded when `pointers` allows compression).
    static func scan(
        _ fields: [RDataField], type: RRType, reader: inout WireReader, pointers: Bool, rebuild: inout [UInt8]?
    ) throws(WireError) {
        let base = reader.offset
        for field in fields {
            let start = reader.offset
            if field == .name {
                let name = pointers ? try reader.readName() : try reader.readUncompressedName()
                if rebuild != nil { rebuild!.append(contentsOf: name.wire) }
                continue
            }
            try skip(field, type: type, reader: &reader)
            if rebuild != nil { rebuild!.append(contentsOf: reader.message[start..<reader.offset]) }
        }
        guard reader.offset == reader.limit else { throw .trailingData }
        if type == .ds || type == .cds || type == .zonemd {
            try RDataSchema.checkDigests(type: type, reader.message, start: base, end: reader.limit)
        }
    }

    /// Moves past one non-name field, checking its structure.
    static func skip(_ field: RDataField, type: RRType, reader: inout WireReader) throws(WireError) {
        switch field {
        case .u8, .algorithm: try reader.skip(1)
        case .u16, .rrType, .certType: try reader.skip(2)
        case .u32, .period, .time: try reader.skip(4)
        case .ipv4: try fixed(4, "\(type) address must be 4 octets", &reader)
        case .ipv6: try fixed(16, "\(type) address must be 16 octets", &reader)
        case .eui48: try fixed(6, "EUI48 must be 6 octets", &reader)
        case .eui64, .ilnp64: try fixed(8, "\(type) identifier must be 8 octets", &reader)
        case .name: _ = try reader.readUncompressedName()
        case .string, .salt:
            let len = Int(try reader.readU8())
            try reader.skip(len)
        case .hashBase32:
            let len = Int(try reader.readU8())
            guard len > 0 else { throw .badRData("empty NSEC3 next hashed owner name") }
            try reader.skip(len)
        case .strings:
            // RFC 1035 §3.3.14: one or more <character-string>s.
            guard !reader.isAtEnd else { throw .badRData("\(type) with no strings") }
            while !reader.isAtEnd {
                let len = Int(try reader.readU8())
                try reader.skip(len)
            }
        case .caaTag:
            // RFC 8659 §4.1: the tag is at least one octet of US-ASCII letters and digits.
            let len = Int(try reader.readU8())
            guard len > 0 else { throw .badRData("empty CAA tag") }
            guard reader.remaining >= len else { throw .truncated }
            for i in reader.offset..<(reader.offset + len) where !isAlnum(reader.message[i]) {
                throw .badRData("CAA tag must be alphanumeric")
            }
            try reader.skip(len)
        case .stringRest, .base64Rest, .hexRest:
            try reader.skip(reader.remaining)
        case .typeBitmap:
            try TypeBitmap.validate(&reader)
        case .svcParams:
            try SvcParams.validate(&reader)
        case .loc:
            try LOCData.validate(&reader)
        case .ipseckey:
            try IPSECKEYData.validate(&reader)
        case .apl:
            try APLData.validate(&reader)
        }
    }

    @inline(__always)
    private static func fixed(_ n: Int, _ why: @autoclosure () -> String, _ reader: inout WireReader) throws(WireError) {
        guard reader.remaining >= n else { throw .badRData(why()) }
        try reader.skip(n)
    }
}

@inline(__always)
func isAlnum(_ c: UInt8) -> Bool {
    (c &- 0x30) < 10 || ((c | 0x20) &- 0x61) < 26
}
