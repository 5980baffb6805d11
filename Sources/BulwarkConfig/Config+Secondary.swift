// Secondary zones in the configuration: the `secondary-zones:` list and the
// `--secondary NAME=PRIMARY[,PRIMARY...]` flag. Kept in its own file, hooked into the
// parser with one line, so the other features' keys merge without conflicts.
import BulwarkDefences
import BulwarkServer
import BulwarkSettings
import BulwarkWire
import Yams

extension Configuration {
    /// `--secondary NAME=ADDR[,ADDR...]`: adds (or replaces) a secondary zone.
    static func applySecondaryFlags(_ o: ConfigOverrides, to config: inout Configuration) throws(ConfigError) {
        for flag in o.secondaries {
            guard let eq = flag.firstIndex(of: "="), eq != flag.startIndex else {
                throw ConfigError(key: "--secondary", "'\(flag)': expected NAME=PRIMARY[,PRIMARY...], e.g. example.com=192.0.2.1:53")
            }
            let nameText = String(flag[..<eq])
            let name: DNSName
            do { name = try ZoneSource.zoneName(nameText) } catch {
                throw ConfigError(key: "--secondary", "'\(nameText)' is not a valid zone name: \(error)")
            }
            var primaries: [SecondaryPrimary] = []
            for text in flag[flag.index(after: eq)...].split(separator: ",") {
                do {
                    primaries.append(SecondaryPrimary(address: try ListenAddress(parsing: String(text))))
                } catch {
                    throw ConfigError(key: "--secondary", "'\(flag)': \(error.message)")
                }
            }
            guard !primaries.isEmpty else { throw ConfigError(key: "--secondary", "'\(flag)': no primary given") }
            var zone = SecondaryZoneConfig(name: name, primaries: primaries)
            if let existing = config.server.secondaryZones.firstIndex(where: { $0.name == name }) {
                zone.maxTransferSize = config.server.secondaryZones[existing].maxTransferSize
                zone.serveExpired = config.server.secondaryZones[existing].serveExpired
                config.server.secondaryZones[existing] = zone
            } else {
                config.server.secondaryZones.append(zone)
            }
        }
        for z in config.server.secondaryZones where config.server.zones.contains(where: { $0.name == z.name }) {
            throw ConfigError(key: "secondary-zones", "zone \(z.name) is both a secondary zone and a zone file")
        }
        // Every key a primary names must be defined under `keys:` (Config+Transfer.swift).
        let keyring = config.server.transfer.keyring
        for z in config.server.secondaryZones {
            for p in z.primaries {
                if let k = p.keyName, SecondaryPrimary.keyDNSName(k).flatMap({ keyring.key(named: $0) }) == nil {
                    throw ConfigError(key: "secondary-zones[\(z.name)].primaries", "key '\(k)' is not defined under 'keys'")
                }
            }
        }
    }
}

extension ConfigFileParser {
    static let secondaryKeys = ["secondary-zones"]
    static let secondaryZoneKeys = ["name", "primaries", "max-transfer-size", "serve-expired", "transfer-timeout", "allow-notify"]

    /// Handles `secondary-zones:`; false when `key` is another key.
    func parseSecondary(_ key: String, _ value: Node, into config: inout Configuration) throws(ConfigError) -> Bool {
        guard key == "secondary-zones" else { return false }
        guard case .sequence(let seq) = value else {
            throw self.error(value, key, "must be a list of {name, primaries} entries, got \(show(value))")
        }
        var out: [SecondaryZoneConfig] = []
        for (i, item) in seq.enumerated() {
            let path = "\(key)[\(i)]"
            var name: DNSName?
            var primaries: [SecondaryPrimary]?
            var maxSize: Int?
            var serveExpired: Bool?
            var timeout: Double?
            var allowNotify: [AddressPrefix] = []
            for (k, v) in try mapping(item, path, known: Self.secondaryZoneKeys) {
                let full = "\(path).\(k)"
                switch k {
                case "name":
                    let text = try string(v, full)
                    do { name = try ZoneSource.zoneName(text) } catch {
                        throw self.error(v, full, "'\(text)' is not a valid zone name: \(error)")
                    }
                case "primaries": primaries = try secondaryPrimaries(v, full)
                case "max-transfer-size": maxSize = try integer(v, full, 1024...(1 << 40))
                case "serve-expired": serveExpired = try boolean(v, full)
                case "transfer-timeout": timeout = try seconds(v, full, max: 86400)
                default: allowNotify = try prefixes(v, full)
                }
            }
            guard let name else { throw self.error(item, path, "missing 'name'") }
            guard let primaries, !primaries.isEmpty else { throw self.error(item, "\(path).primaries", "missing: list at least one primary address") }
            guard !out.contains(where: { $0.name == name }) else { throw self.error(item, "\(path).name", "zone \(name) is listed twice") }
            var z = SecondaryZoneConfig(name: name, primaries: primaries)
            if let maxSize { z.maxTransferSize = maxSize }
            if let serveExpired { z.serveExpired = serveExpired }
            if let timeout { z.transferTimeout = timeout }
            z.allowNotify = allowNotify
            out.append(z)
        }
        config.server.secondaryZones = out
        return true
    }

    /// `["192.0.2.1", "[2001:db8::1]:5300", {address: 192.0.2.2:53, key: k1}]`.
    private func secondaryPrimaries(_ node: Node, _ key: String) throws(ConfigError) -> [SecondaryPrimary] {
        let items: [Node]
        switch node {
        case .sequence(let seq): items = Array(seq)
        default: items = [node]
        }
        var out: [SecondaryPrimary] = []
        for (i, item) in items.enumerated() {
            let path = "\(key)[\(i)]"
            var addressText: String
            var keyName: String?
            var addressNode = item
            if case .mapping = item {
                var a: String?
                for (k, v) in try mapping(item, path, known: ["address", "key"]) {
                    if k == "address" { a = try string(v, "\(path).address"); addressNode = v } else { keyName = try string(v, "\(path).key") }
                }
                guard let a else { throw self.error(item, path, "missing 'address'") }
                addressText = a
            } else {
                addressText = try string(item, path)
            }
            do {
                out.append(SecondaryPrimary(address: try ListenAddress(parsing: addressText), keyName: keyName))
            } catch {
                throw self.error(addressNode, path, error.message)
            }
        }
        return out
    }
}
