// DNS Cookies (RFC 7873) with the interoperable server cookie of RFC 9018.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BulwarkWire

/// A 16-octet server secret (RFC 9018 §4.4: the SipHash-2-4 key).
public struct CookieSecret: Sendable, Hashable {
    public var k0: UInt64
    public var k1: UInt64

    public init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    public init?(octets: [UInt8]) {
        guard octets.count == 16 else { return nil }
        (k0, k1) = octets.withUnsafeBytes { SipHash24.key($0) }
    }

    /// 32 hex digits.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var octets: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            guard let hi = Self.nibble(digits[i]), let lo = Self.nibble(digits[i + 1]) else { return nil }
            octets.append(hi << 4 | lo)
        }
        self.init(octets: octets)
    }

    static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// A secret from the system's random source.
    public static func random() -> CookieSecret {
        var g = SystemRandomNumberGenerator()
        return CookieSecret(k0: g.next(), k1: g.next())
    }

    /// The secret of rotation period `epoch` derived from this one: both halves are
    /// SipHash-2-4 of the epoch number under this key. Servers that share the configured
    /// secret (an anycast set, RFC 9018 §3) and a clock agree on every period's secret.
    public func derived(epoch: UInt64) -> CookieSecret {
        var input: (UInt64, UInt64) = (epoch.littleEndian, 0)
        let a = withUnsafeBytes(of: &input) { SipHash24.hash(k0: k0, k1: k1, $0) }
        input.1 = UInt64(1).littleEndian
        let b = withUnsafeBytes(of: &input) { SipHash24.hash(k0: k0, k1: k1, $0) }
        return CookieSecret(k0: a, k1: b)
    }
}

/// What a query's COOKIE option says about the client (RFC 7873 §5.2).
public enum CookieVerdict: Sendable, Equatable {
    /// A client cookie only (§5.2.3): answered normally, with a new server cookie.
    case clientOnly
    /// A server cookie we made for this client and client cookie, recently (§5.2.4).
    case valid
    /// A server cookie we did not make, made for another client, or too old or too far
    /// in the future (RFC 9018 §4.3): answered as if there were only a client cookie.
    case invalid
}

/// The server cookies of one worker: the configured secret, the current and previous
/// rotation period's secrets (recomputed when the period changes, without any lock or
/// sharing: each worker derives them from the configured secret and the clock).
public struct ServerCookies: Sendable {
    /// RFC 9018 §4.3: a cookie is accepted up to an hour after its timestamp and up to five
    /// minutes before it (clock skew between servers sharing a secret).
    public static let maxAge: Int32 = 3600
    public static let maxFuture: Int32 = 300
    /// The server cookie we write: version, reserved, timestamp, hash (RFC 9018 §4.2).
    public static let serverCookieLength = 16
    /// The COOKIE option we write: code, length, client cookie, server cookie.
    public static let optionLength = 4 + 8 + serverCookieLength

    public let secret: CookieSecret
    /// Seconds per secret; 0 keeps `secret` itself for ever.
    public let rotateSeconds: UInt32
    private var epoch: UInt64 = .max
    public private(set) var current: CookieSecret
    public private(set) var previous: CookieSecret?

    public init(secret: CookieSecret, rotateSeconds: UInt32) {
        self.secret = secret
        self.rotateSeconds = rotateSeconds
        current = secret
        previous = nil
    }

    /// Brings the current and previous secrets up to the period of `now` (UNIX seconds).
    @inline(__always)
    public mutating func advance(to now: UInt32) {
        guard rotateSeconds > 0 else { return }
        let e = UInt64(now / rotateSeconds)
        if e == epoch { return }
        current = secret.derived(epoch: e)
        previous = e > 0 ? secret.derived(epoch: e - 1) : nil
        epoch = e
    }

    /// The hash of RFC 9018 §4.4: SipHash-2-4 over client cookie | version | reserved |
    /// timestamp | client IP, the first three being the 16 octets at `head`
    /// (client cookie, then the server cookie's first 8 octets).
    @inline(__always)
    static func hash(head: UnsafeRawPointer, client: ClientAddress, secret: CookieSecret) -> UInt64 {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { buffer in
            let p = buffer.baseAddress!
            p.copyMemory(from: head, byteCount: 16)
            let n = client.write(to: p + 16)
            return SipHash24.hash(k0: secret.k0, k1: secret.k1, UnsafeRawBufferPointer(start: p, count: 16 + n))
        }
    }

    /// Writes a fresh server cookie (16 octets) for the 8-octet client cookie at
    /// `clientCookie` into `out`: version 1, reserved 0, timestamp `now`, hash.
    @inline(__always)
    public func write(clientCookie: UnsafeRawPointer, client: ClientAddress, now: UInt32,
                      into out: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8) { head in
            let h = head.baseAddress!
            h.copyMemory(from: clientCookie, byteCount: 8)
            h.storeBytes(of: UInt32(0x0100_0000).bigEndian, toByteOffset: 8, as: UInt32.self)  // version 1, reserved 0
            h.storeBytes(of: now.bigEndian, toByteOffset: 12, as: UInt32.self)
            out.copyMemory(from: h + 8, byteCount: 8)
            let mac = Self.hash(head: UnsafeRawPointer(h), client: client, secret: current)
            out.storeBytes(of: mac.littleEndian, toByteOffset: 8, as: UInt64.self)
        }
    }

    /// Judges the COOKIE option data at `cookie` (`length` octets, already checked to be
    /// 8 or 16 to 40 by the parser, RFC 7873 §5.2.2).
    @inline(__always)
    public func check(cookie: UnsafeRawPointer, length: Int, client: ClientAddress, now: UInt32) -> CookieVerdict {
        if length == 8 { return .clientOnly }
        // Ours are RFC 9018 version 1 cookies of 16 octets; anything else is not ours.
        guard length == 8 + Self.serverCookieLength, cookie.load(fromByteOffset: 8, as: UInt8.self) == 1 else {
            return .invalid
        }
        var timestamp: UInt32 = 0
        for i in 12..<16 { timestamp = timestamp << 8 | UInt32(cookie.load(fromByteOffset: i, as: UInt8.self)) }
        // RFC 9018 §4.3, in serial number arithmetic (RFC 1982) so the 2106 wrap is harmless.
        let age = Int32(bitPattern: now &- timestamp)
        guard age <= Self.maxAge && age >= -Self.maxFuture else { return .invalid }
        var presented: UInt64 = 0
        for i in 0..<8 { presented |= UInt64(cookie.load(fromByteOffset: 16 + i, as: UInt8.self)) << UInt64(8 * i) }
        // The reserved octets are hashed as sent (RFC 9018 §4.2).
        if Self.hash(head: cookie, client: client, secret: current) == presented { return .valid }
        if let previous, Self.hash(head: cookie, client: client, secret: previous) == presented { return .valid }
        return .invalid
    }
}
