/// The layout of record data, one entry per type: the single table that the wire
/// validator, the wire reader, the presentation parser and the formatter all walk
/// (in the spirit of miekg/dns's `msg_generate.go`). Adding a type is adding a row.
enum RDataField: Sendable, Hashable {
    case u8, u16, u32
    /// A 32-bit period; presentation input may use TTL units like `1h30m` (SOA timers).
    case period
    /// A DNSSEC algorithm octet; input may use the mnemonic (`RSASHA256`), output is numeric.
    case algorithm
    /// A 16-bit type shown as its mnemonic (RRSIG type covered).
    case rrType
    /// A 32-bit time shown as YYYYMMDDHHmmSS (RFC 4034 §3.2).
    case time
    case ipv4, ipv6
    /// A domain name; compressible on the wire only when `RRType.hasCompressibleNames`.
    case name
    /// One <character-string> (RFC 1035 §3.3): length octet and up to 255 octets.
    case string
    /// One or more <character-string>s up to the end of the rdata (TXT, SPF).
    case strings
    /// The octets up to the end of the rdata, shown as one quoted string (CAA value, URI target).
    case stringRest
    /// CAA tag (RFC 8659 §4.1): length octet and an alphanumeric tag, shown unquoted.
    case caaTag
    /// Octets to the end, in base64 (keys, signatures); split fields are concatenated.
    case base64Rest
    /// Octets to the end, in hex (digests, certificates); split fields are concatenated.
    case hexRest
    /// Length-prefixed salt in hex, `-` when empty (RFC 5155 §3.3).
    case salt
    /// Length-prefixed hash in unpadded base32hex (RFC 5155 §3.3).
    case hashBase32
    /// Type bitmap to the end of the rdata (RFC 4034 §4.1.2).
    case typeBitmap
    /// SvcParams to the end of the rdata (RFC 9460 §2.2).
    case svcParams
    /// RFC 7043: six or eight octets written as hyphen-separated hex pairs.
    case eui48, eui64
    /// RFC 6742 §2.1: 64 bits written as four colon-separated 16-bit hex groups.
    case ilnp64
    /// A CERT type (RFC 4398 §2.1), written as its mnemonic.
    case certType
    /// The whole of LOC rdata (RFC 1876), which has its own presentation grammar.
    case loc
    /// The whole of IPSECKEY rdata (RFC 4025), whose gateway depends on the gateway type.
    case ipseckey
    /// The whole of APL rdata (RFC 3123), a list of address prefixes.
    case apl

    /// Fields that consume everything up to the end of the rdata.
    var isRest: Bool {
        switch self {
        case .strings, .stringRest, .base64Rest, .hexRest, .typeBitmap, .svcParams, .loc, .ipseckey, .apl: return true
        default: return false
        }
    }
}

enum RDataSchema {
    /// The layout of each type with a presentation format. Types not here are opaque (RFC 3597).
    static let table: [UInt16: [RDataField]] = {
        var t: [UInt16: [RDataField]] = [:]
        let singleName: [RDataField] = [.name]
        // RFC 1035 §3.3
        for type: RRType in [.ns, .md, .mf, .cname, .mb, .mg, .mr, .ptr, .dname] { t[type.rawValue] = singleName }
        t[RRType.a.rawValue] = [.ipv4]                                             // RFC 1035 §3.4.1
        t[RRType.soa.rawValue] = [.name, .name, .u32, .period, .period, .period, .period] // RFC 1035 §3.3.13
        t[RRType.hinfo.rawValue] = [.string, .string]                              // RFC 1035 §3.3.2
        t[RRType.minfo.rawValue] = [.name, .name]                                  // RFC 1035 §3.3.7
        t[RRType.mx.rawValue] = [.u16, .name]                                      // RFC 1035 §3.3.9
        t[RRType.txt.rawValue] = [.strings]                                        // RFC 1035 §3.3.14
        t[RRType.spf.rawValue] = [.strings]                                        // RFC 7208 §3.1
        t[RRType.rp.rawValue] = [.name, .name]                                     // RFC 1183 §2.2
        t[RRType.afsdb.rawValue] = [.u16, .name]                                   // RFC 1183 §1
        t[RRType.aaaa.rawValue] = [.ipv6]                                          // RFC 3596 §2.2
        t[RRType.loc.rawValue] = [.loc]                                            // RFC 1876 §2
        t[RRType.cert.rawValue] = [.certType, .u16, .algorithm, .base64Rest]       // RFC 4398 §2
        t[RRType.ipseckey.rawValue] = [.ipseckey]                                  // RFC 4025 §2
        t[RRType.apl.rawValue] = [.apl]                                            // RFC 3123 §4
        t[RRType.srv.rawValue] = [.u16, .u16, .u16, .name]                         // RFC 2782
        t[RRType.naptr.rawValue] = [.u16, .u16, .string, .string, .string, .name]  // RFC 3403 §4.1
        t[RRType.kx.rawValue] = [.u16, .name]                                      // RFC 2230 §3.1
        t[RRType.ds.rawValue] = [.u16, .algorithm, .u8, .hexRest]                  // RFC 4034 §5.1
        t[RRType.cds.rawValue] = [.u16, .algorithm, .u8, .hexRest]                 // RFC 7344 §3.1
        t[RRType.sshfp.rawValue] = [.u8, .u8, .hexRest]                            // RFC 4255 §3.1
        t[RRType.rrsig.rawValue] = [.rrType, .algorithm, .u8, .u32, .time, .time, .u16, .name, .base64Rest] // RFC 4034 §3.1
        t[RRType.nsec.rawValue] = [.name, .typeBitmap]                             // RFC 4034 §4.1
        t[RRType.dnskey.rawValue] = [.u16, .u8, .algorithm, .base64Rest]           // RFC 4034 §2.1
        t[RRType.cdnskey.rawValue] = [.u16, .u8, .algorithm, .base64Rest]          // RFC 7344 §3.2
        t[RRType.dhcid.rawValue] = [.base64Rest]                                   // RFC 4701 §3.1
        t[RRType.nsec3.rawValue] = [.u8, .u8, .u16, .salt, .hashBase32, .typeBitmap] // RFC 5155 §3.2
        t[RRType.nsec3param.rawValue] = [.u8, .u8, .u16, .salt]                    // RFC 5155 §4.2
        t[RRType.tlsa.rawValue] = [.u8, .u8, .u8, .hexRest]                        // RFC 6698 §2.1
        t[RRType.smimea.rawValue] = [.u8, .u8, .u8, .hexRest]                      // RFC 8162 §2
        t[RRType.openpgpkey.rawValue] = [.base64Rest]                              // RFC 7929 §2.1
        t[RRType.csync.rawValue] = [.u32, .u16, .typeBitmap]                       // RFC 7477 §2.1
        t[RRType.zonemd.rawValue] = [.u32, .u8, .u8, .hexRest]                     // RFC 8976 §2.2
        t[RRType.svcb.rawValue] = [.u16, .name, .svcParams]                        // RFC 9460 §2.2
        t[RRType.https.rawValue] = [.u16, .name, .svcParams]                       // RFC 9460 §9
        t[RRType.nid.rawValue] = [.u16, .ilnp64]                                   // RFC 6742 §2.1
        t[RRType.l32.rawValue] = [.u16, .ipv4]                                     // RFC 6742 §2.2
        t[RRType.l64.rawValue] = [.u16, .ilnp64]                                   // RFC 6742 §2.3
        t[RRType.lp.rawValue] = [.u16, .name]                                      // RFC 6742 §2.4
        t[RRType.eui48.rawValue] = [.eui48]                                        // RFC 7043 §3
        t[RRType.eui64.rawValue] = [.eui64]                                        // RFC 7043 §4
        t[RRType.uri.rawValue] = [.u16, .u16, .stringRest]                         // RFC 7553 §4.5
        t[RRType.caa.rawValue] = [.u8, .caaTag, .stringRest]                       // RFC 8659 §4.1
        return t
    }()

    @inline(__always)
    static func fields(_ type: RRType) -> [RDataField]? { table[type.rawValue] }

    /// Rules that span fields, checked after the layout: digest lengths fixed by the digest type.
    static func checkDigests(type: RRType, _ m: UnsafeRawBufferPointer, start: Int, end: Int) throws(WireError) {
        switch type {
        case .ds, .cds:
            // RFC 4509 §2.2 (SHA-256), RFC 3658 (SHA-1), RFC 6605 §2 (SHA-384); IANA DS digest types.
            let digestLength = end - start - 4
            let expected: Int?
            switch m[start + 3] {
            case 1: expected = 20
            case 2: expected = 32
            case 4: expected = 48
            default: expected = nil
            }
            if let expected, digestLength != expected {
                throw .badRData("\(type) digest type \(m[start + 3]) needs \(expected) octets, not \(digestLength)")
            }
        case .zonemd:
            // RFC 8976 §2.2.4: SHA-384 and SHA-512 digests are 48 and 64 octets.
            let digestLength = end - start - 6
            let expected: Int? = m[start + 5] == 1 ? 48 : m[start + 5] == 2 ? 64 : nil
            if let expected, digestLength != expected {
                throw .badRData("ZONEMD hash algorithm \(m[start + 5]) needs \(expected) octets, not \(digestLength)")
            }
        default:
            break
        }
    }
}
