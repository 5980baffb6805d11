/// Typed access to the fields the zone checker and the lookup need, read straight from
/// uncompressed rdata. Each returns nil when the rdata is too short or malformed.
public enum RDataFields {
    @inline(__always)
    static func u16(_ r: [UInt8], _ at: Int) -> UInt16? {
        guard at >= 0, at + 2 <= r.count else { return nil }
        return UInt16(r[at]) << 8 | UInt16(r[at + 1])
    }

    @inline(__always)
    static func u32(_ r: [UInt8], _ at: Int) -> UInt32? {
        guard at >= 0, at + 4 <= r.count else { return nil }
        return UInt32(r[at]) << 24 | UInt32(r[at + 1]) << 16 | UInt32(r[at + 2]) << 8 | UInt32(r[at + 3])
    }

    /// Length of the uncompressed name at `at`, or nil.
    static func nameLength(_ r: [UInt8], _ at: Int) -> Int? {
        var p = at
        while p < r.count {
            let len = Int(r[p])
            if len == 0 { return p + 1 - at }
            guard len <= 63 else { return nil }
            p += 1 + len
        }
        return nil
    }

    /// Offset of SOA's five 32-bit fields (after MNAME and RNAME).
    static func soaCounters(_ r: [UInt8]) -> Int? {
        guard let m = nameLength(r, 0), let n = nameLength(r, m), m + n + 20 == r.count else { return nil }
        return m + n
    }

    // MARK: SOA (RFC 1035 §3.3.13)

    public static func soaMName(_ rdata: [UInt8]) -> DNSName? { RDataWire.name(in: rdata, at: 0) }
    public static func soaRName(_ rdata: [UInt8]) -> DNSName? {
        guard let m = nameLength(rdata, 0) else { return nil }
        return RDataWire.name(in: rdata, at: m)
    }
    public static func soaSerial(_ rdata: [UInt8]) -> UInt32? { soaCounters(rdata).flatMap { u32(rdata, $0) } }
    public static func soaRefresh(_ rdata: [UInt8]) -> UInt32? { soaCounters(rdata).flatMap { u32(rdata, $0 + 4) } }
    public static func soaRetry(_ rdata: [UInt8]) -> UInt32? { soaCounters(rdata).flatMap { u32(rdata, $0 + 8) } }
    public static func soaExpire(_ rdata: [UInt8]) -> UInt32? { soaCounters(rdata).flatMap { u32(rdata, $0 + 12) } }
    /// The negative-caching TTL (RFC 2308 §4).
    public static func soaMinimum(_ rdata: [UInt8]) -> UInt32? { soaCounters(rdata).flatMap { u32(rdata, $0 + 16) } }

    /// The SOA rdata with its serial replaced (for serial bumps); nil when malformed.
    public static func soaReplacingSerial(_ rdata: [UInt8], with serial: UInt32) -> [UInt8]? {
        guard let at = soaCounters(rdata) else { return nil }
        var r = rdata
        r[at] = UInt8(serial >> 24); r[at + 1] = UInt8((serial >> 16) & 0xFF)
        r[at + 2] = UInt8((serial >> 8) & 0xFF); r[at + 3] = UInt8(serial & 0xFF)
        return r
    }

    // MARK: MX, SRV

    public static func mxPreference(_ rdata: [UInt8]) -> UInt16? { u16(rdata, 0) }
    public static func srvPort(_ rdata: [UInt8]) -> UInt16? { u16(rdata, 4) }

    // MARK: DNSSEC (RFC 4034)

    /// RRSIG type covered (§3.1.1).
    public static func rrsigTypeCovered(_ rdata: [UInt8]) -> RRType? { u16(rdata, 0).map(RRType.init(rawValue:)) }
    public static func rrsigLabels(_ rdata: [UInt8]) -> UInt8? { rdata.count > 3 ? rdata[3] : nil }
    public static func rrsigOriginalTTL(_ rdata: [UInt8]) -> UInt32? { u32(rdata, 4) }
    public static func rrsigExpiration(_ rdata: [UInt8]) -> UInt32? { u32(rdata, 8) }
    public static func rrsigInception(_ rdata: [UInt8]) -> UInt32? { u32(rdata, 12) }
    public static func rrsigKeyTag(_ rdata: [UInt8]) -> UInt16? { u16(rdata, 16) }
    public static func rrsigSignerName(_ rdata: [UInt8]) -> DNSName? { RDataWire.name(in: rdata, at: 18) }

    public static func dnskeyFlags(_ rdata: [UInt8]) -> UInt16? { u16(rdata, 0) }
    public static func dsKeyTag(_ rdata: [UInt8]) -> UInt16? { u16(rdata, 0) }

    /// The key tag of DNSKEY (or CDNSKEY) rdata (RFC 4034 appendix B; B.1 for algorithm 1).
    public static func keyTag(dnskey rdata: [UInt8]) -> UInt16? {
        guard rdata.count >= 4 else { return nil }
        if rdata[3] == 1 {
            guard rdata.count >= 7 else { return nil }
            return UInt16(rdata[rdata.count - 3]) << 8 | UInt16(rdata[rdata.count - 2])
        }
        var ac: UInt32 = 0
        for (i, b) in rdata.enumerated() { ac &+= (i & 1) == 0 ? UInt32(b) << 8 : UInt32(b) }
        ac &+= (ac >> 16) & 0xFFFF
        return UInt16(ac & 0xFFFF)
    }

    /// NSEC next domain name (§4.1.1).
    public static func nsecNextName(_ rdata: [UInt8]) -> DNSName? { RDataWire.name(in: rdata, at: 0) }

    /// The types in the bitmap of NSEC, NSEC3 or CSYNC rdata; nil for other types or malformed rdata.
    public static func bitmapTypes(type: RRType, rdata: [UInt8]) -> [RRType]? {
        let start: Int
        switch type {
        case .nsec:
            guard let n = nameLength(rdata, 0) else { return nil }
            start = n
        case .nsec3:
            guard rdata.count > 4 else { return nil }
            let salt = Int(rdata[4])
            guard 5 + salt < rdata.count else { return nil }
            start = 5 + salt + 1 + Int(rdata[5 + salt])
        case .csync:
            start = 6
        default:
            return nil
        }
        guard start <= rdata.count, (try? RDataWire.validate(type: type, rdata: rdata)) != nil else { return nil }
        return TypeBitmap.types(rdata[start...])
    }

    // MARK: NSEC3 and NSEC3PARAM (RFC 5155 §3.2, §4.2): the first four fields are shared.

    public static func nsec3HashAlgorithm(_ rdata: [UInt8]) -> UInt8? { rdata.count >= 5 ? rdata[0] : nil }
    /// Bit 0 (0x01) is Opt-Out in NSEC3 (RFC 5155 §3.1.2.1).
    public static func nsec3Flags(_ rdata: [UInt8]) -> UInt8? { rdata.count >= 5 ? rdata[1] : nil }
    public static func nsec3Iterations(_ rdata: [UInt8]) -> UInt16? { rdata.count >= 5 ? u16(rdata, 2) : nil }
    public static func nsec3Salt(_ rdata: [UInt8]) -> [UInt8]? {
        guard rdata.count >= 5, 5 + Int(rdata[4]) <= rdata.count else { return nil }
        return Array(rdata[5..<(5 + Int(rdata[4]))])
    }
    /// The raw (binary) next hashed owner name of NSEC3 rdata.
    public static func nsec3NextHashedOwner(_ rdata: [UInt8]) -> [UInt8]? {
        guard rdata.count >= 5 else { return nil }
        let at = 5 + Int(rdata[4])
        guard at < rdata.count, at + 1 + Int(rdata[at]) <= rdata.count else { return nil }
        return Array(rdata[(at + 1)..<(at + 1 + Int(rdata[at]))])
    }
    /// A hash in the unpadded base32hex of NSEC3 owner names (RFC 5155 §3.3), lower case as
    /// owner labels are usually written.
    public static func base32HexLabel(_ hash: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        Base32Hex.encode(hash[...], into: &out)
        return out.map(asciiLower)
    }

    /// SVCB/HTTPS SvcPriority (0 is AliasMode, RFC 9460 §2.4.2) and TargetName.
    public static func svcPriority(_ rdata: [UInt8]) -> UInt16? { u16(rdata, 0) }
    public static func svcTarget(_ rdata: [UInt8]) -> DNSName? { RDataWire.name(in: rdata, at: 2) }
}
