// The slow path: messages the allocation-free query path hands over because they need
// more than a lookup — a TSIG record (RFC 8945), a zone transfer (AXFR RFC 5936, IXFR
// RFC 1995) or a NOTIFY (RFC 1996). They are rare; here allocating is fine.
//
// `QueryResponder` sends them to the server's one `SlowPathRouter`, which verifies the
// TSIG first (a failure is answered here: BADKEY, BADSIG, BADTIME, FORMERR) and then
// calls the `SlowPathHandler` registered for the kind of message. Without a handler, the
// message gets what the fast path would have answered, signed when its TSIG verified.
import BulwarkDefences
import BulwarkTransfer
import BulwarkWire
import Synchronization

/// Why a message left the fast path.
public enum SlowPathKind: Sendable, Hashable, CaseIterable {
    /// Opcode NOTIFY (RFC 1996).
    case notify
    /// A QUERY for AXFR or IXFR.
    case transfer
    /// Any other QUERY carrying a TSIG record.
    case signedQuery
}

/// One message handed to the slow path.
public struct SlowPathRequest: Sendable {
    public let kind: SlowPathKind
    /// The whole message as received (TSIG included).
    public let message: [UInt8]
    public let transport: Transport
    public let client: ClientAddress
    /// The header and question (for NOTIFY too; opcode in `query.opcode`), nil when the
    /// question could not be read.
    public let query: ParsedQuery?
    /// `.unsigned` or `.verified` (its signer signs the answer): requests whose TSIG failed
    /// never reach a handler, the router answers them.
    public let tsig: TSIGRequestVerdict
    /// The largest response the client accepts: 65535 over TCP, its EDNS size (or 512)
    /// capped by ours over UDP.
    public let maxResponseSize: Int

    /// The key the request was signed with, if any.
    public var key: TSIGKey? { tsig.key }

    /// The question name, when there is one.
    public var qname: DNSName? {
        guard let q = query, q.qnameLength > 0, message.count >= 12 + q.qnameLength else { return nil }
        return DNSName(uncheckedWire: Array(message[12..<(12 + q.qnameLength)]))
    }
}

/// What the slow path sends back.
public enum SlowPathReply {
    /// Nothing.
    case drop
    /// One message (already signed when the request was).
    case message([UInt8])
    /// Several messages, produced one at a time while the connection takes them (TCP
    /// only; over UDP only the first is sent).
    case stream(any ResponseStream)
    /// Not this handler's business: answer as if no handler were registered.
    case notHandled
}

/// Messages of a long answer (a zone transfer), made as the connection can take them so
/// a large zone is never held whole in memory.
public protocol ResponseStream: AnyObject {
    /// The next message, or nil when the answer is complete.
    func next() -> [UInt8]?
}

/// Answers one kind of slow-path message. Called on the receiving transport's thread
/// (a UDP worker or a TCP event loop): do only brief work inline, hand anything long
/// (a refresh after NOTIFY) to another thread.
public protocol SlowPathHandler: AnyObject, Sendable {
    func handle(_ request: SlowPathRequest) -> SlowPathReply
}

/// The one place slow-path messages go: verifies TSIG, then dispatches by kind.
public final class SlowPathRouter: Sendable {
    private struct State {
        var handlers: [SlowPathKind: any SlowPathHandler] = [:]
        var keys: TSIGKeyring
    }
    private let state: Mutex<State>
    /// Local truncation policy for request MACs (RFC 8945 §5.2.4); nil: whatever the RFC allows.
    public let minimumMACLength: Int?

    public init(keyring: TSIGKeyring = TSIGKeyring(), minimumMACLength: Int? = nil) {
        self.state = Mutex(State(keys: keyring))
        self.minimumMACLength = minimumMACLength
    }

    /// The keys requests are verified with.
    public var keyring: TSIGKeyring {
        get { state.withLock { $0.keys } }
        set { state.withLock { $0.keys = newValue } }
    }

    /// Makes `handler` answer the messages of `kinds` (replacing an earlier one).
    public func register(_ handler: any SlowPathHandler, for kinds: [SlowPathKind]) {
        state.withLock { for k in kinds { $0.handlers[k] = handler } }
    }

    public func handler(for kind: SlowPathKind) -> (any SlowPathHandler)? {
        state.withLock { $0.handlers[kind] }
    }

    /// The TSIG verdict on a message (RFC 8945 §5.2).
    public func verify(_ message: [UInt8]) -> TSIGRequestVerdict {
        TSIGServer.verify(request: message, keyring: keyring, minimumMACLength: minimumMACLength)
    }
}

/// `message` without its TSIG record (ARCOUNT one less), or the message itself when it
/// has none: what the fast path answers when the slow path has nothing better.
package func strippingTSIG(_ message: [UInt8]) -> [UInt8] {
    guard let found = (try? TSIG.find(in: message)) ?? nil else { return message }
    let offset = found.offset
    var m = Array(message[0..<offset])
    let ar = (UInt16(m[10]) << 8 | UInt16(m[11])) &- 1
    m[10] = UInt8(ar >> 8)
    m[11] = UInt8(ar & 0xFF)
    return m
}
