// The counters of one worker (a UDP thread or a TCP event loop). The worker writes them
// in plain worker-owned memory on every query: fixed tables indexed by query-type bucket,
// rcode, zone index and latency bucket, with relaxed stores and no read-modify-write
// (CounterCells). Readers (a /metrics scrape, the insight thread) load them off the
// query path and merge the workers. Nothing here allocates per query.
import Synchronization

public enum CountedTransport: Int, Sendable, CaseIterable {
    case udp = 0, tcp = 1
    public var name: String { self == .udp ? "udp" : "tcp" }
}

/// The per-zone counters of one worker for one zone set (one generation): the zone set's
/// zones in order, `ZoneBucket.count` cells each.
final class ZoneCounterTable: @unchecked Sendable {
    let names: [String]
    let cells: CounterCells

    init(names: [String]) {
        self.names = names
        cells = .allocate(names.count * ZoneBucket.count)
    }

    deinit { cells.deallocate() }
}

public final class QueryCounters: @unchecked Sendable {
    // @unchecked: the cells are written by the owning worker only (see CounterCells);
    // `tables` is guarded by `lock`, taken when the zone set changes and by readers.
    public let transport: CountedTransport
    /// [qtype bucket][rcode bucket] → queries.
    let table: CounterCells
    let events: CounterCells
    /// Latency buckets, then the sum in nanoseconds, then the count (UDP batches).
    let latency: CounterCells
    /// The sampled-query ring, drained by QueryInsight.
    public let ring: SampleRing
    /// Mean distance between samples (1 in `sampleEvery` queries).
    public let sampleEvery: Int

    // Owner-only state.
    private var zoneCells: CounterCells
    private let noZones: CounterCells
    private var zoneCount = 0
    private var countdown: Int
    private var random: UInt64

    /// Every zone table this worker has used; the last is current. Older ones are final
    /// and folded into `retired` by the next reader.
    let lock = Mutex<[ZoneCounterTable]>([])

    init(transport: CountedTransport, sampleEvery: Int, ringCapacity: Int, seed: UInt64) {
        self.transport = transport
        self.sampleEvery = max(1, sampleEvery)
        table = .allocate(QTypeBucket.count * RCodeBucket.count)
        events = .allocate(PolicyEvent.allCases.count)
        latency = .allocate(LatencyBucket.count + 2)
        ring = SampleRing(capacity: ringCapacity)
        noZones = .allocate(0)
        zoneCells = noZones
        random = seed | 1
        countdown = 1
    }

    deinit {
        table.deallocate()
        events.deallocate()
        latency.deallocate()
        noZones.deallocate()  // the zone tables free their own cells
    }

    /// The worker switched to a new zone set: its zones' names in the set's order. Allocates
    /// (once per zone-set swap, never per query).
    public func zonesChanged(names: [String]) {
        let t = ZoneCounterTable(names: names)
        lock.withLock { $0.append(t) }
        zoneCells = t.cells
        zoneCount = names.count
    }

    /// Counts one query: its type (`qtype`, nil when unknown), the rcode sent
    /// (`RCodeBucket.none` when nothing was sent) and the zone index that answered (-1: none)
    /// with the rcode of its answer (`zoneRCode`; by default the one sent).
    @inline(__always)
    public func count(qtype: UInt16?, rcode: Int, zone: Int32, zoneRCode: Int = -1) {
        var q = QTypeBucket.none
        if let t = qtype { q = QTypeBucket.index(t) }
        table.add(q &* RCodeBucket.count &+ rcode)
        if zone >= 0 && Int(zone) < zoneCount {
            zoneCells.add(Int(zone) &* ZoneBucket.count &+ ZoneBucket.of(rcode: zoneRCode >= 0 ? zoneRCode : rcode))
        }
    }

    @inline(__always)
    public func count(_ event: PolicyEvent) {
        events.add(event.rawValue)
    }

    /// Records one UDP batch of `queries` answered in `nanoseconds` (receive to send):
    /// every query of the batch is counted in that duration's bucket.
    @inline(__always)
    public func recordBatch(queries: Int, nanoseconds: UInt64) {
        let q = UInt64(queries)
        latency.add(LatencyBucket.index(nanoseconds: nanoseconds), q)
        latency.add(LatencyBucket.count, nanoseconds &* q)
        latency.add(LatencyBucket.count + 1, q)
    }

    /// Whether this query is sampled: 1 in `sampleEvery` on average, at pseudo-random
    /// gaps (xorshift) so that no fixed stride of a flood can dodge or fill the sample.
    @inline(__always)
    public func shouldSample() -> Bool {
        countdown &-= 1
        guard countdown <= 0 else { return false }
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        countdown = sampleEvery == 1 ? 1 : 1 + Int(random % UInt64(2 * sampleEvery - 1))
        return true
    }

    /// Stores a sample in the ring (the caller decided with `shouldSample`).
    @inline(__always)
    public func sample(name: UnsafeRawBufferPointer, qtype: UInt16, rcode: Int, family: UInt8,
                       high: UInt64, low: UInt64) {
        if !ring.push(name: name, qtype: qtype, rcode: rcode, family: family, tcp: transport == .tcp,
                      high: high, low: low) {
            count(.samplesLost)
        }
    }
}
