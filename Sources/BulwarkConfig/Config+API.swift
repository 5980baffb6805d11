// The `api:` section and --api-listen.
import BulwarkControl
import BulwarkSettings
import Yams

extension Configuration {
    /// `--api-listen ADDR:PORT|off`.
    static func applyAPIFlags(_ overrides: ConfigOverrides, to config: inout Configuration) throws(ConfigError) {
        guard let v = overrides.apiListen else { return }
        config.api.listenIsDefault = false
        if v == "off" {
            config.api.listen = nil
            return
        }
        do {
            config.api.listen = try ListenAddress(parsing: v, defaultPort: 8053)
        } catch {
            throw ConfigError(key: "--api-listen", error.message)
        }
    }
}

extension ConfigFileParser {
    static let apiKeys = ["listen", "database", "max-body", "rate-limit", "rate-burst"]

    /// `api: {listen, database, max-body, rate-limit, rate-burst}`; false when `key` is not `api`.
    func parseAPI(_ key: String, _ value: Node, into config: inout Configuration) throws(ConfigError) -> Bool {
        guard key == "api" else { return false }
        if case .scalar = value, value.string == "off" {
            config.api.listen = nil
            config.api.listenIsDefault = false
            return true
        }
        for (k, v) in try mapping(value, key, known: Self.apiKeys) {
            let full = "api.\(k)"
            switch k {
            case "listen":
                let text = try string(v, full)
                config.api.listenIsDefault = false
                if text == "off" {
                    config.api.listen = nil
                } else {
                    do { config.api.listen = try ListenAddress(parsing: text, defaultPort: 8053) } catch {
                        throw self.error(v, full, error.message)
                    }
                }
            case "database":
                let text = try string(v, full)
                if text == "sqlite" {
                    config.api.database = text
                } else if text.hasPrefix("sqlite:"), text.count > 7 {
                    config.api.database = "sqlite:" + resolve(String(text.dropFirst(7)))
                } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
                    do { _ = try PostgresURL(parsing: text) } catch { throw self.error(v, full, error.message) }
                    config.api.database = text
                } else {
                    throw self.error(v, full, "'\(text)' is not sqlite, sqlite:PATH or postgres://USER@HOST/DATABASE")
                }
            case "max-body":
                config.api.maxBodyBytes = try integer(v, full, 1024...(1 << 30))
            case "rate-limit":
                config.api.rateLimit = Double(try integer(v, full, 0...1_000_000))
            case "rate-burst":
                config.api.rateBurst = Double(try integer(v, full, 1...1_000_000))
            default:
                break
            }
        }
        return true
    }
}
