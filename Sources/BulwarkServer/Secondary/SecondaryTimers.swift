// The refresh, retry and expire timers of one secondary zone (RFC 1034 §4.3.5), as a
// pure state machine: the manager feeds it events and the clock, and asks what is due.
import BulwarkTransfer
import Foundation

public struct SecondaryTimers: Sendable, Equatable {
    /// The SOA fields of the version held, nil before the first transfer.
    public private(set) var soa: SOAFields?
    /// When a primary last confirmed the version held (a transfer, or a SOA check that
    /// found it current). The zone expires `expire` seconds after this.
    public private(set) var lastRefresh: Date?
    /// When to check the primaries next.
    public private(set) var nextCheck: Date
    /// Failed attempts in a row.
    public private(set) var failures = 0

    /// Floors on the SOA's intervals, so a zone with REFRESH 0 cannot spin (Knot's
    /// refresh-min-interval and retry-min-interval, default 2 s there).
    public static let minimumInterval: TimeInterval = 1
    /// Before the first transfer there is no RETRY: back off from 5 s up to 5 minutes.
    public static let bootstrapRetry: (first: TimeInterval, max: TimeInterval) = (5, 300)

    public init(now: Date) {
        nextCheck = now
    }

    /// A copy read from disk at startup: its SOA and when it was last confirmed (nil:
    /// unknown, taken as now). The primaries are asked at once.
    public mutating func loaded(_ soa: SOAFields, lastRefresh: Date?, now: Date) {
        self.soa = soa
        self.lastRefresh = lastRefresh ?? now
        nextCheck = now
    }

    /// A primary confirmed (or transferred) the version with `soa`.
    public mutating func refreshed(_ soa: SOAFields, now: Date) {
        self.soa = soa
        lastRefresh = now
        failures = 0
        // RFC 1034 §4.3.5: check again after REFRESH.
        nextCheck = now.addingTimeInterval(max(Self.minimumInterval, TimeInterval(soa.refresh)))
    }

    /// No primary answered usefully.
    public mutating func failed(now: Date) {
        failures += 1
        if let soa {
            // RFC 1034 §4.3.5: retry after RETRY.
            nextCheck = now.addingTimeInterval(max(Self.minimumInterval, TimeInterval(soa.retry)))
        } else {
            let backoff = Self.bootstrapRetry.first * pow(2, Double(min(failures - 1, 10)))
            nextCheck = now.addingTimeInterval(min(backoff, Self.bootstrapRetry.max))
        }
    }

    /// A NOTIFY (RFC 1996 §3.7... §3.11): check now.
    public mutating func notified(now: Date) {
        nextCheck = now
    }

    /// When the version held stops being served (RFC 1034 §4.3.5: EXPIRE after the
    /// last successful refresh); nil when nothing is held.
    public var expiresAt: Date? {
        guard let soa, let lastRefresh else { return nil }
        return lastRefresh.addingTimeInterval(TimeInterval(soa.expire))
    }

    public func isExpired(now: Date) -> Bool {
        guard let e = expiresAt else { return false }
        return now >= e
    }
}
