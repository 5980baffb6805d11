// The NSEC3 hash of a name (RFC 5155 §5): iterated, salted SHA-1 (FIPS 180-4) over the
// name's canonical wire form, and base32hex (RFC 4648 §7) for the hashed owner labels.
// Per query the next closer name and the wildcard are hashed, so the hash runs over
// buffers the caller owns and allocates nothing.

import BulwarkWire

/// NSEC3 hashing over caller-owned buffers.
@usableFromInline package enum NSEC3Hash {
    /// SHA-1's digest length, the only NSEC3 hash algorithm (RFC 5155 §11: algorithm 1).
    @usableFromInline package static let length = 20
    /// The work buffer `hash` needs: a name (with a wildcard label: 257 octets), the
    /// salt (255) and SHA-1's padding (at most 72).
    package static let workCapacity = 640
    /// The 32-bit words of SHA-1's message schedule.
    package static let scheduleCapacity = 80

    /// IH(salt, x, iterations) of RFC 5155 §5, where x is `*.` + `name` when `wildcard`
    /// (`name` a lower-cased uncompressed wire name). The digest goes to `out` (20 octets).
    @inline(__always)
    package static func hash(name: UnsafeRawBufferPointer, wildcard: Bool, salt: UnsafeRawBufferPointer, iterations: Int,
                             work: UnsafeMutablePointer<UInt8>, schedule: UnsafeMutablePointer<UInt32>,
                             out: UnsafeMutablePointer<UInt8>) {
        var n = 0
        if wildcard {
            work[0] = 1
            work[1] = UInt8(ascii: "*")
            n = 2
        }
        if name.count > 0 { (work + n).update(from: name.baseAddress!.assumingMemoryBound(to: UInt8.self), count: name.count) }
        n += name.count
        if salt.count > 0 { (work + n).update(from: salt.baseAddress!.assumingMemoryBound(to: UInt8.self), count: salt.count) }
        n += salt.count
        sha1(work, count: n, schedule: schedule, out: out)
        var k = 0
        while k < iterations {
            // IH(salt, x, k) = H(IH(salt, x, k-1) || salt)
            work.update(from: out, count: length)
            if salt.count > 0 {
                (work + length).update(from: salt.baseAddress!.assumingMemoryBound(to: UInt8.self), count: salt.count)
            }
            sha1(work, count: length + salt.count, schedule: schedule, out: out)
            k += 1
        }
    }

    /// SHA-1 of `data[0..<count]`; pads in place, so `data` must have room for `count + 72`.
    @inline(__always)
    package static func sha1(_ data: UnsafeMutablePointer<UInt8>, count: Int, schedule w: UnsafeMutablePointer<UInt32>,
                             out: UnsafeMutablePointer<UInt8>) {
        // FIPS 180-4 §5.1.1: a 1 bit, zeros, the length in bits (64-bit big-endian).
        var total = count
        data[total] = 0x80
        total += 1
        while total % 64 != 56 { data[total] = 0; total += 1 }
        let bits = UInt64(count) &* 8
        var s = 56
        while s >= 0 { data[total] = UInt8(truncatingIfNeeded: bits >> UInt64(s)); total += 1; s -= 8 }

        var h0: UInt32 = 0x6745_2301, h1: UInt32 = 0xEFCD_AB89, h2: UInt32 = 0x98BA_DCFE
        var h3: UInt32 = 0x1032_5476, h4: UInt32 = 0xC3D2_E1F0
        var block = 0
        while block < total {
            var t = 0
            while t < 16 {
                let p = data + block + 4 * t
                w[t] = UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
                t += 1
            }
            while t < 80 {
                let x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
                w[t] = x << 1 | x >> 31
                t += 1
            }
            var a = h0, b = h1, c = h2, d = h3, e = h4
            t = 0
            while t < 80 {
                let f: UInt32, k: UInt32
                if t < 20 {
                    f = (b & c) | (~b & d); k = 0x5A82_7999
                } else if t < 40 {
                    f = b ^ c ^ d; k = 0x6ED9_EBA1
                } else if t < 60 {
                    f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                } else {
                    f = b ^ c ^ d; k = 0xCA62_C1D6
                }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[t]
                e = d
                d = c
                c = b << 30 | b >> 2
                b = a
                a = temp
                t += 1
            }
            h0 = h0 &+ a; h1 = h1 &+ b; h2 = h2 &+ c; h3 = h3 &+ d; h4 = h4 &+ e
            block += 64
        }
        store(h0, out); store(h1, out + 4); store(h2, out + 8); store(h3, out + 12); store(h4, out + 16)
    }

    @inline(__always)
    static func store(_ v: UInt32, _ p: UnsafeMutablePointer<UInt8>) {
        p[0] = UInt8(truncatingIfNeeded: v >> 24)
        p[1] = UInt8(truncatingIfNeeded: v >> 16)
        p[2] = UInt8(truncatingIfNeeded: v >> 8)
        p[3] = UInt8(truncatingIfNeeded: v)
    }

    /// The hash of a name, for building and tests (allocates).
    package static func hash(_ name: DNSName, salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = name.wire.map(asciiLower)
        var work = [UInt8](repeating: 0, count: workCapacity)
        var schedule = [UInt32](repeating: 0, count: scheduleCapacity)
        var out = [UInt8](repeating: 0, count: length)
        key.withUnsafeBytes { k in
            salt.withUnsafeBytes { s in
                hash(name: k, wildcard: false, salt: s, iterations: iterations, work: &work, schedule: &schedule, out: &out)
            }
        }
        return out
    }
}

/// A zone's NSEC3 chain (RFC 5155): the parameters of the apex's NSEC3PARAM and the
/// NSEC3 owners by hash. Built with the zone, read by queries (no lock, no allocation).
public struct NSEC3Index: Sendable {
    /// The salt and extra iterations every name is hashed with (RFC 5155 §5).
    @usableFromInline package let salt: ContiguousArray<UInt8>
    @usableFromInline package let iterations: Int
    /// The owner hashes, `NSEC3Hash.length` octets each, in ascending order.
    @usableFromInline package let hashes: ContiguousArray<UInt8>
    /// The owner of each hash.
    @usableFromInline package let nodes: ContiguousArray<NameIndex>

    package init(salt: ContiguousArray<UInt8> = [], iterations: Int = 0, hashes: ContiguousArray<UInt8> = [],
                 nodes: ContiguousArray<NameIndex> = []) {
        self.salt = salt
        self.iterations = iterations
        self.hashes = hashes
        self.nodes = nodes
    }

    /// The zone has an NSEC3 chain to prove denials with.
    @inlinable package var isEmpty: Bool { nodes.isEmpty }

    /// The owner of the NSEC3 whose hash equals `hash` (matches, RFC 5155 §7.2.1 "matching
    /// NSEC3"), or else of the one that covers it: the greatest hash below it, wrapping to
    /// the last at the start of the chain (RFC 5155 §3.1.7: the last NSEC3's next hash is
    /// the first's). The chain must not be empty.
    @inlinable
    package func find(_ hash: UnsafePointer<UInt8>) -> (node: NameIndex, matches: Bool) {
        let n = nodes.count
        let len = NSEC3Hash.length
        return hashes.withUnsafeBufferPointer { all in
            // Largest i with hashes[i] <= hash.
            var lo = 0, hi = n
            var matched = false
            while lo < hi {
                let mid = (lo + hi) >> 1
                let c = memCompare(all.baseAddress! + mid * len, hash, len)
                if c <= 0 {
                    if c == 0 { matched = true }
                    lo = mid + 1
                } else {
                    hi = mid
                }
            }
            return (nodes[lo == 0 ? n - 1 : lo - 1], matched)
        }
    }
}
