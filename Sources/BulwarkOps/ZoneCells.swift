// One worker's per-zone counters: `ZoneBucket.count` cells per index of the zone set the
// worker answers from. The cells follow the set from version to version by what changed
// (`ZoneSet.indexChanges`): a zone a publish moved to another index (a removal moves the
// last zone into the hole) takes its counts along, a zone the set no longer holds leaves
// its counts under its origin's text, a zone that arrives starts at zero, and every other
// index keeps its cells. So a swap costs what the publishes in between changed, not a
// table per set; origins become text only when a reader sums the counts.
import BulwarkZone

/// Cells for zone indices in pages of 256 zones that never move, so the table grows
/// without copying a cell. One writer, as `CounterCells`; whoever owns it deallocates it.
struct ZoneCells {
    static var shift: Int { 8 }
    static var zonesPerPage: Int { 1 << shift }
    /// The pages (`pageCount` of them, room for `capacity`).
    private var pages: UnsafeMutablePointer<CounterCells>
    private var pageCount = 0
    private var capacity = 1

    init() {
        pages = .allocate(capacity: capacity)
    }

    /// Adds one to `bucket` of zone index `zone` (< the zones reserved). Owner only.
    @inline(__always)
    func add(zone: Int, bucket: Int) {
        pages[zone &>> Self.shift].add((zone & (Self.zonesPerPage &- 1)) &* ZoneBucket.count &+ bucket)
    }

    /// Makes room for zone indices below `zones`: new pages start at zero.
    mutating func reserve(zones: Int) {
        let needed = (zones + Self.zonesPerPage - 1) / Self.zonesPerPage
        guard needed > pageCount else { return }
        if needed > capacity {
            var larger = capacity
            while larger < needed { larger *= 2 }
            let moved = UnsafeMutablePointer<CounterCells>.allocate(capacity: larger)
            moved.moveInitialize(from: pages, count: pageCount)
            pages.deallocate()
            pages = moved
            capacity = larger
        }
        while pageCount < needed {
            (pages + pageCount).initialize(to: .allocate(Self.zonesPerPage * ZoneBucket.count))
            pageCount += 1
        }
    }

    /// The cells of zone index `zone`, read once each.
    func counts(zone: Int) -> [UInt64] {
        (0..<ZoneBucket.count).map { load(zone: zone, bucket: $0) }
    }

    /// Appends the cells of zone indices `0 ..< zones`, zone after zone, to `out`.
    func appendCounts(zones: Int, to out: inout [UInt64]) {
        out.reserveCapacity(out.count + zones * ZoneBucket.count)
        for zone in 0..<zones {
            for b in 0..<ZoneBucket.count { out.append(load(zone: zone, bucket: b)) }
        }
    }

    /// Sets the cells of zone index `zone` (owner only); no counts: zero.
    func set(zone: Int, to counts: [UInt64]? = nil) {
        for b in 0..<ZoneBucket.count {
            pages[zone >> Self.shift].store(Self.cell(zone: zone, bucket: b), counts?[b] ?? 0)
        }
    }

    private func load(zone: Int, bucket: Int) -> UInt64 {
        pages[zone >> Self.shift].load(Self.cell(zone: zone, bucket: bucket))
    }

    /// The cell of `bucket` of zone index `zone` in its page.
    private static func cell(zone: Int, bucket: Int) -> Int {
        (zone & (zonesPerPage - 1)) * ZoneBucket.count + bucket
    }

    func deallocate() {
        for p in 0..<pageCount { pages[p].deallocate() }
        pages.deinitialize(count: pageCount)
        pages.deallocate()
    }
}

/// The per-zone counts a worker shares with readers, under its lock.
struct ZoneCounts {
    /// The set whose indices the cells follow (nil before the worker's first).
    var zones: ZoneSet?
    var cells = ZoneCells()
    /// Counts of zones the set no longer holds, by origin (a zone that comes back starts
    /// again at zero; its old counts stay here and are added to its new ones).
    var departed: [String: [UInt64]] = [:]

    /// The cells follow the worker to `next`: only the indices whose origin changed since
    /// the set before are written. Owner only.
    mutating func follow(_ next: ZoneSet) {
        cells.reserve(zones: next.count)
        if let old = zones { move(from: old, to: next) }
        zones = next
    }

    /// Moves, clears and retires the cells of the indices `next.indexChanges(since: old)` lists.
    private mutating func move(from old: ZoneSet, to next: ZoneSet) {
        let changes = next.indexChanges(since: old)
        // Every count that moves is read before any cell is written (a zone may move into
        // an index another moving zone leaves).
        let moving = changes.arrived.compactMap { a in a.from.map { (a.index.value, cells.counts(zone: $0.value)) } }
        for index in changes.departed {
            departed[old[zone: index].origin.description, default: Self.zero].add(cells.counts(zone: index.value))
        }
        for a in changes.arrived { cells.set(zone: a.index.value) }
        for (index, counts) in moving { cells.set(zone: index, to: counts) }
    }

    static var zero: [UInt64] { [UInt64](repeating: 0, count: ZoneBucket.count) }
}

extension [UInt64] {
    /// Adds `other` cell by cell (the same length).
    mutating func add(_ other: some Sequence<UInt64>) {
        for (i, value) in zip(indices, other) { self[i] &+= value }
    }
}
