// API keys: a random 32-octet secret shown once, stored only as its SHA-256, looked
// up by that hash and compared in constant time.
import Crypto
import Foundation

public enum KeyTokens {
    static let prefix = "bwk_"

    /// A new token: `bwk_` and 32 random octets in hex.
    public static func generate() -> String {
        var g = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &g) }
        return prefix + hex(bytes)
    }

    /// Hex SHA-256 of the token, as stored.
    public static func hash(_ token: String) -> String {
        hex(Array(SHA256.hash(data: Array(token.utf8))))
    }

    /// Compares two strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    /// A short random id (tenants, keys, zones): 16 octets in hex.
    public static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        return hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Who is calling: the key, its tenant, and whether that tenant is the operator's
/// (the first tenant, which may manage other tenants).
public struct Caller: Sendable {
    public var key: APIKey
    public var isOperator: Bool

    public func require(_ role: Role) throws(APIError) {
        guard key.role >= role else { throw .forbidden(role) }
    }
}
