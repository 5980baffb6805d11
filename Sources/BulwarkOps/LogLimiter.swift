// Logs that a flood cannot turn into a full disk: a token bucket in front of any swift-log
// handler. Up to `burst` lines at once, then `linesPerSecond`; lines over the limit are
// counted and dropped, and the next line that passes says how many were.
import Logging
import Synchronization

/// A token bucket over lines (pure: the caller gives the time).
public struct LineBudget: Sendable {
    public let linesPerSecond: Double
    public let burst: Double
    private var tokens: Double
    private var last: Double?
    /// Lines refused since the last one allowed.
    public private(set) var suppressed = 0

    public init(linesPerSecond: Double, burst: Double) {
        self.linesPerSecond = linesPerSecond
        self.burst = max(1, burst)
        tokens = self.burst
    }

    /// Whether a line may be written at `now` (seconds); when it may, also how many lines
    /// were suppressed before it.
    public mutating func take(now: Double) -> (allowed: Bool, suppressedBefore: Int) {
        if let last { tokens = min(burst, tokens + max(0, now - last) * linesPerSecond) }
        last = now
        guard tokens >= 1 else {
            suppressed += 1
            return (false, 0)
        }
        tokens -= 1
        defer { suppressed = 0 }
        return (true, suppressed)
    }
}

/// A LogHandler that passes at most `linesPerSecond` (burst `burst`) lines to `inner`,
/// shared by every logger made from one factory. Warnings and worse have their own
/// budget, so a flood of info lines cannot hide an error.
public struct RateLimitedLogHandler: LogHandler {
    final class Budgets: Sendable {
        let normal: Mutex<LineBudget>
        let severe: Mutex<LineBudget>
        init(linesPerSecond: Double, burst: Double) {
            normal = Mutex(LineBudget(linesPerSecond: linesPerSecond, burst: burst))
            severe = Mutex(LineBudget(linesPerSecond: linesPerSecond, burst: burst))
        }
    }

    private var inner: any LogHandler
    private let budgets: Budgets
    private let clock: @Sendable () -> Double

    /// Makes a factory for `LoggingSystem.bootstrap`: every handler it makes shares one
    /// budget pair.
    public static func factory(linesPerSecond: Double, burst: Double,
                               clock: @escaping @Sendable () -> Double = RateLimitedLogHandler.monotonicSeconds,
                               inner: @escaping @Sendable (String) -> any LogHandler) -> @Sendable (String) -> any LogHandler {
        let budgets = Budgets(linesPerSecond: linesPerSecond, burst: burst)
        return { label in RateLimitedLogHandler(inner: inner(label), budgets: budgets, clock: clock) }
    }

    init(inner: any LogHandler, budgets: Budgets, clock: @escaping @Sendable () -> Double) {
        self.inner = inner
        self.budgets = budgets
        self.clock = clock
    }

    public static let monotonicSeconds: @Sendable () -> Double = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    public func log(event: LogEvent) {
        let now = clock()
        let (allowed, suppressed) = event.level >= .warning
            ? budgets.severe.withLock { $0.take(now: now) }
            : budgets.normal.withLock { $0.take(now: now) }
        guard allowed else { return }
        var event = event
        if suppressed > 0 {
            var metadata = event.metadata ?? [:]
            metadata["suppressed"] = "\(suppressed)"
            event.metadata = metadata
        }
        inner.log(event: event)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
