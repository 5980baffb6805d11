// The configuration: the YAML file, the command-line flags that override it, and the
// checks that turn either into a `Configuration` (each part the settings type of the
// module that uses it) or a `ConfigError` naming the key.
import BulwarkControl
import BulwarkDefences
import BulwarkOps
import BulwarkServer
import BulwarkSettings
import BulwarkWire
import Foundation
import Yams

/// The complete, checked configuration: the DNS server's settings and those of the
/// control plane's API and of operations, each the settings type of its module.
public struct Configuration: Sendable, Equatable {
    public var server = ServerSettings()
    /// The control plane's HTTP API (Config+API.swift).
    public var api = APISettings()
    /// Operations: the ops HTTP endpoint, counting, log limits (Config+Ops.swift).
    public var ops = OpsSettings()
    public var logLevel: String = "info"

    public init() {}
}

/// Values given on the command line; each one set replaces the file's.
public struct ConfigOverrides: Sendable {
    public var listen: [String] = []
    /// `NAME=PATH` entries; added to the file's zones (replacing one of the same name).
    public var zones: [String] = []
    public var zonesDir: String?
    public var dataDir: String?
    public var workers: Int?
    public var maxUDPSize: Int?
    public var udpReceiveBuffer: Int?
    public var udpQueues: Int?
    public var tcpIdleTimeout: Double?
    public var tcpMaxConnections: Int?
    public var logLevel: String?
    public var tcpMaxConnectionsPerClient: Int?
    public var tcpIOTimeout: Double?
    public var tcpMaxInflight: Int?
    /// `--rate-limit N`: responses per second (0 turns rate limiting off).
    public var rateLimit: Int?
    public var rateLimitSlip: Int?
    public var rateLimitWindow: Int?
    public var rateLimitBurst: Int?
    /// `--cookies on|off|require`.
    public var cookies: String?
    public var cookieSecret: String?
    /// `--allow`/`--deny PREFIX` (repeatable): replace the file's query access lists.
    public var allow: [String] = []
    public var deny: [String] = []
    /// `--deny-action refuse|drop`.
    public var denyAction: String?
    /// `--example`: the default listen address becomes 127.0.0.1:5353.
    public var example = false
    /// `--api-listen ADDR:PORT|off` (Config+API.swift).
    public var apiListen: String?
    // operations: --ops-listen, --query-log
    public var opsListen: String?
    public var queryLog: String?
    /// `--secondary NAME=PRIMARY[,PRIMARY...]` (repeatable; Config+Secondary.swift).
    public var secondaries: [String] = []
    public init() {}
}

extension Configuration {
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Reads the file (if any), applies the flags, checks everything.
    public static func load(configFile: String?, overrides: ConfigOverrides) throws(ConfigError) -> Configuration {
        var config = Configuration()
        var listen: [String]? = nil
        if let configFile {
            let text: String
            do {
                text = try String(contentsOfFile: configFile, encoding: .utf8)
            } catch {
                throw ConfigError(file: configFile, "cannot read the configuration file: \(error.localizedDescription)")
            }
            listen = try ConfigFileParser(path: configFile).parse(text, into: &config)
        }
        if !overrides.listen.isEmpty { listen = overrides.listen }
        let listenTexts = listen ?? (overrides.example ? ServerSettings.exampleListen : ServerSettings.defaultListen)
        config.server.listenIsDefault = listen == nil && !overrides.example
        config.server.listen = []
        for text in listenTexts {
            do {
                let address = try ListenAddress(parsing: text)
                if !config.server.listen.contains(address) { config.server.listen.append(address) }
            } catch {
                throw ConfigError(key: overrides.listen.isEmpty ? "listen" : "--listen", error.message)
            }
        }
        for flag in overrides.zones {
            let zone = try ZoneSource(flag: flag)
            if let i = config.server.zones.firstIndex(where: { $0.name == zone.name }) {
                config.server.zones[i] = zone
            } else {
                config.server.zones.append(zone)
            }
        }
        if let v = overrides.zonesDir { config.server.zonesDir = v }
        if let v = overrides.dataDir {
            guard !v.isEmpty else { throw ConfigError(key: "--data-dir", "must not be empty") }
            config.server.dataDir = v
        }
        if let v = overrides.workers {
            guard v >= 1 && v <= 1024 else { throw ConfigError(key: "--workers", "must be between 1 and 1024, got \(v)") }
            config.server.workers = v
        }
        if let v = overrides.maxUDPSize {
            guard (512...65535).contains(v) else { throw ConfigError(key: "--max-udp-size", "must be between 512 and 65535, got \(v)") }
            config.server.maxUDPSize = v
        }
        if let v = overrides.udpReceiveBuffer {
            guard (65536...(256 << 20)).contains(v) else {
                throw ConfigError(key: "--udp-receive-buffer", "must be between 65536 and 268435456 bytes, got \(v)")
            }
            config.server.udpReceiveBuffer = v
        }
        if let v = overrides.udpQueues {
            guard (1...64).contains(v) else { throw ConfigError(key: "--udp-queues", "must be between 1 and 64, got \(v)") }
            config.server.udpQueues = v
        }
        if let v = overrides.tcpIdleTimeout {
            guard v > 0 && v <= 86400 else { throw ConfigError(key: "--tcp-idle-timeout", "must be between 0 and 86400 seconds (exclusive of 0), got \(v)") }
            config.server.tcpIdleTimeout = v
        }
        if let v = overrides.tcpMaxConnections {
            guard v >= 1 else { throw ConfigError(key: "--tcp-max-connections", "must be at least 1, got \(v)") }
            config.server.tcpMaxConnections = v
        }
        try applyTCPLimits(overrides, to: &config)
        if let v = overrides.logLevel {
            guard logLevels.contains(v) else { throw ConfigError(key: "--log-level", "'\(v)' is not one of \(logLevels.joined(separator: ", "))") }
            config.logLevel = v
        }
        try applyDefenceFlags(overrides, to: &config.server.defences)
        try applySecondaryFlags(overrides, to: &config)
        try config.server.transfer.validate()
        try applyAPIFlags(overrides, to: &config)
        try applyOpsFlags(overrides, to: &config)
        // Queries are counted only for the ops endpoint.
        config.server.counting = config.ops.listen == nil ? nil : CountingSettings(sampleEvery: config.ops.sampleEvery)
        return config
    }

    static func applyDefenceFlags(_ o: ConfigOverrides, to d: inout DefenceSettings) throws(ConfigError) {
        if let v = o.rateLimit {
            guard (0...1_000_000).contains(v) else { throw ConfigError(key: "--rate-limit", "must be between 0 (off) and 1000000 responses per second, got \(v)") }
            if v == 0 {
                d.rateLimit = nil
            } else {
                var r = d.rateLimit ?? RateLimitSettings()
                r.responsesPerSecond = v
                d.rateLimit = r
            }
        }
        if let v = o.rateLimitSlip {
            guard (0...10).contains(v) else { throw ConfigError(key: "--rate-limit-slip", "must be between 0 and 10, got \(v)") }
            guard d.rateLimit != nil else { throw ConfigError(key: "--rate-limit-slip", "rate limiting is off: give --rate-limit N too") }
            d.rateLimit!.slip = v
        }
        if let v = o.rateLimitBurst {
            guard (1...10_000_000).contains(v) else { throw ConfigError(key: "--rate-limit-burst", "must be between 1 and 10000000 responses, got \(v)") }
            guard d.rateLimit != nil else { throw ConfigError(key: "--rate-limit-burst", "rate limiting is off: give --rate-limit N too") }
            d.rateLimit!.burst = v
        }
        if let v = o.rateLimitWindow {
            guard (1...3600).contains(v) else { throw ConfigError(key: "--rate-limit-window", "must be between 1 and 3600 seconds, got \(v)") }
            guard d.rateLimit != nil else { throw ConfigError(key: "--rate-limit-window", "rate limiting is off: give --rate-limit N too") }
            d.rateLimit!.window = v
        }
        if let v = o.cookies {
            switch v {
            case "on": d.cookies.enabled = true; d.cookies.require = false
            case "off": d.cookies.enabled = false; d.cookies.require = false
            case "require": d.cookies.enabled = true; d.cookies.require = true
            default: throw ConfigError(key: "--cookies", "'\(v)' is not one of on, off, require")
            }
        }
        if let v = o.cookieSecret {
            guard let secret = CookieSecret(hex: v) else { throw ConfigError(key: "--cookie-secret", "must be 32 hexadecimal digits (16 octets)") }
            d.cookies.secret = secret
        }
        if !o.allow.isEmpty || !o.deny.isEmpty {
            var allow: [AddressPrefix] = [], deny: [AddressPrefix] = []
            for t in o.allow {
                do { allow.append(try AddressPrefix(parsing: t)) } catch { throw ConfigError(key: "--allow", error.message) }
            }
            for t in o.deny {
                do { deny.append(try AddressPrefix(parsing: t)) } catch { throw ConfigError(key: "--deny", error.message) }
            }
            d.queryACL = AccessList(allow: allow, deny: deny)
        }
        if let v = o.denyAction {
            guard let a = DefenceSettings.DenyAction(rawValue: v) else { throw ConfigError(key: "--deny-action", "'\(v)' is not one of refuse, drop") }
            d.denyAction = a
        }
    }
}

/// Reads the YAML configuration file. Unknown keys are errors (a typo must not be
/// silently ignored); every error names the key and the line.
struct ConfigFileParser {
    let path: String
    var directory: String { (path as NSString).deletingLastPathComponent }

    static let knownKeys = ["listen", "workers", "max-udp-size", "udp-receive-buffer", "udp-queues", "tcp-idle-timeout", "tcp-max-connections",
                            "zones-dir", "data-dir", "zones", "log-level", "rate-limit", "cookies", "acl", "transfer-acl"]

    func error(_ node: Node?, _ key: String?, _ message: String) -> ConfigError {
        ConfigError(file: path, line: node?.mark?.line, key: key, message)
    }

    /// Relative paths in the file are relative to the file's directory.
    func resolve(_ p: String) -> String {
        if p.hasPrefix("/") { return p }
        let dir = directory
        return dir.isEmpty ? p : dir + "/" + p
    }

    /// Fills `config`; returns the listen list when the file has one.
    func parse(_ text: String, into config: inout Configuration) throws(ConfigError) -> [String]? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(file: path, "not valid YAML: \(error)")
        }
        guard let root else { return nil }  // an empty file is an empty configuration
        guard case .mapping(let mapping) = root else {
            throw self.error(root, nil, "the configuration must be a mapping of keys (listen, zones, ...)")
        }
        var listen: [String]? = nil
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw self.error(keyNode, nil, "keys must be strings") }
            if try parseTCPLimit(key, value, into: &config) { continue }
            if try parseTransfer(key, value, into: &config) { continue }
            if try parseAPI(key, value, into: &config) { continue }
            if try parseOps(key, value, into: &config) { continue }
            if try parseSecondary(key, value, into: &config) { continue }
            switch key {
            case "listen":
                listen = try strings(value, key)
                guard !(listen!.isEmpty) else { throw self.error(value, key, "must list at least one address") }
                for (i, a) in listen!.enumerated() {
                    do { _ = try ListenAddress(parsing: a) } catch {
                        throw self.error(value, "\(key)[\(i)]", error.message)
                    }
                }
            case "workers":
                config.server.workers = try integer(value, key, 1...1024)
            case "max-udp-size":
                config.server.maxUDPSize = try integer(value, key, 512...65535)
            case "udp-receive-buffer":
                config.server.udpReceiveBuffer = try integer(value, key, 65536...(256 << 20))
            case "udp-queues":
                config.server.udpQueues = try integer(value, key, 1...64)
            case "tcp-max-connections":
                config.server.tcpMaxConnections = try integer(value, key, 1...1_000_000)
            case "tcp-idle-timeout":
                config.server.tcpIdleTimeout = try seconds(value, key, max: 86400)
            case "zones-dir":
                config.server.zonesDir = resolve(try string(value, key))
            case "data-dir":
                let v = try string(value, key)
                guard !v.isEmpty else { throw self.error(value, key, "must not be empty") }
                config.server.dataDir = resolve(v)
            case "log-level":
                let v = try string(value, key)
                guard Configuration.logLevels.contains(v) else {
                    throw self.error(value, key, "'\(v)' is not one of \(Configuration.logLevels.joined(separator: ", "))")
                }
                config.logLevel = v
            case "zones":
                config.server.zones = try zones(value)
            case "rate-limit":
                config.server.defences.rateLimit = try rateLimit(value)
            case "cookies":
                config.server.defences.cookies = try cookies(value)
            case "acl":
                (config.server.defences.queryACL, config.server.defences.denyAction) = try accessList(value, key, actionAllowed: true)
            case "transfer-acl":
                config.server.defences.transferACL = try accessList(value, key, actionAllowed: false).0
            default:
                throw self.error(keyNode, key, "unknown key (known keys: \((Self.knownKeys + Self.tcpLimitKeys + Self.transferKeys + Self.secondaryKeys + ["api"] + Self.opsKeys).joined(separator: ", ")))")
            }
        }
        return listen
    }

    func show(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        default: return "an alias"
        }
    }

    func string(_ node: Node, _ key: String) throws(ConfigError) -> String {
        guard case .scalar(let s) = node, !s.string.isEmpty else {
            throw self.error(node, key, "must be a non-empty string, got \(show(node))")
        }
        return s.string
    }

    /// A duration in seconds (decimals allowed), above 0 and at most `max`.
    func seconds(_ node: Node, _ key: String, max: Double) throws(ConfigError) -> Double {
        guard case .scalar = node, let v = node.float, v > 0, v <= max else {
            throw self.error(node, key, "must be a number of seconds above 0 and at most \(Int(max)), got \(show(node))")
        }
        return v
    }

    func integer(_ node: Node, _ key: String, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard case .scalar(let s) = node, let v = Int(s.string) else {
            throw self.error(node, key, "must be an integer, got \(show(node))")
        }
        guard range.contains(v) else {
            throw self.error(node, key, "must be between \(range.lowerBound) and \(range.upperBound), got \(v)")
        }
        return v
    }

    /// A list of strings, or one string standing for a list of one.
    func strings(_ node: Node, _ key: String) throws(ConfigError) -> [String] {
        switch node {
        case .scalar(let s):
            return [s.string]
        case .sequence(let seq):
            var out: [String] = []
            for (i, item) in seq.enumerated() {
                out.append(try string(item, "\(key)[\(i)]"))
            }
            return out
        default:
            throw self.error(node, key, "must be a list of strings, got \(show(node))")
        }
    }

    /// `on`/`off` and their YAML spellings.
    func boolean(_ node: Node, _ key: String) throws(ConfigError) -> Bool {
        guard case .scalar(let s) = node else { throw self.error(node, key, "must be true or false, got \(show(node))") }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw self.error(node, key, "must be true or false, got '\(s.string)'")
        }
    }

    func prefixes(_ node: Node, _ key: String) throws(ConfigError) -> [AddressPrefix] {
        var out: [AddressPrefix] = []
        for (i, text) in try strings(node, key).enumerated() {
            do { out.append(try AddressPrefix(parsing: text)) } catch {
                throw self.error(node, "\(key)[\(i)]", error.message)
            }
        }
        return out
    }

    func mapping(_ node: Node, _ key: String, known: [String]) throws(ConfigError) -> [(String, Node)] {
        guard case .mapping(let m) = node else {
            throw self.error(node, key, "must be a mapping of \(known.joined(separator: ", ")), got \(show(node))")
        }
        var out: [(String, Node)] = []
        for (k, v) in m {
            guard let name = k.string, known.contains(name) else {
                throw self.error(k, "\(key).\(k.string ?? "?")", "unknown key (known keys: \(known.joined(separator: ", ")))")
            }
            out.append((name, v))
        }
        return out
    }

    /// `rate-limit: {responses-per-second, burst, window, slip, ipv4-prefix, ipv6-prefix,
    /// exempt, table-size}` (each optional), or `rate-limit: on|off`. Absent: off.
    func rateLimit(_ node: Node) throws(ConfigError) -> RateLimitSettings? {
        let key = "rate-limit"
        if case .scalar = node { return try boolean(node, key) ? RateLimitSettings() : nil }
        var r = RateLimitSettings()
        for (k, v) in try mapping(node, key, known: ["responses-per-second", "burst", "window", "slip", "ipv4-prefix",
                                                     "ipv6-prefix", "exempt", "table-size"]) {
            let full = "\(key).\(k)"
            switch k {
            case "responses-per-second":
                let n = try integer(v, full, 0...1_000_000)
                if n == 0 { return nil }  // 0: off, as in NSD and Knot
                r.responsesPerSecond = n
            case "burst": r.burst = try integer(v, full, 1...10_000_000)
            case "window": r.window = try integer(v, full, 1...3600)
            case "slip": r.slip = try integer(v, full, 0...10)
            case "ipv4-prefix": r.ipv4PrefixLength = try integer(v, full, 8...32)
            case "ipv6-prefix": r.ipv6PrefixLength = try integer(v, full, 16...128)
            case "exempt": r.exempt = try prefixes(v, full)
            default: r.tableSize = try integer(v, full, 1024...(1 << 24))
            }
        }
        return r
    }

    /// `cookies: {enabled, secret, rotate-seconds, require}`.
    func cookies(_ node: Node) throws(ConfigError) -> DefenceSettings.Cookies {
        let key = "cookies"
        var c = DefenceSettings.Cookies()
        if case .scalar = node {
            c.enabled = try boolean(node, key)
            return c
        }
        for (k, v) in try mapping(node, key, known: ["enabled", "secret", "rotate-seconds", "require"]) {
            let full = "\(key).\(k)"
            switch k {
            case "enabled": c.enabled = try boolean(v, full)
            case "secret":
                guard let s = CookieSecret(hex: try string(v, full)) else {
                    throw self.error(v, full, "must be 32 hexadecimal digits (16 octets, RFC 9018 §4.4)")
                }
                c.secret = s
            case "rotate-seconds": c.rotateSeconds = UInt32(try integer(v, full, 0...(365 * 86400)))
            default: c.require = try boolean(v, full)
            }
        }
        if c.require && !c.enabled { throw self.error(node, "\(key).require", "cookies are not enabled") }
        return c
    }

    /// `acl: {allow: [...], deny: [...], action: refuse|drop}`.
    func accessList(_ node: Node, _ key: String, actionAllowed: Bool) throws(ConfigError) -> (AccessList, DefenceSettings.DenyAction) {
        var allow: [AddressPrefix] = [], deny: [AddressPrefix] = []
        var action = DefenceSettings.DenyAction.refuse
        for (k, v) in try mapping(node, key, known: actionAllowed ? ["allow", "deny", "action"] : ["allow", "deny"]) {
            let full = "\(key).\(k)"
            switch k {
            case "allow": allow = try prefixes(v, full)
            case "deny": deny = try prefixes(v, full)
            default:
                let t = try string(v, full)
                guard let a = DefenceSettings.DenyAction(rawValue: t) else {
                    throw self.error(v, full, "'\(t)' is not one of refuse, drop")
                }
                action = a
            }
        }
        return (AccessList(allow: allow, deny: deny), action)
    }

    func zones(_ node: Node) throws(ConfigError) -> [ZoneSource] {
        guard case .sequence(let seq) = node else {
            throw self.error(node, "zones", "must be a list of {name, file} entries, got \(show(node))")
        }
        var out: [ZoneSource] = []
        for (i, item) in seq.enumerated() {
            let key = "zones[\(i)]"
            guard case .mapping(let m) = item else {
                throw self.error(item, key, "must be a mapping with 'name' and 'file', got \(show(item))")
            }
            var name: DNSName?
            var file: String?
            for (k, v) in m {
                switch k.string {
                case "name":
                    let text = try string(v, "\(key).name")
                    do { name = try ZoneSource.zoneName(text) } catch {
                        throw self.error(v, "\(key).name", "'\(text)' is not a valid zone name: \(error)")
                    }
                case "file":
                    file = resolve(try string(v, "\(key).file"))
                case .some(let k) where Self.zoneTransferKeys.contains(k):
                    continue  // read by parseTransfer (Config+Transfer.swift)
                default:
                    throw self.error(k, "\(key).\(k.string ?? "?")", "unknown key (known keys: name, file)")
                }
            }
            guard let name else { throw self.error(item, key, "missing 'name'") }
            guard let file else { throw self.error(item, key, "missing 'file'") }
            guard !out.contains(where: { $0.name == name }) else {
                throw self.error(item, "\(key).name", "zone \(name) is listed twice")
            }
            out.append(ZoneSource(name: name, path: file))
        }
        return out
    }
}

// MARK: TCP limits: keys, flags and checks kept in one block.

extension Configuration {
    static func applyTCPLimits(_ overrides: ConfigOverrides, to config: inout Configuration) throws(ConfigError) {
        if let v = overrides.tcpMaxConnectionsPerClient {
            guard v >= 1 else { throw ConfigError(key: "--tcp-max-connections-per-client", "must be at least 1, got \(v)") }
            config.server.tcpMaxConnectionsPerClient = v
        }
        if let v = overrides.tcpIOTimeout {
            guard v > 0 && v <= 3600 else { throw ConfigError(key: "--tcp-io-timeout", "must be a number of seconds above 0 and at most 3600, got \(v)") }
            config.server.tcpIOTimeout = v
        }
        if let v = overrides.tcpMaxInflight {
            guard (1...65535).contains(v) else { throw ConfigError(key: "--tcp-max-inflight", "must be between 1 and 65535, got \(v)") }
            config.server.tcpMaxInflight = v
        }
    }
}

extension ConfigFileParser {
    static let tcpLimitKeys = ["tcp-max-connections-per-client", "tcp-io-timeout", "tcp-max-inflight"]

    /// Handles a TCP-limit key; false when `key` is not one.
    func parseTCPLimit(_ key: String, _ value: Node, into config: inout Configuration) throws(ConfigError) -> Bool {
        switch key {
        case "tcp-max-connections-per-client":
            config.server.tcpMaxConnectionsPerClient = try integer(value, key, 1...1_000_000)
        case "tcp-io-timeout":
            config.server.tcpIOTimeout = try seconds(value, key, max: 3600)
        case "tcp-max-inflight":
            config.server.tcpMaxInflight = try integer(value, key, 1...65535)
        default:
            return false
        }
        return true
    }
}
