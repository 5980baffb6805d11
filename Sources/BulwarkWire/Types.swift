/// A resource record type (RFC 1035 §3.2.2 and the IANA registry).
public struct RRType: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RRType(1)
    public static let ns = RRType(2)
    public static let md = RRType(3)
    public static let mf = RRType(4)
    public static let cname = RRType(5)
    public static let soa = RRType(6)
    public static let mb = RRType(7)
    public static let mg = RRType(8)
    public static let mr = RRType(9)
    public static let null = RRType(10)
    public static let wks = RRType(11)
    public static let ptr = RRType(12)
    public static let hinfo = RRType(13)
    public static let minfo = RRType(14)
    public static let mx = RRType(15)
    public static let txt = RRType(16)
    public static let rp = RRType(17)
    public static let afsdb = RRType(18)
    public static let aaaa = RRType(28)
    public static let loc = RRType(29)
    public static let srv = RRType(33)
    public static let naptr = RRType(35)
    public static let kx = RRType(36)
    public static let cert = RRType(37)
    public static let dname = RRType(39)
    public static let opt = RRType(41)
    public static let apl = RRType(42)
    public static let ds = RRType(43)
    public static let sshfp = RRType(44)
    public static let ipseckey = RRType(45)
    public static let rrsig = RRType(46)
    public static let nsec = RRType(47)
    public static let dnskey = RRType(48)
    public static let dhcid = RRType(49)
    public static let nsec3 = RRType(50)
    public static let nsec3param = RRType(51)
    public static let tlsa = RRType(52)
    public static let smimea = RRType(53)
    public static let hip = RRType(55)
    public static let cds = RRType(59)
    public static let cdnskey = RRType(60)
    public static let openpgpkey = RRType(61)
    public static let csync = RRType(62)
    public static let zonemd = RRType(63)
    public static let svcb = RRType(64)
    public static let https = RRType(65)
    public static let spf = RRType(99)
    public static let nid = RRType(104)
    public static let l32 = RRType(105)
    public static let l64 = RRType(106)
    public static let lp = RRType(107)
    public static let eui48 = RRType(108)
    public static let eui64 = RRType(109)
    public static let tkey = RRType(249)
    public static let tsig = RRType(250)
    public static let ixfr = RRType(251)
    public static let axfr = RRType(252)
    public static let mailb = RRType(253)
    public static let maila = RRType(254)
    public static let any = RRType(255)
    public static let uri = RRType(256)
    public static let caa = RRType(257)

    /// Mnemonics known in presentation format; others are written `TYPEnnn` (RFC 3597 §5).
    static let mnemonics: [UInt16: String] = [
        1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR",
        10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT",
        17: "RP", 18: "AFSDB", 28: "AAAA", 29: "LOC", 33: "SRV", 35: "NAPTR", 36: "KX",
        37: "CERT", 39: "DNAME", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY",
        46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM",
        52: "TLSA", 53: "SMIMEA", 55: "HIP", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY",
        62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS", 99: "SPF", 104: "NID", 105: "L32",
        106: "L64", 107: "LP", 108: "EUI48", 109: "EUI64", 249: "TKEY", 250: "TSIG",
        251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA",
    ]
    static let byMnemonic: [String: UInt16] = {
        var m: [String: UInt16] = [:]
        for (k, v) in mnemonics { m[v] = k }
        return m
    }()

    /// Parses `A`, `aaaa`, or the generic `TYPE65280` (RFC 3597 §5), case-insensitively.
    public init?(mnemonic: String) {
        let upper = mnemonic.uppercased()
        if let v = Self.byMnemonic[upper] { self.rawValue = v; return }
        if upper.hasPrefix("TYPE"), let v = UInt16(upper.dropFirst(4)), !upper.dropFirst(4).hasPrefix("+") {
            self.rawValue = v; return
        }
        return nil
    }

    public var description: String { Self.mnemonics[rawValue] ?? "TYPE\(rawValue)" }

    /// Meta-types and query-only types (RFC 6895 §3.1): never stored in a zone.
    public var isMetaType: Bool {
        rawValue == 41 || (rawValue >= 128 && rawValue <= 255)
    }

    /// Types whose rdata names are compressed on the wire and compared case-insensitively
    /// (the well-known types of RFC 3597 §4).
    public var hasCompressibleNames: Bool {
        switch rawValue {
        case 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15: return true
        default: return false
        }
    }

    public static func < (lhs: RRType, rhs: RRType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A resource record class (RFC 1035 §3.2.4, RFC 2136 §2.4 NONE, RFC 1035 §3.2.5 ANY).
public struct RRClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let `in` = RRClass(1)
    public static let ch = RRClass(3)
    public static let hs = RRClass(4)
    public static let none = RRClass(254)
    public static let any = RRClass(255)

    public init?(mnemonic: String) {
        switch mnemonic.uppercased() {
        case "IN": self = .in
        case "CH", "CHAOS": self = .ch
        case "HS", "HESIOD": self = .hs
        case "NONE": self = .none
        case "ANY": self = .any
        case let s where s.hasPrefix("CLASS"):
            guard let v = UInt16(s.dropFirst(5)), !s.dropFirst(5).hasPrefix("+") else { return nil }
            self.rawValue = v
        default: return nil
        }
    }

    public var description: String {
        switch rawValue {
        case 1: return "IN"
        case 3: return "CH"
        case 4: return "HS"
        case 254: return "NONE"
        case 255: return "ANY"
        default: return "CLASS\(rawValue)"
        }
    }
}

/// Response codes, including the extended ones carried in OPT (RFC 6891 §6.1.3).
public struct RCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = RCode(0)
    public static let formErr = RCode(1)
    public static let servFail = RCode(2)
    public static let nxDomain = RCode(3)
    public static let notImp = RCode(4)
    public static let refused = RCode(5)
    public static let yxDomain = RCode(6)
    public static let yxRRSet = RCode(7)
    public static let nxRRSet = RCode(8)
    public static let notAuth = RCode(9)
    public static let notZone = RCode(10)
    public static let badVers = RCode(16)
    public static let badCookie = RCode(23)

    public var description: String {
        switch rawValue {
        case 0: return "NOERROR"
        case 1: return "FORMERR"
        case 2: return "SERVFAIL"
        case 3: return "NXDOMAIN"
        case 4: return "NOTIMP"
        case 5: return "REFUSED"
        case 6: return "YXDOMAIN"
        case 7: return "YXRRSET"
        case 8: return "NXRRSET"
        case 9: return "NOTAUTH"
        case 10: return "NOTZONE"
        case 16: return "BADVERS"
        case 23: return "BADCOOKIE"
        default: return "RCODE\(rawValue)"
        }
    }
}

/// Header opcodes (RFC 1035 §4.1.1, RFC 1996, RFC 2136).
public struct Opcode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let query = Opcode(rawValue: 0)
    public static let iquery = Opcode(rawValue: 1)
    public static let status = Opcode(rawValue: 2)
    public static let notify = Opcode(rawValue: 4)
    public static let update = Opcode(rawValue: 5)
}
