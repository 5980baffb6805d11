// Counters written by exactly one thread and read by others, with no atomic
// read-modify-write: the owner does a relaxed load, an add and a relaxed store (a plain
// `mov` pair on x86-64 and arm64); readers do relaxed loads. A reader may see a value a
// few increments old, never a torn one.
import Atomics

/// A fixed block of 64-bit counters with one writer. A plain pointer wrapper (no
/// reference counting on use); whoever allocates it deallocates it.
public struct CounterCells: @unchecked Sendable {
    // @unchecked: one thread writes (relaxed stores), others only load (relaxed).
    @usableFromInline let base: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
    public let count: Int

    public static func allocate(_ count: Int) -> CounterCells {
        let p = UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>.allocate(capacity: max(1, count))
        p.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: max(1, count))
        return CounterCells(base: p, count: count)
    }

    public func deallocate() { base.deallocate() }

    /// Adds `value` to `cell`. Only the owning thread may call this.
    @inlinable @inline(__always)
    public func add(_ cell: Int, _ value: UInt64 = 1) {
        let a = UnsafeAtomic<UInt64>(at: base + cell)
        a.store(a.load(ordering: .relaxed) &+ value, ordering: .relaxed)
    }

    /// Sets `cell` to `value`. Only the owning thread may call this.
    @inlinable @inline(__always)
    public func store(_ cell: Int, _ value: UInt64) {
        UnsafeAtomic<UInt64>(at: base + cell).store(value, ordering: .relaxed)
    }

    /// `cell` as last stored (any thread).
    @inlinable @inline(__always)
    public func load(_ cell: Int) -> UInt64 {
        UnsafeAtomic<UInt64>(at: base + cell).load(ordering: .relaxed)
    }

    /// Sets every cell to 0 (owner only, or when no writer is left).
    public func reset() {
        for i in 0..<count { store(i, 0) }
    }

    /// Every cell, read once each.
    public func values() -> [UInt64] { (0..<count).map(load) }
}
