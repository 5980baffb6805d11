/// SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012) with a
/// 128-bit key as two little-endian 64-bit words. SipHash-2-4 is the keyed hash
/// RFC 9018 §4.4 uses for server cookies; SipHash-1-3 (the variant Rust's and Python's
/// hash tables use against flooding) keys the zone name tables.
public enum SipHash24 {
    /// The hash of `data` under the key (k0, k1); the 64-bit result goes little-endian
    /// where it goes on the wire.
    public static func hash(k0: UInt64, k1: UInt64, _ data: UnsafeRawBufferPointer) -> UInt64 {
        var s = SipState(k0: k0, k1: k1)
        return s.hash(data.baseAddress, data.count, prefixLength: 0, compression: 2, finalization: 4)
    }

    /// The key words of a 16-octet key.
    public static func key(_ octets: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        precondition(octets.count == 16, "a SipHash key is 16 octets")
        return (SipState.loadLE(octets.baseAddress!, 8), SipState.loadLE(octets.baseAddress! + 8, 8))
    }
}

/// The four words of SipHash's state.
@usableFromInline package struct SipState {
    @usableFromInline var v0, v1, v2, v3: UInt64

    @inlinable @inline(__always)
    package init(k0: UInt64, k1: UInt64) {
        v0 = 0x736f6d6570736575 ^ k0
        v1 = 0x646f72616e646f6d ^ k1
        v2 = 0x6c7967656e657261 ^ k0
        v3 = 0x7465646279746573 ^ k1
    }

    @inlinable @inline(__always)
    static func rotl(_ word: UInt64, _ bits: UInt64) -> UInt64 { (word << bits) | (word >> (64 - bits)) }

    @inlinable @inline(__always)
    mutating func round() {
        v0 = v0 &+ v1; v1 = Self.rotl(v1, 13); v1 ^= v0; v0 = Self.rotl(v0, 32)
        v2 = v2 &+ v3; v3 = Self.rotl(v3, 16); v3 ^= v2
        v0 = v0 &+ v3; v3 = Self.rotl(v3, 21); v3 ^= v0
        v2 = v2 &+ v1; v1 = Self.rotl(v1, 17); v1 ^= v2; v2 = Self.rotl(v2, 32)
    }

    /// Absorbs one message word.
    @inlinable @inline(__always)
    package mutating func compress(_ m: UInt64, rounds: Int) {
        v3 ^= m
        var r = 0
        while r < rounds { round(); r += 1 }
        v0 ^= m
    }

    @inlinable @inline(__always)
    static func loadLE(_ bytes: UnsafeRawPointer, _ count: Int) -> UInt64 {
        if count == 8 { return UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self)) }
        var w: UInt64 = 0
        var i = 0
        while i < count { w |= UInt64(bytes.load(fromByteOffset: i, as: UInt8.self)) << UInt64(8 * i); i += 1 }
        return w
    }

    /// Absorbs `count` bytes at `data` and finishes. `prefixLength` counts message bytes
    /// already compressed (whole words), for the length in the last block.
    @inlinable @inline(__always)
    package mutating func hash(_ data: UnsafeRawPointer?, _ count: Int, prefixLength: Int,
                               compression c: Int, finalization d: Int) -> UInt64 {
        var i = 0
        while i + 8 <= count {
            compress(Self.loadLE(data! + i, 8), rounds: c)
            i += 8
        }
        var last = UInt64(truncatingIfNeeded: prefixLength + count) << 56
        if count > i { last |= Self.loadLE(data! + i, count - i) }
        compress(last, rounds: c)
        v2 ^= 0xff
        var r = 0
        while r < d { round(); r += 1 }
        return v0 ^ v1 ^ v2 ^ v3
    }
}
