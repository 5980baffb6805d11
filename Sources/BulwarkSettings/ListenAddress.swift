// The vocabulary every module's settings share: where to listen, and what is wrong with a
// setting (ConfigError). Parsing the configuration file is BulwarkConfig's job.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case v4, v6 }
    /// The numeric address, without brackets (`127.0.0.1`, `::1`).
    public var host: String
    public var port: Int
    public var family: Family

    public init(host: String, port: Int) throws(ConfigError) {
        if ListenAddress.isIPv4(host) {
            family = .v4
        } else if ListenAddress.isIPv6(host) {
            family = .v6
        } else {
            throw ConfigError("'\(host)' is not a numeric IPv4 or IPv6 address")
        }
        guard (0...65535).contains(port) else { throw ConfigError("port \(port) is out of range 0-65535") }
        self.host = host
        self.port = port
    }

    /// Parses `127.0.0.1:5353`, `[::1]:5353`, `0.0.0.0`, `::` (a missing port is 53).
    public init(parsing text: String, defaultPort: Int = 53) throws(ConfigError) {
        var host = text
        var port = defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ConfigError("'\(text)': missing ']' after the IPv6 address") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else {
                    throw ConfigError("'\(text)': expected [ADDRESS]:PORT")
                }
                port = p
            }
        } else if text.filter({ $0 == ":" }).count == 1 {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard let p = Int(parts[1]) else { throw ConfigError("'\(text)': port '\(parts[1])' is not a number") }
            host = String(parts[0])
            port = p
        }
        do {
            try self.init(host: host, port: port)
        } catch {
            throw ConfigError("'\(text)': \(error.message)")
        }
    }

    public var description: String { family == .v6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// `0.0.0.0` or `::`: the reply's source address must then be chosen per packet.
    public var isWildcard: Bool { host == "0.0.0.0" || host == "::" }

    static func isIPv4(_ s: String) -> Bool {
        var a = in_addr()
        return inet_pton(AF_INET, s, &a) == 1
    }

    static func isIPv6(_ s: String) -> Bool {
        var a = in6_addr()
        return inet_pton(AF_INET6, s, &a) == 1
    }
}
