// The zones of a zone set in pages shared between the set's versions, as PagedTable
// shares a zone's tables: publishing one zone copies the one page it writes. A page
// holds its zones (strong references) and releases them when the last version holding
// the page goes, so an old version keeps its zones alive for the queries still using it.

/// One page of zone references: one allocation of `capacity` slots, every one
/// initialized (nil where no zone is), released in deinit.
@usableFromInline package final class ZonePage: @unchecked Sendable {
    // @unchecked: written only by the edit whose `epoch` it carries, before that edit's
    // set is published; read-only afterwards.
    static var capacity: Int { PagedZones.pageSize }
    @usableFromInline let base: UnsafeMutablePointer<Zone?>
    let epoch: UInt64

    init(epoch: UInt64) {
        base = .allocate(capacity: Self.capacity)
        base.initialize(repeating: nil, count: Self.capacity)
        self.epoch = epoch
    }

    /// A copy of `other` for the edit `epoch` (retaining its zones).
    init(copying other: ZonePage, epoch: UInt64) {
        base = .allocate(capacity: Self.capacity)
        base.initialize(from: other.base, count: Self.capacity)
        self.epoch = epoch
    }

    deinit {
        base.deinitialize(count: Self.capacity)
        base.deallocate()
    }
}

/// An array of zones in pages of 256, copied page by page on write. Indices stay dense:
/// the set removes a zone by moving its last one into the hole.
@usableFromInline package struct PagedZones: @unchecked Sendable {
    // @unchecked: see ZonePage; the table of a published set is never written.
    @usableFromInline static var shift: Int { 8 }
    @usableFromInline static var pageSize: Int { 1 << shift }

    private var pages: ContiguousArray<ZonePage> = []
    /// The pages' base addresses, for reads.
    @usableFromInline var bases: ContiguousArray<UnsafeMutablePointer<Zone?>> = []
    package private(set) var count = 0
    /// The edit writing this copy; pages of other epochs are copied before they are written.
    package var epoch: UInt64

    package init(epoch: UInt64) { self.epoch = epoch }

    /// The zone at `index` (< count).
    @inlinable @inline(__always)
    package subscript(index: Int) -> Zone {
        bases[index &>> Self.shift][index & (Self.pageSize - 1)].unsafelyUnwrapped
    }

    /// Whether the page holding `index` is the same page in `other` (one both versions
    /// share: the same zones at the same indices).
    package func sharesPage(of index: Int, with other: PagedZones) -> Bool {
        let p = index >> Self.shift
        return p < bases.count && p < other.bases.count && bases[p] == other.bases[p]
    }

    /// The slot of `index` in a page this edit owns (copying the page first).
    private mutating func writable(_ index: Int) -> UnsafeMutablePointer<Zone?> {
        let p = index >> Self.shift
        if pages[p].epoch != epoch {
            let copy = ZonePage(copying: pages[p], epoch: epoch)
            pages[p] = copy
            bases[p] = copy.base
        }
        return bases[p] + (index & (Self.pageSize - 1))
    }

    /// Puts `zone` at `index` (< count), releasing the zone there.
    package mutating func set(_ index: Int, to zone: Zone) {
        precondition(index >= 0 && index < count, "PagedZones index out of range")
        writable(index).pointee = zone
    }

    /// Appends `zone`; returns its index.
    @discardableResult
    package mutating func append(_ zone: Zone) -> Int {
        if count == pages.count << Self.shift {
            let page = ZonePage(epoch: epoch)
            pages.append(page)
            bases.append(page.base)
        }
        count += 1
        writable(count - 1).pointee = zone
        return count - 1
    }

    /// Drops the last zone (and its page once empty).
    package mutating func removeLast() {
        precondition(count > 0, "removeLast of no zones")
        count -= 1
        if count & (Self.pageSize - 1) == 0 {
            pages.removeLast()
            bases.removeLast()
        } else {
            writable(count).pointee = nil
        }
    }

    /// The bytes the pages take.
    package var allocatedBytes: Int { pages.count * Self.pageSize * MemoryLayout<Zone?>.stride }
}
