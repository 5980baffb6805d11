// Publishes the workers' counters through swift-metrics into a Prometheus registry, on
// scrape: the merged per-worker cells are compared with what was published last and the
// swift-metrics counters are incremented by the difference (so the query path never
// touches swift-metrics). Also the server's slow-path figures (TCP connections, zones and
// their serials, loads, reloads, transfers) and the UDP latency histogram.
import CoreMetrics
import Foundation
import Metrics
import Prometheus
import Synchronization

/// The server's figures that do not come from the query counters, read at scrape time.
public struct ServerFigures: Sendable {
    public struct ZoneInfo: Sendable, Codable {
        public var name: String
        public var serial: UInt32
        public var provenance: String
        public init(name: String, serial: UInt32, provenance: String) {
            self.name = name
            self.serial = serial
            self.provenance = provenance
        }
    }
    public var udpReceived = 0, udpSent = 0, udpDropped = 0
    /// Fair UDP queues (FairQueues.swift): queuing by client prefix now; switches so far.
    public var udpFairQueuesActive = false, udpFairQueueSwitches = 0
    public var tcpOpen = 0, tcpAccepted = 0, tcpRefusedFull = 0, tcpRefusedPerClient = 0, tcpEvicted = 0, tcpIOTimeouts = 0
    public var zones: [ZoneInfo] = []
    public var uptimeSeconds: Double = 0
    public init() {}
}

/// Events of the server's life, counted through swift-metrics as they happen (slow path).
/// The replication layer reports transfers here (`transferred`, `transferFailed`).
public final class OpsEvents: Sendable {
    public let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// A zone was loaded and published (`provenance`: file, secondary, api).
    public func zoneLoaded(provenance: String) {
        CoreMetrics.Counter(label: "bulwark_zone_loads_total", dimensions: [("provenance", provenance)], factory: factory).increment()
    }

    /// A zone failed to load (it keeps serving its old version if it had one).
    public func zoneLoadFailed(zone: String) {
        CoreMetrics.Counter(label: "bulwark_zone_load_failures_total", dimensions: [("zone", zone)], factory: factory).increment()
    }

    /// A reload (SIGHUP or startup) ran; `ok` false when the configuration could not be read
    /// or a zone failed.
    public func reloaded(ok: Bool) {
        CoreMetrics.Counter(label: "bulwark_reloads_total", dimensions: [("result", ok ? "ok" : "failed")], factory: factory).increment()
    }

    /// A transfer in (AXFR/IXFR) for `zone` completed.
    public func transferred(zone: String, kind: String) {
        CoreMetrics.Counter(label: "bulwark_transfers_total", dimensions: [("zone", zone), ("kind", kind)], factory: factory).increment()
    }

    /// A transfer in for `zone` failed.
    public func transferFailed(zone: String, kind: String) {
        CoreMetrics.Counter(label: "bulwark_transfer_failures_total", dimensions: [("zone", zone), ("kind", kind)], factory: factory).increment()
    }
}

public final class MetricsExporter: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory
    public let hub: OpsHub

    private struct State {
        var published: [String: UInt64] = [:]
        var counters: [String: CoreMetrics.Counter] = [:]
        var serialGauges: [String: CoreMetrics.Gauge] = [:]
    }
    private let state = Mutex(State())

    public init(hub: OpsHub) {
        self.hub = hub
        self.registry = hub.registry
        self.factory = PrometheusMetricsFactory(registry: hub.registry)
    }

    /// Brings the swift-metrics counters up to `total` for this label set.
    private func publish(_ s: inout State, _ label: String, _ dims: [(String, String)], total: UInt64) {
        let key = label + dims.map { "|\($0.0)=\($0.1)" }.joined()
        let before = s.published[key] ?? 0
        guard total > before || s.counters[key] == nil else { return }
        if total == 0 && before == 0 { return }  // no series until something is counted
        let counter = s.counters[key] ?? CoreMetrics.Counter(label: label, dimensions: dims, factory: factory)
        s.counters[key] = counter
        if total > before { counter.increment(by: Int64(total - before)) }
        s.published[key] = total
    }

    private func gauge(_ label: String, _ dims: [(String, String)] = [], _ value: Double) {
        CoreMetrics.Gauge(label: label, dimensions: dims, factory: factory).record(value)
    }

    /// Updates every metric and returns the Prometheus text exposition.
    public func scrape(_ figures: ServerFigures) -> String {
        let snap = hub.snapshot()
        state.withLock { s in
            for t in CountedTransport.allCases {
                for q in 0..<QTypeBucket.count {
                    for r in 0..<RCodeBucket.count {
                        publish(&s, "bulwark_queries_total",
                                [("transport", t.name), ("qtype", QTypeBucket.names[q]), ("rcode", RCodeBucket.names[r])],
                                total: snap.table[t.rawValue][q * RCodeBucket.count + r])
                    }
                }
                publish(&s, "bulwark_rate_limited_total", [("transport", t.name), ("action", "slipped")],
                        total: snap.events[t.rawValue][PolicyEvent.rateLimitSlipped.rawValue])
                publish(&s, "bulwark_rate_limited_total", [("transport", t.name), ("action", "dropped")],
                        total: snap.events[t.rawValue][PolicyEvent.rateLimitDropped.rawValue])
                publish(&s, "bulwark_acl_denied_total", [("transport", t.name)],
                        total: snap.events[t.rawValue][PolicyEvent.aclDenied.rawValue])
                publish(&s, "bulwark_bad_cookie_total", [("transport", t.name)],
                        total: snap.events[t.rawValue][PolicyEvent.badCookie.rawValue])
            }
            publish(&s, "bulwark_insight_samples_lost_total", [], total: snap.event(.samplesLost))
            for (zone, counts) in snap.zones {
                for b in 0..<ZoneBucket.count {
                    publish(&s, "bulwark_zone_queries_total", [("zone", zone), ("answer", ZoneBucket.names[b])],
                            total: counts[b])
                }
            }
            publish(&s, "bulwark_udp_datagrams_total", [("direction", "received")], total: UInt64(figures.udpReceived))
            publish(&s, "bulwark_udp_datagrams_total", [("direction", "sent")], total: UInt64(figures.udpSent))
            publish(&s, "bulwark_udp_datagrams_total", [("direction", "dropped")], total: UInt64(figures.udpDropped))
            publish(&s, "bulwark_tcp_connections_accepted_total", [], total: UInt64(figures.tcpAccepted))
            publish(&s, "bulwark_udp_fair_queue_switches_total", [], total: UInt64(figures.udpFairQueueSwitches))
            publish(&s, "bulwark_tcp_connections_refused_total", [("reason", "full")], total: UInt64(figures.tcpRefusedFull))
            publish(&s, "bulwark_tcp_connections_refused_total", [("reason", "per_client")],
                    total: UInt64(figures.tcpRefusedPerClient))
            publish(&s, "bulwark_tcp_connections_evicted_total", [], total: UInt64(figures.tcpEvicted))
            publish(&s, "bulwark_tcp_io_timeouts_total", [], total: UInt64(figures.tcpIOTimeouts))
            // Serials: one gauge per served zone; a zone no longer served loses its series.
            var seen = Set<String>()
            for z in figures.zones {
                seen.insert(z.name)
                let g = s.serialGauges[z.name]
                    ?? CoreMetrics.Gauge(label: "bulwark_zone_serial", dimensions: [("zone", z.name), ("provenance", z.provenance)],
                             factory: factory)
                s.serialGauges[z.name] = g
                g.record(Double(z.serial))
            }
            for (name, g) in s.serialGauges where !seen.contains(name) {
                g.destroy()
                s.serialGauges[name] = nil
            }
        }
        gauge("bulwark_tcp_connections", [], Double(figures.tcpOpen))
        gauge("bulwark_udp_fair_queues_active", [], figures.udpFairQueuesActive ? 1 : 0)
        gauge("bulwark_zones", [], Double(figures.zones.count))
        gauge("bulwark_uptime_seconds", [], figures.uptimeSeconds)
        return registry.emitToString() + Self.latencyText(snap.latency)
    }

    /// The UDP latency histogram in the Prometheus text format: each query counted in
    /// the bucket of the recvmmsg batch it was answered in (receive to send).
    static func latencyText(_ cells: [UInt64]) -> String {
        let name = "bulwark_udp_batch_latency_seconds"
        var text = "# HELP \(name) Time from receiving a UDP batch to sending its answers, per query.\n"
        text += "# TYPE \(name) histogram\n"
        var cumulative: UInt64 = 0
        for (i, bound) in LatencyBucket.boundsMicros.enumerated() {
            cumulative += cells[i]
            text += "\(name)_bucket{le=\"\(bound / 1e6)\"} \(cumulative)\n"
        }
        cumulative += cells[LatencyBucket.count - 1]
        text += "\(name)_bucket{le=\"+Inf\"} \(cumulative)\n"
        text += "\(name)_sum \(Double(cells[LatencyBucket.count]) / 1e9)\n"
        text += "\(name)_count \(cells[LatencyBucket.count + 1])\n"
        return text
    }

    /// A quantile (0...1) of the latency histogram, in seconds (the bucket's upper bound).
    public static func latencyQuantile(_ cells: [UInt64], _ q: Double) -> Double? {
        let total = cells.prefix(LatencyBucket.count).reduce(0, +)
        guard total > 0 else { return nil }
        let target = UInt64((Double(total) * q).rounded(.up))
        var c: UInt64 = 0
        for i in 0..<LatencyBucket.count {
            c += cells[i]
            if c >= target { return i < LatencyBucket.boundsMicros.count ? LatencyBucket.boundsMicros[i] / 1e6 : .infinity }
        }
        return nil
    }
}
