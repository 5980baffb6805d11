import BulwarkWire
import Synchronization

/// Holds the zone set every worker answers from. A publish makes the next `ZoneSet`
/// beside the old one (sharing the pages it did not write) and swaps it in here (Knot's
/// RCU idea, simplified):
/// readers never take the lock in the steady state, they compare a generation number
/// and fetch the new set only after a swap.
public final class ZoneStore: Sendable {
    private let state: Mutex<ZoneSet>
    private let generationCounter = Atomic<Int>(0)

    public init(_ initial: ZoneSet) {
        state = Mutex(initial)
    }

    /// The zone set now in force.
    public var current: ZoneSet { state.withLock { $0 } }

    /// Incremented by every `replace`; a cheap way for workers to notice a swap.
    public var generation: Int { generationCounter.load(ordering: .acquiring) }

    /// Swaps in a new zone set atomically: a query sees the old set or the new one, never a mix.
    public func replace(with new: ZoneSet) {
        state.withLock { $0 = new }
        generationCounter.add(1, ordering: .releasing)
    }

    /// The set together with the generation it belongs to.
    public func snapshot() -> (ZoneSet, Int) {
        // Read the generation first: if a swap races with us we fetch again next time.
        let g = generationCounter.load(ordering: .acquiring)
        return (state.withLock { $0 }, g)
    }
}
