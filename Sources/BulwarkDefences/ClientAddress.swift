// Client addresses and address prefixes as plain integers: built from a socket address
// without allocating, compared and masked in a few instructions.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The address a query came from: 128 bits and a family. An IPv4 address sits in the top
/// 32 bits of `high` (so prefix masks work the same for both families); an IPv4-mapped
/// IPv6 address (`::ffff:a.b.c.d`, a dual-stack socket) is taken as the IPv4 address.
public struct ClientAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: UInt8, Sendable { case unknown = 0, v4 = 4, v6 = 6 }
    public var family: Family
    /// The first 64 bits of the address, most significant bit first.
    public var high: UInt64
    /// The last 64 bits (always 0 for IPv4).
    public var low: UInt64

    /// No address (a test, or a transport that does not know): never matches a prefix.
    public static let unknown = ClientAddress(family: .unknown, high: 0, low: 0)

    public init(family: Family, high: UInt64, low: UInt64) {
        self.family = family
        self.high = high
        self.low = low
    }

    /// An IPv4 address as a number (`192.0.2.1` is 0xC0000201).
    public init(ipv4: UInt32) {
        self.init(family: .v4, high: UInt64(ipv4) << 32, low: 0)
    }

    /// An IPv6 address from its 16 octets in network order.
    public init(ipv6 octets: UnsafeRawPointer) {
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(octets.load(fromByteOffset: i, as: UInt8.self)) }
        for i in 8..<16 { l = l << 8 | UInt64(octets.load(fromByteOffset: i, as: UInt8.self)) }
        if h == 0 && l >> 32 == 0xFFFF {
            self.init(ipv4: UInt32(truncatingIfNeeded: l))  // ::ffff:a.b.c.d
        } else {
            self.init(family: .v6, high: h, low: l)
        }
    }

    /// An IPv4 address from its 4 octets in network order.
    public init(ipv4 octets: UnsafeRawPointer) {
        var a: UInt32 = 0
        for i in 0..<4 { a = a << 8 | UInt32(octets.load(fromByteOffset: i, as: UInt8.self)) }
        self.init(ipv4: a)
    }

    /// From the text form (`192.0.2.1`, `2001:db8::1`).
    public init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = withUnsafeBytes(of: &v4) { ClientAddress(ipv4: $0.baseAddress!) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            self = withUnsafeBytes(of: &v6) { ClientAddress(ipv6: $0.baseAddress!) }
        } else {
            return nil
        }
    }

    /// Bits in the address: 32 or 128 (0 when unknown).
    public var bitCount: Int {
        switch family {
        case .v4: return 32
        case .v6: return 128
        case .unknown: return 0
        }
    }

    /// The address with everything after the first `bits` bits cleared.
    @inline(__always)
    public func masked(_ bits: Int) -> ClientAddress {
        let (mh, ml) = Self.mask(bits)
        return ClientAddress(family: family, high: high & mh, low: low & ml)
    }

    /// The 128-bit mask of a prefix length, as two halves.
    @inline(__always)
    static func mask(_ bits: Int) -> (UInt64, UInt64) {
        if bits <= 0 { return (0, 0) }
        if bits < 64 { return (~0 << UInt64(64 - bits), 0) }
        if bits == 64 { return (~0, 0) }
        if bits < 128 { return (~0, ~0 << UInt64(128 - bits)) }
        return (~0, ~0)
    }

    /// Writes the address octets in network order (4 or 16); returns how many.
    @inline(__always)
    public func write(to out: UnsafeMutableRawPointer) -> Int {
        switch family {
        case .v4:
            let a = UInt32(truncatingIfNeeded: high >> 32)
            for i in 0..<4 { out.storeBytes(of: UInt8(truncatingIfNeeded: a >> UInt32(24 - 8 * i)), toByteOffset: i, as: UInt8.self) }
            return 4
        case .v6:
            for i in 0..<8 {
                out.storeBytes(of: UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i)), toByteOffset: i, as: UInt8.self)
                out.storeBytes(of: UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * i)), toByteOffset: 8 + i, as: UInt8.self)
            }
            return 16
        case .unknown:
            return 0
        }
    }

    /// The text form (for logs; allocates).
    public var description: String {
        var octets = [UInt8](repeating: 0, count: 16)
        let n = octets.withUnsafeMutableBytes { write(to: $0.baseAddress!) }
        guard n > 0 else { return "unknown" }
        var text = [CChar](repeating: 0, count: 64)
        let af = n == 4 ? AF_INET : AF_INET6
        _ = octets.withUnsafeBytes { o in inet_ntop(af, o.baseAddress!, &text, 64) }
        return String(cString: text)
    }
}

/// An address prefix: `192.0.2.0/24`, `2001:db8::/32`, or one address (`/32`, `/128`).
public struct AddressPrefix: Sendable, Hashable, CustomStringConvertible {
    /// The network address (bits past `length` are zero).
    public var address: ClientAddress
    public var length: Int

    public init(address: ClientAddress, length: Int) {
        self.address = address.masked(length)
        self.length = length
    }

    /// Parses `ADDRESS/LENGTH` or `ADDRESS`. Host bits set past the length are an error
    /// (`192.0.2.1/24` is most likely a typo for a /32 or for 192.0.2.0/24).
    public init(parsing text: String) throws(PrefixError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = ClientAddress(String(parts[0])) else {
            throw PrefixError("'\(text)': '\(parts[0])' is not a numeric IPv4 or IPv6 address")
        }
        var length = address.bitCount
        if parts.count == 2 {
            guard let l = Int(parts[1]), l >= 0, l <= address.bitCount else {
                throw PrefixError("'\(text)': the prefix length must be a number from 0 to \(address.bitCount)")
            }
            length = l
        }
        let masked = address.masked(length)
        guard masked == address else {
            throw PrefixError("'\(text)': address bits are set past the prefix length (did you mean \(masked)/\(length)?)")
        }
        self.init(address: address, length: length)
    }

    @inline(__always)
    public func contains(_ client: ClientAddress) -> Bool {
        client.family == address.family && client.masked(length) == address
    }

    public var description: String { "\(address)/\(length)" }
}

public struct PrefixError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
