/// Why a transfer in (SOA check, AXFR, IXFR) failed. A failed transfer never changes
/// the zone being served: the caller keeps the old version.
import BulwarkWire

public struct TransferError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// The TCP connection could not be opened.
        case connect
        /// No data within the I/O timeout, or the whole transfer took too long.
        case timeout
        /// The peer closed the connection (or reset it) before the transfer ended.
        case closed
        /// A message or the record sequence breaks the rules (RFC 5936, RFC 1995).
        case malformed
        /// More octets than the configured limit.
        case oversized
        /// The primary answered with an error rcode (REFUSED, NOTAUTH, NOTIMP...).
        case rcode
        /// TSIG: a missing, unknown or wrong signature, or a stale time (RFC 8945 §5.2).
        case tsig
        /// The differences do not apply to our copy (a deletion of a record we lack,
        /// serials that do not chain): RFC 1995 says to fall back to AXFR.
        case inconsistent
    }

    public var kind: Kind
    public var message: String
    /// The rcode of a `.rcode` error.
    public var rcode: RCode?

    public init(_ kind: Kind, _ message: String, rcode: RCode? = nil) {
        self.kind = kind
        self.message = message
        self.rcode = rcode
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    static func malformed(_ m: String) -> TransferError { TransferError(.malformed, m) }
}
