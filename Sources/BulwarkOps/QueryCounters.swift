// The counters of one worker (a UDP thread or a TCP event loop). The worker writes them
// in plain worker-owned memory on every query: fixed tables indexed by query-type bucket,
// rcode, zone index (ZoneCells) and latency bucket, with relaxed stores and no
// read-modify-write (CounterCells). Readers (a /metrics scrape, the insight thread) load
// them off the query path and merge the workers. Nothing here allocates per query.
import BulwarkZone
import Synchronization

public enum CountedTransport: Int, Sendable, CaseIterable {
    case udp = 0, tcp = 1
    public var name: String { self == .udp ? "udp" : "tcp" }
}

public final class QueryCounters: @unchecked Sendable {
    // @unchecked: the cells are written by the owning worker only (see CounterCells);
    // `zoneCounts` is guarded by its lock, taken when the zone set changes and by readers.
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

    // Owner-only state: the per-zone cells as of the last swap, and the set's zone count.
    private var zoneCells: ZoneCells
    private var zoneCount = 0
    private var countdown: Int
    private var random: UInt64

    /// The per-zone counts, with the zone set their indices refer to.
    let zoneCounts = Mutex(ZoneCounts())

    init(transport: CountedTransport, sampleEvery: Int, ringCapacity: Int, seed: UInt64) {
        self.transport = transport
        self.sampleEvery = max(1, sampleEvery)
        table = .allocate(QTypeBucket.count * RCodeBucket.count)
        events = .allocate(PolicyEvent.allCases.count)
        latency = .allocate(LatencyBucket.count + 2)
        ring = SampleRing(capacity: ringCapacity)
        zoneCells = zoneCounts.withLock { $0.cells }
        random = seed | 1
        countdown = 1
    }

    deinit {
        table.deallocate()
        events.deallocate()
        latency.deallocate()
        zoneCounts.withLock { $0.cells.deallocate() }
    }

    /// The worker answers from `zones` from now on: the per-zone cells follow it. Once per
    /// zone-set swap, never per query; costs what changed since the worker's last set
    /// (`ZoneCounts.follow`) and may allocate.
    public func zonesChanged(_ zones: ZoneSet) {
        zoneCells = zoneCounts.withLock { counts in
            counts.follow(zones)
            return counts.cells
        }
        zoneCount = zones.count
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
            zoneCells.add(zone: Int(zone), bucket: ZoneBucket.of(rcode: zoneRCode >= 0 ? zoneRCode : rcode))
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
