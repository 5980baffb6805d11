// What the pipeline tells whoever counts queries (the ops counters), so that the
// pipeline knows nothing of metrics and the counters nothing of parsing.
import BulwarkDefences
import BulwarkZone

/// Told about every query a `QueryResponder` handled. One observer per worker, called on
/// the worker's thread only: an implementation must not lock or allocate per call (the
/// query path's contract, held by AllocationTests).
public protocol QueryObserver: AnyObject {
    /// The worker answers from a new zone set from now on. Once per swap, not per query:
    /// may allocate.
    func zonesChanged(_ zones: ZoneSet)
    /// A policy decision that replaced or suppressed the answer.
    func policyApplied(_ decision: PolicyDecision)
    /// One query handled. `message` is the query as received, valid during the call only.
    func handled(_ outcome: QueryOutcome, message: UnsafeRawBufferPointer, client: ClientAddress)
}

/// Policy decisions worth counting.
public enum PolicyDecision: Sendable {
    /// The query access list refused or dropped the query.
    case aclDenied
    /// BADCOOKIE sent (cookies required, RFC 7873 §5.2.3).
    case badCookie
    /// Response rate limiting: not sent.
    case rateLimitDropped
    /// Response rate limiting: sent as an empty TC=1 answer.
    case rateLimitSlipped
}

/// What became of one query.
public struct QueryOutcome: Sendable {
    /// Length of the question name in the message (it starts at octet 12); 0 when no
    /// question was read.
    public var qnameLength = 0
    /// The question's type, nil when it could not be read.
    public var qtype: UInt16? = nil
    /// The zone (of the zone set's `zones`) that answered; nil when none did.
    public var zone: ZoneIndex? = nil
    /// The rcode of the zone's answer before rate limiting could drop or slip it; -1 when
    /// no zone answered.
    public var zoneRCode = -1
    /// The rcode sent; nil when nothing was sent.
    public var sentRCode: Int? = nil

    public init() {}
}
