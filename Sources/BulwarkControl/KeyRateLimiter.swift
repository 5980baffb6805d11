import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// Per-key request rate limits: a token bucket per key (`rate` tokens a second, at most
/// `burst` saved up). A request takes one token; without one it gets 429 and the
/// seconds until the next token (Retry-After, RFC 9110 §10.2.3).
public final class KeyRateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var last: Double
    }
    public let rate: Double
    public let burst: Double
    private let buckets = NIOLockedValueBox([String: Bucket]())

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// nil when the request may go ahead, else the seconds to wait.
    public func take(_ key: String, now: Double = KeyRateLimiter.now()) -> Double? {
        guard rate > 0 else { return nil }
        return buckets.withLockedValue { all -> Double? in
            var b = all[key] ?? Bucket(tokens: burst, last: now)
            b.tokens = min(burst, b.tokens + (now - b.last) * rate)
            b.last = now
            defer { all[key] = b }
            if b.tokens >= 1 {
                b.tokens -= 1
                return nil
            }
            return (1 - b.tokens) / rate
        }
    }
}
