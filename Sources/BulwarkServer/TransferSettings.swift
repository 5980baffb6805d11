// Settings of the primary side of replication: TSIG keys, NOTIFY targets, allow-transfer
// and the journal's size (read by BulwarkConfig: see Config+Transfer.swift there).
import BulwarkDefences
import BulwarkSettings
import BulwarkTransfer
import BulwarkWire

/// Where NOTIFY messages for a zone go.
public struct NotifyTarget: Sendable, Equatable, CustomStringConvertible {
    public var address: ListenAddress
    /// The key NOTIFY is signed with, if any.
    public var key: DNSName?
    public var description: String { key.map { "\(address) (key \($0))" } ?? address.description }

    public init(address: ListenAddress, key: DNSName? = nil) {
        self.address = address
        self.key = key
    }
}

/// One `allow-transfer` entry: matches a request from within `prefix` (any address when
/// nil) signed with `key` (any or none when nil).
public struct TransferRule: Sendable, Equatable {
    public var prefix: AddressPrefix?
    public var key: DNSName?

    public init(prefix: AddressPrefix? = nil, key: DNSName? = nil) {
        self.prefix = prefix
        self.key = key
    }

    public func matches(client: ClientAddress, key signedWith: TSIGKey?) -> Bool {
        if let prefix, !prefix.contains(client) { return false }
        if let key, signedWith?.name != key { return false }
        return true
    }
}

/// Replication settings of one zone.
public struct ZoneTransferSettings: Sendable, Equatable {
    public var notify: [NotifyTarget] = []
    /// nil: not configured for this zone (the global `transfer-acl` decides alone).
    public var allowTransfer: [TransferRule]?
    public init() {}
}

/// The primary side's settings.
public struct TransferSettings: Sendable, Equatable {
    public var keys: [TSIGKey] = []
    public var zones: [DNSName: ZoneTransferSettings] = [:]
    /// The top-level `notify:` and `allow-transfer:`: what a zone without its own gets
    /// (every zone made through the API, and secondary zones served on).
    public var defaults = ZoneTransferSettings()
    /// Upper bound of one zone's journal on disk; the oldest changes are dropped beyond it.
    public var journalSize: Int = 4 << 20
    public init() {}

    public var keyring: TSIGKeyring { TSIGKeyring(keys) }

    /// A zone's own `notify` and `allow-transfer`, each falling back to the top-level one.
    public func settings(for zone: DNSName) -> ZoneTransferSettings {
        var s = zones[zone] ?? ZoneTransferSettings()
        if s.notify.isEmpty { s.notify = defaults.notify }
        if s.allowTransfer == nil { s.allowTransfer = defaults.allowTransfer }
        return s
    }

    /// Every key a zone names must be defined under `keys:`.
    public func validate() throws(ConfigError) {
        let known = Set(keys.map(\.name))
        let all = [("", defaults)] + zones.sorted(by: { $0.key < $1.key }).map { ("zones[\($0.key)].", $0.value) }
        for (prefix, s) in all {
            for target in s.notify {
                if let k = target.key, !known.contains(k) {
                    throw ConfigError(key: "\(prefix)notify", "key '\(k)' is not defined under 'keys'")
                }
            }
            for rule in s.allowTransfer ?? [] {
                if let k = rule.key, !known.contains(k) {
                    throw ConfigError(key: "\(prefix)allow-transfer", "key '\(k)' is not defined under 'keys'")
                }
            }
        }
    }
}
