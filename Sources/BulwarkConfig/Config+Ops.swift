// The `ops:` section: the ops HTTP endpoint, counting and sampling,
// log rate limiting and the sampled query log.
//
//   ops:
//     listen: 127.0.0.1:9153     # the ops HTTP endpoint (/metrics, /insight, /status, /dashboard); off: none
//     sample-every: 16           # 1 in N queries sampled for the insight view and the query log
//     log-rate: 50               # log lines per second (bursts of 4x); 0: unlimited
//     query-log:                 # optional: sampled queries, one line each
//       file: queries.log
//       lines-per-second: 100
//       max-size: 67108864       # octets; then rotated to FILE.1 (so at most twice this on disk)
//
// Flags: --ops-listen ADDR|off, --query-log FILE.
import BulwarkOps
import BulwarkSettings
import Yams

extension ConfigFileParser {
    static let opsKeys = ["ops"]

    /// Handles the `ops` key; false when `key` is another.
    func parseOps(_ key: String, _ value: Node, into config: inout Configuration) throws(ConfigError) -> Bool {
        guard key == "ops" else { return false }
        var o = OpsSettings()
        for (k, v) in try mapping(value, key, known: ["listen", "sample-every", "log-rate", "query-log"]) {
            let full = "ops.\(k)"
            switch k {
            case "listen":
                let text = try string(v, full)
                do { o.listen = try Self.opsListen(text) } catch { throw self.error(v, full, error.message) }
            case "sample-every": o.sampleEvery = try integer(v, full, 1...65536)
            case "log-rate": o.logRate = try integer(v, full, 0...1_000_000)
            default:
                if case .scalar = v {
                    o.queryLog = resolve(try string(v, full))
                    continue
                }
                for (qk, qv) in try mapping(v, full, known: ["file", "lines-per-second", "max-size"]) {
                    let qfull = "\(full).\(qk)"
                    switch qk {
                    case "file": o.queryLog = resolve(try string(qv, qfull))
                    case "lines-per-second": o.queryLogLinesPerSecond = try integer(qv, qfull, 1...1_000_000)
                    default: o.queryLogMaxSize = try integer(qv, qfull, 4096...(1 << 40))
                    }
                }
                if o.queryLog == nil { throw self.error(v, full, "needs a file") }
            }
        }
        config.ops = o
        return true
    }

    /// `ADDR:PORT`, `[ADDR]:PORT` (the port defaults to 9153) or `off`.
    static func opsListen(_ text: String) throws(ConfigError) -> ListenAddress? {
        if ["off", "none", "false", "no"].contains(text.lowercased()) { return nil }
        do {
            return try ListenAddress(parsing: text, defaultPort: 9153)
        } catch {
            throw ConfigError(error.message + " (or off)")
        }
    }
}

extension Configuration {
    /// Applies --ops-listen and --query-log.
    static func applyOpsFlags(_ o: ConfigOverrides, to config: inout Configuration) throws(ConfigError) {
        if let v = o.opsListen {
            do { config.ops.listen = try ConfigFileParser.opsListen(v) } catch {
                throw ConfigError(key: "--ops-listen", error.message)
            }
        }
        if let v = o.queryLog {
            guard !v.isEmpty else { throw ConfigError(key: "--query-log", "must not be empty") }
            config.ops.queryLog = v
        }
    }
}
