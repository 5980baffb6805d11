// Query insight: what the server has been asked over the last minute, in bounded memory.
//
// A thread of its own drains every worker's sample ring 10 times a second into
// Space-Saving sketches (top query names, top client prefixes, top parents of NXDOMAIN
// names: where a random-subdomain flood lands), kept per 10-second slice for the last 6
// slices, and once a second takes a snapshot of the exact counters (queries, rcodes,
// rate limiting, per zone) for rates over the same window.
//
// Accuracy and cost. Workers sample 1 in N queries (N = `sampleEvery`, 16 by default) at
// random gaps: an estimate is N × the sampled count, with a relative standard error of
// about sqrt(N / true count) (±4 % for a name asked 10,000 times a minute at N = 16), plus
// Space-Saving's one-sided error (reported per item; at most samples/k). Per query the
// cost is a decrement and a branch; per sample a copy of the name into a fixed ring slot.
// Memory: slices × (k names × 256 + k clients × 24 + k parents × 256) octets, fixed
// (6 × 256 keys ≈ 0.8 MB), whatever the stream. Per-zone figures are exact counters.
import BulwarkDefences
import Foundation
import Synchronization

public struct InsightSettings: Sendable, Equatable {
    public var sliceSeconds: Double = 10
    public var slices: Int = 6
    /// Keys monitored per sketch per slice.
    public var topK: Int = 256
    public var ipv4Prefix: Int = 24
    public var ipv6Prefix: Int = 56
    public init() {}
}

/// What /insight returns.
public struct InsightReport: Codable, Sendable {
    public struct ZoneRate: Codable, Sendable {
        public var zone: String
        public var queries: UInt64
        public var qps: Double
        public var nxdomain: UInt64
        public var nxdomainPerSecond: Double
        public var nxdomainRatio: Double
    }
    public struct Heavy: Codable, Sendable {
        public var key: String
        /// Estimated queries in the window (samples × sample rate).
        public var estimate: UInt64
        /// Space-Saving's bound on the overestimate, in the same unit.
        public var error: UInt64
        public var share: Double
    }
    public var windowSeconds: Double
    public var sampleEvery: Int
    public var samples: UInt64
    public var samplesLost: UInt64
    public var zones: [ZoneRate]
    public var topNames: [Heavy]
    public var topClients: [Heavy]
    public var topNXDomainParents: [Heavy]
    public var accuracy: String
}

/// One second of the server's totals, for rates and the dashboard's graph.
public struct SecondSample: Sendable {
    public var time: Double
    public var snapshot: CountersSnapshot
}

public final class QueryInsight: @unchecked Sendable {
    // @unchecked: mutable state lives in `state` (a Mutex); the thread handle in `thread`.
    public let settings: InsightSettings
    public let hub: OpsHub
    public let queryLog: QueryLog?

    struct Slice {
        var start: Double
        var names: SpaceSaving
        var clients: SpaceSaving
        var nxParents: SpaceSaving
        var samples: UInt64 = 0
    }
    struct State {
        var slices: [Slice] = []
        var seconds: [SecondSample] = []  // the last 2 minutes, oldest first, without zones
        /// Per-zone sums at each slice start (the window's bases), oldest first.
        var zoneHistory: [(time: Double, zones: [String: [UInt64]])] = []
        var lastSecond: Double = 0
    }
    private let state: Mutex<State>
    /// The drain task while started.
    private let drainTask = Mutex<Task<Void, Never>?>(nil)
    private let clock: @Sendable () -> Double
    private let started: Double

    public init(hub: OpsHub, settings: InsightSettings = InsightSettings(), queryLog: QueryLog? = nil,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.hub = hub
        self.settings = settings
        self.queryLog = queryLog
        self.clock = clock
        started = clock()
        state = Mutex(State())
    }

    private func newSlice(_ start: Double) -> Slice {
        Slice(start: start, names: SpaceSaving(capacity: settings.topK, keyCapacity: 255),
              clients: SpaceSaving(capacity: settings.topK, keyCapacity: 17),
              nxParents: SpaceSaving(capacity: settings.topK, keyCapacity: 255))
    }

    /// Starts draining (10 ticks a second, a task on the concurrency pool: no thread of its
    /// own sleeps) until `stop`.
    public func start() {
        drainTask.withLock { task in
            guard task == nil else { return }
            task = Task.detached(priority: .utility) { [self] in
                while !Task.isCancelled {
                    tick()
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }

    public func stop() {
        drainTask.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// Drains the rings; rotates slices and takes the per-second snapshot when due.
    public func tick() {
        let now = clock()
        var logLines: [QuerySample] = []
        let wantLog = queryLog != nil
        state.withLock { s in
            if s.slices.isEmpty || now - s.slices[s.slices.count - 1].start >= settings.sliceSeconds {
                s.slices.append(newSlice(now))
                if s.slices.count > settings.slices { s.slices.removeFirst(s.slices.count - settings.slices) }
                s.zoneHistory.append((now, hub.snapshot().zones))
                if s.zoneHistory.count > settings.slices + 1 {
                    s.zoneHistory.removeFirst(s.zoneHistory.count - settings.slices - 1)
                }
            }
            let last = s.slices.count - 1
            for w in hub.workers {
                w.ring.drain { sample in
                    s.slices[last].samples += 1
                    sample.name.withUnsafeBytes { raw in
                        let lower = Self.lowercased(raw)
                        s.slices[last].names.add(lower)
                        if sample.rcode == 3, let parent = Self.parent(of: lower) {
                            s.slices[last].nxParents.add(parent)
                        }
                    }
                    s.slices[last].clients.add(Self.prefixKey(sample, v4: settings.ipv4Prefix, v6: settings.ipv6Prefix))
                    if wantLog { logLines.append(sample) }
                }
            }
            if now - s.lastSecond >= 1 {
                s.lastSecond = now
                s.seconds.append(SecondSample(time: now, snapshot: hub.snapshot(zones: false)))
                if s.seconds.count > 121 { s.seconds.removeFirst(s.seconds.count - 121) }
            }
        }
        if let log = queryLog, !logLines.isEmpty { log.write(logLines, now: now) }
    }

    /// The per-second snapshots, oldest first (the last 2 minutes).
    public var seconds: [SecondSample] { state.withLock { $0.seconds } }

    /// The view over the last `slices × sliceSeconds` seconds.
    public func report(top n: Int = 20) -> InsightReport {
        let now = clock()
        let live = hub.snapshot()
        let (slices, history) = state.withLock { ($0.slices, $0.zoneHistory) }
        let window = Double(settings.slices) * settings.sliceSeconds
        // Per-zone exact rates: now against the oldest snapshot inside the window, or
        // against zero while the server has been counting for less than the window.
        let covered = history.first.map { now - $0.time > window } ?? false
        let base = covered ? history.first { now - $0.time <= window + 0.5 } : nil
        let elapsed = max(1, now - (base?.time ?? started))
        var zones: [InsightReport.ZoneRate] = []
        for (name, counts) in live.zones {
            let before = base?.zones[name] ?? [UInt64](repeating: 0, count: ZoneBucket.count)
            let q = counts.reduce(0, +) &- before.reduce(0, +)
            let nx = counts[ZoneBucket.nxdomain] &- before[ZoneBucket.nxdomain]
            zones.append(.init(zone: name, queries: q, qps: Double(q) / elapsed, nxdomain: nx,
                               nxdomainPerSecond: Double(nx) / elapsed,
                               nxdomainRatio: q > 0 ? Double(nx) / Double(q) : 0))
        }
        zones.sort { ($0.nxdomain, $0.queries, $1.zone) > ($1.nxdomain, $1.queries, $0.zone) }
        var names = SpaceSaving(capacity: settings.topK, keyCapacity: 255)
        var clients = SpaceSaving(capacity: settings.topK, keyCapacity: 17)
        var parents = SpaceSaving(capacity: settings.topK, keyCapacity: 255)
        var samples: UInt64 = 0
        for s in slices where now - s.start < window + settings.sliceSeconds {
            names.merge(s.names)
            clients.merge(s.clients)
            parents.merge(s.nxParents)
            samples += s.samples
        }
        let every = UInt64(hub.settings.sampleEvery)
        func heavy(_ sketch: SpaceSaving, _ text: ([UInt8]) -> String) -> [InsightReport.Heavy] {
            // Only keys seen at least twice for sure: a key that entered by evicting the
            // minimum carries that minimum as error (the tail of a random-name flood).
            sketch.top().filter { $0.count - $0.error >= 2 }.prefix(n).map {
                .init(key: text($0.key), estimate: $0.count * every, error: $0.error * every,
                      share: samples > 0 ? Double($0.count) / Double(samples) : 0)
            }
        }
        return InsightReport(
            windowSeconds: min(window, max(0, now - (slices.first?.start ?? now))),
            sampleEvery: hub.settings.sampleEvery, samples: samples,
            samplesLost: live.event(.samplesLost),
            zones: zones,
            topNames: heavy(names, Self.nameText),
            topClients: heavy(clients) { Self.prefixText($0, v4: settings.ipv4Prefix, v6: settings.ipv6Prefix) },
            topNXDomainParents: heavy(parents, Self.nameText),
            accuracy: "names and clients: 1 in \(every) queries sampled; estimate = samples x \(every) "
                + "(relative error about sqrt(\(every)/count)); error = Space-Saving overestimate bound. "
                + "Zones: exact counters.")
    }

    // MARK: keys

    static func lowercased(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        raw.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    }

    /// The wire name without its first label, or nil for the root and malformed names.
    static func parent(of wire: [UInt8]) -> [UInt8]? {
        guard let first = wire.first, first > 0, Int(first) + 1 < wire.count else { return nil }
        return Array(wire[(Int(first) + 1)...])
    }

    /// Family octet, then the masked address (16 octets).
    static func prefixKey(_ s: QuerySample, v4: Int, v6: Int) -> [UInt8] {
        let family: ClientAddress.Family = s.family == 4 ? .v4 : s.family == 6 ? .v6 : .unknown
        let a = ClientAddress(family: family, high: s.high, low: s.low).masked(family == .v6 ? v6 : v4)
        var key = [s.family]
        for i in 0..<8 { key.append(UInt8(truncatingIfNeeded: a.high >> (56 - 8 * UInt64(i)))) }
        for i in 0..<8 { key.append(UInt8(truncatingIfNeeded: a.low >> (56 - 8 * UInt64(i)))) }
        return key
    }

    static func prefixText(_ key: [UInt8], v4: Int, v6: Int) -> String {
        guard key.count == 17 else { return "?" }
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 1...8 { high = high << 8 | UInt64(key[i]) }
        for i in 9...16 { low = low << 8 | UInt64(key[i]) }
        switch key[0] {
        case 4: return "\(ClientAddress(family: .v4, high: high, low: low))/\(v4)"
        case 6: return "\(ClientAddress(family: .v6, high: high, low: low))/\(v6)"
        default: return "unknown"
        }
    }

    /// Presentation form of a wire name (RFC 1035 §5.1 escapes for odd octets).
    public static func nameText(_ wire: [UInt8]) -> String {
        var out = ""
        var i = 0
        while i < wire.count {
            let len = Int(wire[i])
            if len == 0 { break }
            guard i + 1 + len <= wire.count else { break }
            for b in wire[(i + 1)...(i + len)] {
                switch b {
                case 0x2E, 0x5C, 0x22, 0x28, 0x29, 0x3B, 0x40, 0x24: out += "\\" + String(UnicodeScalar(b))
                case 0x21...0x7E: out.unicodeScalars.append(UnicodeScalar(b))
                default: out += "\\" + String(format: "%03d", Int(b))
                }
            }
            out += "."
            i += 1 + len
        }
        return out.isEmpty ? "." : out
    }
}
