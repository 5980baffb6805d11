/// Serial number arithmetic on SOA serials (RFC 1982 with SERIAL_BITS = 32): the one
/// implementation for transfers in and out, the journal and the control plane.
public enum SerialArithmetic {
    /// How two serials compare. RFC 1982 §3.2: `undefined` when they are exactly 2^31
    /// apart (neither is greater).
    public enum Order: Sendable, Equatable { case less, equal, greater, undefined }

    /// RFC 1982 §3.2: s1 < s2 when (i1 < i2 and i2 - i1 < 2^31) or (i1 > i2 and i1 - i2 > 2^31).
    public static func compare(_ s1: UInt32, _ s2: UInt32) -> Order {
        if s1 == s2 { return .equal }
        let d = s2 &- s1
        if d == 0x8000_0000 { return .undefined }
        return d < 0x8000_0000 ? .less : .greater
    }

    /// True when `candidate` is newer than `current` (a primary's serial against ours).
    public static func isNewer(_ candidate: UInt32, than current: UInt32) -> Bool {
        compare(candidate, current) == .greater
    }

    /// RFC 1982 §3.1: adds `n` (at most 2^31 - 1) modulo 2^32.
    public static func add(_ s: UInt32, _ n: UInt32) -> UInt32 {
        precondition(n <= 0x7FFF_FFFF, "RFC 1982 §3.1: addends above 2^31 - 1 are undefined")
        return s &+ n
    }
}
