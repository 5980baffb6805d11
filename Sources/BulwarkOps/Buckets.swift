// The label buckets of the query counters: a fixed, small set so a worker's counter
// table has a fixed size (no map keyed by whatever a client sends).

/// Query types counted by name; every other type is counted as "other".
public enum QTypeBucket {
    public static let names = [
        "A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "NAPTR", "DS", "RRSIG",
        "DNSKEY", "NSEC", "TLSA", "SVCB", "HTTPS", "CAA", "ANY", "AXFR", "IXFR", "other", "none",
    ]
    public static let count = names.count
    /// No question (a query dropped or answered before its type was read).
    public static let none = count - 1
    public static let other = count - 2

    @inlinable @inline(__always)
    public static func index(_ qtype: UInt16) -> Int {
        switch qtype {
        case 1: return 0
        case 2: return 1
        case 5: return 2
        case 6: return 3
        case 12: return 4
        case 15: return 5
        case 16: return 6
        case 28: return 7
        case 33: return 8
        case 35: return 9
        case 43: return 10
        case 46: return 11
        case 48: return 12
        case 47: return 13
        case 52: return 14
        case 64: return 15
        case 65: return 16
        case 257: return 17
        case 255: return 18
        case 252: return 19
        case 251: return 20
        default: return 21
        }
    }
}

/// Response codes 0–15 (the header's RCODE) and "none" for a query answered with nothing
/// (dropped: malformed, denied with `drop`, rate limited).
public enum RCodeBucket {
    public static let names = [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
        "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI", "RCODE12", "RCODE13", "RCODE14", "RCODE15", "none",
    ]
    public static let count = 17
    public static let none = 16
}

/// Per-zone response classes.
public enum ZoneBucket {
    public static let names = ["NOERROR", "NXDOMAIN", "error", "none"]
    public static let count = 4
    public static let noError = 0, nxdomain = 1, error = 2, none = 3

    @inlinable @inline(__always)
    public static func of(rcode: Int) -> Int {
        rcode == 0 ? noError : rcode == 3 ? nxdomain : rcode == RCodeBucket.none ? none : error
    }
}

/// Policy outcomes counted per worker.
public enum PolicyEvent: Int, CaseIterable, Sendable {
    /// Response rate limiting: sent as an empty TC=1 answer.
    case rateLimitSlipped = 0
    /// Response rate limiting: not sent.
    case rateLimitDropped
    /// The query access list refused or dropped it.
    case aclDenied
    /// BADCOOKIE sent (cookies required).
    case badCookie
    /// Samples the insight ring had no room for.
    case samplesLost

    public var name: String {
        switch self {
        case .rateLimitSlipped: "rrl_slipped"
        case .rateLimitDropped: "rrl_dropped"
        case .aclDenied: "acl_denied"
        case .badCookie: "bad_cookie"
        case .samplesLost: "samples_lost"
        }
    }
}

/// Latency buckets of UDP batches: upper bounds in microseconds, powers of two from 2 µs
/// to about 1 s, then +Inf.
public enum LatencyBucket {
    public static let boundsMicros: [Double] = (1...20).map { Double(1 << $0) }
    /// bounds + the +Inf bucket.
    public static let count = 21

    /// The bucket of a duration in nanoseconds.
    @inlinable @inline(__always)
    public static func index(nanoseconds: UInt64) -> Int {
        let micros = nanoseconds / 1000
        // bucket k holds (2^k, 2^(k+1)] µs, k ≥ 1; anything ≤ 2 µs is bucket 0.
        guard micros > 2 else { return 0 }
        let k = 64 - (micros - 1).leadingZeroBitCount  // ceil(log2(micros))
        return min(k - 1, count - 1)
    }
}
