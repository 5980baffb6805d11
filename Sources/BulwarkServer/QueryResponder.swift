/// The transport a query arrived on: it decides the response size limit.
public enum Transport: Sendable {
    case udp
    case tcp
}

/// The query pipeline of one worker: bytes → parsed query → policy → lookup → encoded
/// answer → bytes. One instance per thread or event loop, never shared: it owns the
/// reusable scratch buffers, so answering allocates nothing in the steady state.
public final class QueryResponder {
    private let store: ZoneStore
    private var zones: ZoneSet
    private var generation: Int
    private var scratch = AnswerScratch()
    /// The largest UDP response we send, also advertised in our OPT (RFC 6891 §6.2.5).
    public let maxUDPSize: Int

    public init(store: ZoneStore, maxUDPSize: Int = 1232) {
        self.store = store
        (zones, generation) = store.snapshot()
        self.maxUDPSize = max(512, min(maxUDPSize, 65535))
    }

    /// Answers one query: writes the response into `response` (capacity ≥ 65535) and
    /// returns its length; 0 means send nothing.
    public func respond(to query: UnsafeRawBufferPointer, transport: Transport,
                        into response: UnsafeMutableRawBufferPointer) -> Int {
        if store.generation != generation {
            (zones, generation) = store.snapshot()
        }
        let ourPayload = UInt16(maxUDPSize)
        switch QueryParser.parse(query) {
        case .drop:
            return 0
        case .error(let rcode, let id, let flags, let qnameLength, let edns):
            return ResponseHeader.writeError(
                into: response, query: query, rcode: rcode, id: id, queryFlags: flags,
                qnameLength: qnameLength, edns: edns, ourPayloadSize: ourPayload)
        case .query(let q):
            let limit: Int
            switch transport {
            case .tcp:
                limit = 65535
            case .udp:
                // RFC 1035 §4.2.1: 512 octets without EDNS; RFC 6891 §6.2.5: the requestor's
                // payload size (at least 512), capped by our own maximum.
                if let edns = q.edns {
                    limit = min(Int(edns.udpPayloadSize), maxUDPSize)
                } else {
                    limit = 512
                }
            }
            return zones.respond(to: q, message: query, into: response, maxSize: limit,
                                 ourPayloadSize: ourPayload, scratch: &scratch)
        }
    }
}
