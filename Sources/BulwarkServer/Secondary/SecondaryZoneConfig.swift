// Secondary zones in the configuration: the `secondary-zones:` list and the
// `--secondary NAME=PRIMARY[,PRIMARY...]` flag. Kept in its own file, hooked into the
// parser with one line, so the other features' keys merge without conflicts.
import BulwarkDefences
import BulwarkSettings
import BulwarkWire

/// One primary a secondary zone transfers from.
public struct SecondaryPrimary: Sendable, Equatable, CustomStringConvertible {
    /// The numeric address (no brackets) and port (default 53).
    public var address: ListenAddress
    /// The name of a TSIG key (top-level `keys:`) signing transfers and NOTIFYs, or nil.
    public var keyName: String?

    public init(address: ListenAddress, keyName: String? = nil) {
        self.address = address
        self.keyName = keyName
    }

    public var description: String { address.description + (keyName.map { " key \($0)" } ?? "") }

    /// A key name as configured (absolute or not) as the name keys are stored under.
    public static func keyDNSName(_ name: String) -> DNSName? {
        (try? DNSName(name.hasSuffix(".") ? name : name + "."))?.lowercased()
    }
}

/// A zone this server holds as a secondary (RFC 1034 §4.3.5, RFC 1995, RFC 1996).
public struct SecondaryZoneConfig: Sendable, Equatable {
    public var name: DNSName
    /// Tried in order at each refresh until one answers.
    public var primaries: [SecondaryPrimary]
    /// Octets one transfer may take; a larger one is abandoned (the old zone stays).
    public var maxTransferSize: Int = SecondaryZoneConfig.defaultMaxTransferSize
    /// Keep answering after the SOA expire time instead of SERVFAIL (off by default).
    public var serveExpired = false
    /// Seconds one SOA check plus transfer may take in all.
    public var transferTimeout: Double = 600
    /// Others than the primaries that may send NOTIFY (BIND's allow-notify).
    public var allowNotify: [AddressPrefix] = []

    public static let defaultMaxTransferSize = 100 << 20

    public init(name: DNSName, primaries: [SecondaryPrimary]) {
        self.name = name
        self.primaries = primaries
    }
}
