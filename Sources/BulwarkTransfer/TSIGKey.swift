// TSIG keys (RFC 8945 §3) and the HMAC algorithms they use (RFC 8945 §6), through
// swift-crypto. A key is a name, an algorithm and a shared secret written in base64.
import BulwarkWire
import Crypto
import Foundation

/// The TSIG algorithms we sign and verify with (RFC 8945 §6: HMAC-SHA256 is mandatory;
/// HMAC-MD5 and HMAC-SHA1 are kept for older peers; SHA384 and SHA512 are optional).
public enum TSIGAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    case hmacMD5 = "hmac-md5"
    case hmacSHA1 = "hmac-sha1"
    case hmacSHA256 = "hmac-sha256"
    case hmacSHA384 = "hmac-sha384"
    case hmacSHA512 = "hmac-sha512"

    /// The algorithm's name in the TSIG record (RFC 8945 §6, IANA registry).
    public var name: DNSName {
        switch self {
        case .hmacMD5: return try! DNSName("hmac-md5.sig-alg.reg.int.")
        case .hmacSHA1: return try! DNSName("hmac-sha1.")
        case .hmacSHA256: return try! DNSName("hmac-sha256.")
        case .hmacSHA384: return try! DNSName("hmac-sha384.")
        case .hmacSHA512: return try! DNSName("hmac-sha512.")
        }
    }

    /// Octets of a full MAC.
    public var digestLength: Int {
        switch self {
        case .hmacMD5: return 16
        case .hmacSHA1: return 20
        case .hmacSHA256: return 32
        case .hmacSHA384: return 48
        case .hmacSHA512: return 64
        }
    }

    /// RFC 8945 §5.2.2.1: a truncated MAC must keep at least half the digest and at least
    /// 10 octets.
    public var minimumMACLength: Int { max(10, digestLength / 2) }

    public var description: String { rawValue }

    /// The algorithm named `name` in a TSIG record (case-insensitive), or nil.
    public init?(name: DNSName) {
        let lower = name.lowercased()
        guard let a = Self.allCases.first(where: { $0.name == lower }) else { return nil }
        self = a
    }

    /// The algorithm as an operator writes it: `hmac-sha256`, or the record's name
    /// (`hmac-md5.sig-alg.reg.int`), case-insensitively.
    public init?(configName: String) {
        let lower = configName.lowercased()
        if let a = TSIGAlgorithm(rawValue: lower) {
            self = a
        } else if let n = try? DNSName(lower.hasSuffix(".") ? lower : lower + "."), let a = TSIGAlgorithm(name: n) {
            self = a
        } else {
            return nil
        }
    }

    /// The HMAC of the concatenation of `parts` under `secret`.
    public func mac(secret: [UInt8], _ parts: [[UInt8]]) -> [UInt8] {
        switch self {
        case .hmacMD5: return Self.hmac(Insecure.MD5.self, secret, parts)
        case .hmacSHA1: return Self.hmac(Insecure.SHA1.self, secret, parts)
        case .hmacSHA256: return Self.hmac(SHA256.self, secret, parts)
        case .hmacSHA384: return Self.hmac(SHA384.self, secret, parts)
        case .hmacSHA512: return Self.hmac(SHA512.self, secret, parts)
        }
    }

    private static func hmac<H: HashFunction>(_: H.Type, _ secret: [UInt8], _ parts: [[UInt8]]) -> [UInt8] {
        var h = HMAC<H>(key: SymmetricKey(data: secret))
        for p in parts { h.update(data: p) }
        return Array(h.finalize())
    }
}

public struct TSIGKeyError: Error, Sendable, CustomStringConvertible, Equatable {
    public var description: String
    public init(description: String) { self.description = description }
}

/// A shared secret for TSIG (RFC 8945 §3): the key's name is the TSIG record's owner.
public struct TSIGKey: Sendable, Hashable, CustomStringConvertible {
    /// The key name, lower-cased (names are compared case-insensitively).
    public let name: DNSName
    public let algorithm: TSIGAlgorithm
    public let secret: [UInt8]

    public init(name: DNSName, algorithm: TSIGAlgorithm, secret: [UInt8]) {
        self.name = name.lowercased()
        self.algorithm = algorithm
        self.secret = secret
    }

    /// A key as configured: `name` (absolute or not), algorithm (`hmac-sha256`...) and
    /// the secret in base64 (as `tsig-keygen`, `keymgr -t` and NSD print it).
    public init(name: String, algorithm: String, secret: String) throws(TSIGKeyError) {
        let n: DNSName
        do {
            n = try DNSName(name.hasSuffix(".") ? name : name + ".")
        } catch {
            throw TSIGKeyError(description: "'\(name)' is not a valid key name: \(error)")
        }
        guard let a = TSIGAlgorithm(configName: algorithm) else {
            throw TSIGKeyError(description: "unknown TSIG algorithm '\(algorithm)' (known: \(TSIGAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let data = Data(base64Encoded: secret.trimmingCharacters(in: .whitespaces)), !data.isEmpty else {
            throw TSIGKeyError(description: "the secret of key '\(name)' is not base64")
        }
        self.init(name: n, algorithm: a, secret: Array(data))
    }

    public var description: String { "\(name) (\(algorithm))" }
}

/// The keys this server knows, by name.
public struct TSIGKeyring: Sendable, Equatable {
    public private(set) var keys: [DNSName: TSIGKey] = [:]

    public init(_ keys: [TSIGKey] = []) {
        for k in keys { self.keys[k.name] = k }
    }

    public var isEmpty: Bool { keys.isEmpty }

    public mutating func add(_ key: TSIGKey) { keys[key.name] = key }

    public func key(named name: DNSName) -> TSIGKey? { keys[name.lowercased()] }
}
