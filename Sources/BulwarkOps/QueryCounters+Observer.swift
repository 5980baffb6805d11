// The worker counters as the pipeline's observer: every query counted by type, rcode
// sent and answering zone, and 1 in N sampled for the insight view.
import BulwarkDefences
import BulwarkPipeline
import BulwarkZone

extension QueryCounters: QueryObserver {
    @inline(__always)
    public func policyApplied(_ decision: PolicyDecision) {
        switch decision {
        case .aclDenied: count(.aclDenied)
        case .badCookie: count(.badCookie)
        case .rateLimitDropped: count(.rateLimitDropped)
        case .rateLimitSlipped: count(.rateLimitSlipped)
        }
    }

    /// Zones and samples see what the zone answered (a random-subdomain flood is NXDOMAIN
    /// even when rate limiting drops most of it); the wire counters see what was sent.
    @inline(__always)
    public func handled(_ outcome: QueryOutcome, message: UnsafeRawBufferPointer, client: ClientAddress) {
        let rcode = outcome.sentRCode ?? RCodeBucket.none
        let zoneRCode = outcome.zoneRCode >= 0 ? outcome.zoneRCode : rcode
        count(qtype: outcome.qtype, rcode: rcode, zone: outcome.zone?.raw ?? -1, zoneRCode: zoneRCode)
        let nameEnd = 12 + outcome.qnameLength
        if shouldSample() && outcome.qnameLength > 0 && message.count >= nameEnd {
            sample(name: UnsafeRawBufferPointer(rebasing: message[12..<nameEnd]), qtype: outcome.qtype ?? 0,
                   rcode: zoneRCode, family: client.family.rawValue, high: client.high, low: client.low)
        }
    }
}
