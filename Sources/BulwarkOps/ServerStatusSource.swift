// What the ops endpoint reads off the running DNS server, so that operations depend on
// a protocol and not on the server's internals. The server conforms (BulwarkServer).
import BulwarkDefences

public protocol ServerStatusSource: AnyObject, Sendable {
    /// Transport counters and the served zones, now (`uptimeSeconds` is left to the hub).
    func currentFigures() -> ServerFigures
    /// The addresses the server answers on, as bound.
    var listenDescriptions: [String] { get }
    /// UDP worker threads per listen address.
    var udpWorkers: Int { get }
    /// Response rate limiting as configured; nil when it is off.
    var rateLimitSettings: RateLimitSettings? { get }
}
