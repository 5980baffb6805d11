// `api.database: postgres://...`: where the control plane's PostgreSQL is.
import BulwarkSettings
import Foundation

/// Where a PostgreSQL database is: parsed from a libpq-style URL,
/// `postgres[ql]://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`.
/// Without a password in the URL, PGPASSWORD is used (so that it need not sit in the
/// config file).
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(host: String, port: Int = 5432, user: String, password: String?, database: String, tls: TLSMode = .disable) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// True when `text` names PostgreSQL (it may still be malformed).
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) {
        guard Self.isPostgres(text), let url = URLComponents(string: text) else {
            throw ConfigError(key: "api.database", "'\(Self.redacted(text))' is not a postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL")
        }
        guard let host = url.host, !host.isEmpty else {
            throw ConfigError(key: "api.database", "the PostgreSQL URL has no host")
        }
        guard let user = url.user?.removingPercentEncoding, !user.isEmpty else {
            throw ConfigError(key: "api.database", "the PostgreSQL URL has no user (postgres://USER@HOST/DATABASE)")
        }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard let database = path.removingPercentEncoding, !database.isEmpty, !database.contains("/") else {
            throw ConfigError(key: "api.database", "the PostgreSQL URL names no database (postgres://USER@HOST/DATABASE)")
        }
        var tls = TLSMode.disable
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable", "allow": tls = .disable
                case "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw ConfigError(key: "api.database", "sslmode '\(item.value ?? "")' is not disable, prefer or require")
                }
            default:
                throw ConfigError(key: "api.database", "unknown PostgreSQL URL parameter '\(item.name)' (only sslmode)")
            }
        }
        // URLComponents keeps IPv6 literals bracketed.
        var h = host
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        self.init(host: h, port: url.port ?? 5432, user: user,
                  password: url.password?.removingPercentEncoding ?? environment["PGPASSWORD"],
                  database: database, tls: tls)
        guard (1...65535).contains(port) else {
            throw ConfigError(key: "api.database", "port \(port) is out of range")
        }
    }

    /// The URL with the password hidden (for logs and errors).
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)\(password == nil ? "" : ":***")@\(h):\(port)/\(database)"
    }

    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://"),
              let colon = text[scheme.upperBound..<at].firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}

extension APISettings {
    /// The PostgreSQL database, or nil when `database` names SQLite.
    public var postgresURL: PostgresURL? {
        guard PostgresURL.isPostgres(database) else { return nil }
        return try? PostgresURL(parsing: database)
    }
}
