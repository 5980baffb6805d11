/// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): the
/// keyed hash RFC 9018 §4.4 uses for server cookies. A 128-bit key as two little-endian
/// 64-bit words; the 64-bit result is written little-endian where it goes on the wire.
public enum SipHash24 {
    @inline(__always)
    static func rotl(_ word: UInt64, _ bits: UInt64) -> UInt64 { (word << bits) | (word >> (64 - bits)) }

    @inline(__always)
    static func round(_ v0: inout UInt64, _ v1: inout UInt64, _ v2: inout UInt64, _ v3: inout UInt64) {
        v0 = v0 &+ v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
        v2 = v2 &+ v3; v3 = rotl(v3, 16); v3 ^= v2
        v0 = v0 &+ v3; v3 = rotl(v3, 21); v3 ^= v0
        v2 = v2 &+ v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    }

    @inline(__always)
    static func loadLE(_ bytes: UnsafeRawPointer, _ count: Int) -> UInt64 {
        var w: UInt64 = 0
        for i in 0..<count { w |= UInt64(bytes.load(fromByteOffset: i, as: UInt8.self)) << UInt64(8 * i) }
        return w
    }

    /// The hash of `data` under the key (k0, k1).
    public static func hash(k0: UInt64, k1: UInt64, _ data: UnsafeRawBufferPointer) -> UInt64 {
        var v0: UInt64 = 0x736f6d6570736575 ^ k0
        var v1: UInt64 = 0x646f72616e646f6d ^ k1
        var v2: UInt64 = 0x6c7967656e657261 ^ k0
        var v3: UInt64 = 0x7465646279746573 ^ k1
        let n = data.count
        let base = data.baseAddress
        var i = 0
        while i + 8 <= n {
            let m = loadLE(base! + i, 8)
            v3 ^= m
            round(&v0, &v1, &v2, &v3); round(&v0, &v1, &v2, &v3)
            v0 ^= m
            i += 8
        }
        var last = UInt64(truncatingIfNeeded: n) << 56
        if n > i { last |= loadLE(base! + i, n - i) }
        v3 ^= last
        round(&v0, &v1, &v2, &v3); round(&v0, &v1, &v2, &v3)
        v0 ^= last
        v2 ^= 0xff
        round(&v0, &v1, &v2, &v3); round(&v0, &v1, &v2, &v3)
        round(&v0, &v1, &v2, &v3); round(&v0, &v1, &v2, &v3)
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// The key words of a 16-octet key.
    public static func key(_ octets: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        precondition(octets.count == 16, "a SipHash key is 16 octets")
        return (loadLE(octets.baseAddress!, 8), loadLE(octets.baseAddress! + 8, 8))
    }
}
