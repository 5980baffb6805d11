// Every worker's counters, and their sum. Workers register once (at thread start);
// readers merge the per-worker cells off the query path.
import BulwarkZone
import Prometheus
import Synchronization

/// Totals over every worker at one moment.
public struct CountersSnapshot: Sendable {
    /// [transport][qtype bucket * RCodeBucket.count + rcode] → queries.
    public var table: [[UInt64]] = CountedTransport.allCases.map { _ in
        [UInt64](repeating: 0, count: QTypeBucket.count * RCodeBucket.count)
    }
    /// [transport][PolicyEvent.rawValue]
    public var events: [[UInt64]] = CountedTransport.allCases.map { _ in
        [UInt64](repeating: 0, count: PolicyEvent.allCases.count)
    }
    /// UDP latency: bucket counts (not cumulative), then the sum in ns, then the count.
    public var latency = [UInt64](repeating: 0, count: LatencyBucket.count + 2)
    /// zone → [ZoneBucket] counts (both transports).
    public var zones: [String: [UInt64]] = [:]

    public init() {}

    public func queries(_ t: CountedTransport? = nil) -> UInt64 {
        let ts = t.map { [$0] } ?? CountedTransport.allCases
        return ts.reduce(0) { $0 + table[$1.rawValue].reduce(0, +) }
    }

    /// Queries by rcode bucket over both transports.
    public var byRCode: [UInt64] {
        var r = [UInt64](repeating: 0, count: RCodeBucket.count)
        for t in table {
            for q in 0..<QTypeBucket.count {
                for c in 0..<RCodeBucket.count { r[c] += t[q * RCodeBucket.count + c] }
            }
        }
        return r
    }

    /// Queries by qtype bucket over both transports.
    public var byQType: [UInt64] {
        var r = [UInt64](repeating: 0, count: QTypeBucket.count)
        for t in table {
            for q in 0..<QTypeBucket.count {
                for c in 0..<RCodeBucket.count { r[q] += t[q * RCodeBucket.count + c] }
            }
        }
        return r
    }

    public func event(_ e: PolicyEvent) -> UInt64 { events.reduce(0) { $0 + $1[e.rawValue] } }
}

/// Settings of the counting layer.
public struct CountingSettings: Sendable, Equatable {
    /// 1 in this many queries is sampled into the insight sketches (and the query log).
    public var sampleEvery: Int = 16
    /// Samples a worker can hold between two drains of the insight thread (~10/s).
    public var ringCapacity: Int = 2048
    public init(sampleEvery: Int = 16, ringCapacity: Int = 2048) {
        self.sampleEvery = sampleEvery
        self.ringCapacity = ringCapacity
    }
}

public final class OpsHub: Sendable {
    public let settings: CountingSettings
    private struct State {
        var workers: [QueryCounters] = []
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    }
    private let state = Mutex(State())
    /// Where every metric goes (ours, and anything counted through the swift-metrics
    /// factory made from it).
    public let registry: PrometheusCollectorRegistry
    /// The events of the server's life (loads, reloads, transfers), published as metrics.
    public let events: OpsEvents
    public let startTime: Double

    public init(settings: CountingSettings = CountingSettings()) {
        self.settings = settings
        registry = PrometheusCollectorRegistry()
        events = OpsEvents(factory: PrometheusMetricsFactory(registry: registry))
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        startTime = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Seconds since the hub was made.
    public var uptime: Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 - startTime
    }

    /// A new worker's counters (call once per worker thread or event loop).
    public func makeWorker(_ transport: CountedTransport) -> QueryCounters {
        state.withLock { s in
            s.seed = s.seed &* 6364136223846793005 &+ 1442695040888963407
            let w = QueryCounters(transport: transport, sampleEvery: settings.sampleEvery,
                                  ringCapacity: settings.ringCapacity, seed: s.seed)
            s.workers.append(w)
            return w
        }
    }

    public var workers: [QueryCounters] { state.withLock { $0.workers } }

    /// Sums every worker now; `zones: false` leaves the per-zone sums out (they cost
    /// O(zones), the rest is fixed).
    public func snapshot(zones withZones: Bool = true) -> CountersSnapshot {
        var snap = CountersSnapshot()
        // The per-zone cells of the workers answering from the same set, summed by index;
        // each set's origins are made text once.
        var live: [ObjectIdentifier: (set: ZoneSet, counts: [UInt64])] = [:]
        for w in workers {
            let t = w.transport.rawValue
            for i in 0..<w.table.count { snap.table[t][i] += w.table.load(i) }
            for i in 0..<w.events.count { snap.events[t][i] += w.events.load(i) }
            if w.transport == .udp {
                for i in 0..<w.latency.count { snap.latency[i] += w.latency.load(i) }
            }
            guard withZones else { continue }
            // Read under the worker's lock: a swap moves counts between indices.
            let (set, departed, counts) = w.zoneCounts.withLock { z in
                var counts: [UInt64] = []
                z.cells.appendCounts(zones: z.zones?.count ?? 0, to: &counts)
                return (z.zones, z.departed, counts)
            }
            for (name, c) in departed { snap.zones[name, default: ZoneCounts.zero].add(c) }
            guard let set else { continue }
            live[ObjectIdentifier(set), default: (set, [UInt64](repeating: 0, count: counts.count))].counts.add(counts)
        }
        for (set, counts) in live.values {
            for i in 0..<set.count {
                let b = i * ZoneBucket.count
                snap.zones[set[zone: ZoneIndex(i)].origin.description, default: ZoneCounts.zero]
                    .add(counts[b..<(b + ZoneBucket.count)])
            }
        }
        return snap
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
