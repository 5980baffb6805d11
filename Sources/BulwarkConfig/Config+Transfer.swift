// Configuration of the primary side of replication: TSIG keys (top-level `keys:`), the
// journal's size (`journal-size:`), and per zone under `zones:` entries, `notify:` (the
// secondaries told of changes, RFC 1996) and `allow-transfer:` (who may AXFR/IXFR).
//
//   keys:
//     - name: transfer-key
//       algorithm: hmac-sha256          # hmac-md5, hmac-sha1, hmac-sha256/384/512
//       secret: base64...
//   journal-size: 4194304               # bytes per zone journal (default 4 MiB)
//   zones:
//     - name: example.com
//       file: example.com.zone
//       notify:
//         - address: 192.0.2.2          # port 53 unless given (192.0.2.2:5353, [2001:db8::2]:53)
//           key: transfer-key           # optional: NOTIFY signed with this key
//       allow-transfer:
//         - address: 192.0.2.0/24       # optional prefix (omitted: any address)
//           key: transfer-key           # optional: the request must be signed with this key
//   notify: [...]                       # top level: the same, for every zone without its own
//   allow-transfer: [...]               # (zones made through the API, secondaries served on)
import BulwarkDefences
import BulwarkServer
import BulwarkSettings
import BulwarkTransfer
import BulwarkWire
import Yams

extension ConfigFileParser {
    static let transferKeys = ["keys", "journal-size", "notify", "allow-transfer"]
    /// Keys of a `zones:` entry read here rather than by `zones(_:)`.
    static let zoneTransferKeys = ["notify", "allow-transfer"]

    /// Handles the replication keys; false when `key` is not one. For `zones` it reads the
    /// entries' `notify` and `allow-transfer` and returns false so the zones are read too.
    func parseTransfer(_ key: String, _ value: Node, into config: inout Configuration) throws(ConfigError) -> Bool {
        switch key {
        case "keys":
            config.server.transfer.keys = try tsigKeys(value)
        case "journal-size":
            config.server.transfer.journalSize = try integer(value, key, 4096...(1 << 40))
        case "notify":
            config.server.transfer.defaults.notify = try notifyTargets(value, key)
        case "allow-transfer":
            config.server.transfer.defaults.allowTransfer = try transferRules(value, key)
        case "zones":
            try zoneTransferSettings(value, into: &config.server.transfer)
            return false
        default:
            return false
        }
        return true
    }

    func tsigKeys(_ node: Node) throws(ConfigError) -> [TSIGKey] {
        guard case .sequence(let seq) = node else {
            throw self.error(node, "keys", "must be a list of {name, algorithm, secret} entries, got \(show(node))")
        }
        var out: [TSIGKey] = []
        for (i, item) in seq.enumerated() {
            let key = "keys[\(i)]"
            var name: String?, algorithm: String?, secret: String?
            for (k, v) in try mapping(item, key, known: ["name", "algorithm", "secret"]) {
                switch k {
                case "name": name = try string(v, "\(key).name")
                case "algorithm": algorithm = try string(v, "\(key).algorithm")
                case "secret": secret = try string(v, "\(key).secret")
                default: throw self.error(v, "\(key).\(k)", "unknown key (known keys: name, algorithm, secret)")
                }
            }
            guard let name else { throw self.error(item, key, "missing 'name'") }
            guard let secret else { throw self.error(item, key, "missing 'secret'") }
            do {
                let k = try TSIGKey(name: name, algorithm: algorithm ?? "hmac-sha256", secret: secret)
                guard !out.contains(where: { $0.name == k.name }) else {
                    throw TSIGKeyError(description: "key '\(name)' is defined twice")
                }
                out.append(k)
            } catch {
                throw self.error(item, key, "\(error)")
            }
        }
        return out
    }

    func zoneTransferSettings(_ node: Node, into transfer: inout TransferSettings) throws(ConfigError) {
        guard case .sequence(let seq) = node else { return }  // zones(_:) reports it
        for (i, item) in seq.enumerated() {
            guard case .mapping(let m) = item else { continue }
            let key = "zones[\(i)]"
            var name: DNSName?
            var settings = ZoneTransferSettings()
            var any = false
            for (k, v) in m {
                switch k.string {
                case "name":
                    name = try? ZoneSource.zoneName(v.string ?? "")
                case "notify":
                    settings.notify = try notifyTargets(v, "\(key).notify")
                    any = true
                case "allow-transfer":
                    settings.allowTransfer = try transferRules(v, "\(key).allow-transfer")
                    any = true
                default:
                    break
                }
            }
            if any, let name { transfer.zones[name] = settings }
        }
    }

    /// One `{address, key}` entry of `notify` or `allow-transfer` (a bare string is an
    /// address): the address text and its node, and the key name.
    struct AddressKeyEntry {
        var address: (text: String, node: Node)?
        var key: DNSName?
        var node: Node
        var path: String
    }

    func addressKeyEntries(_ node: Node, _ key: String) throws(ConfigError) -> [AddressKeyEntry] {
        guard case .sequence(let seq) = node else {
            throw self.error(node, key, "must be a list of {address, key} entries, got \(show(node))")
        }
        var out: [AddressKeyEntry] = []
        for (i, item) in seq.enumerated() {
            var entry = AddressKeyEntry(node: item, path: "\(key)[\(i)]")
            let fields: [(String, Node)]
            if case .scalar = item { fields = [("address", item)] } else { fields = try mapping(item, entry.path, known: ["address", "key"]) }
            for (field, v) in fields {
                if field == "address" {
                    entry.address = (try string(v, "\(entry.path).address"), v)
                } else {
                    entry.key = try keyName(v, "\(entry.path).key")
                }
            }
            out.append(entry)
        }
        return out
    }

    func notifyTargets(_ node: Node, _ key: String) throws(ConfigError) -> [NotifyTarget] {
        var out: [NotifyTarget] = []
        for e in try addressKeyEntries(node, key) {
            guard let (text, v) = e.address else { throw self.error(e.node, e.path, "missing 'address'") }
            let address: ListenAddress
            do { address = try ListenAddress(parsing: text) } catch {
                throw self.error(v, "\(e.path).address", error.message)
            }
            guard address.port != 0 else { throw self.error(v, "\(e.path).address", "port 0 cannot be notified") }
            out.append(NotifyTarget(address: address, key: e.key))
        }
        return out
    }

    func transferRules(_ node: Node, _ key: String) throws(ConfigError) -> [TransferRule] {
        var out: [TransferRule] = []
        for e in try addressKeyEntries(node, key) {
            var rule = TransferRule(key: e.key)
            if let (text, v) = e.address {
                do { rule.prefix = try AddressPrefix(parsing: text) } catch {
                    throw self.error(v, "\(e.path).address", error.message)
                }
            }
            out.append(rule)
        }
        return out
    }

    func keyName(_ node: Node, _ key: String) throws(ConfigError) -> DNSName {
        let text = try string(node, key)
        do {
            return try DNSName(text.hasSuffix(".") ? text : text + ".").lowercased()
        } catch {
            throw self.error(node, key, "'\(text)' is not a valid key name: \(error)")
        }
    }
}
