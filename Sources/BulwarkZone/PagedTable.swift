// Persistent tables for zone data: pages shared between the versions of a zone. An edit
// copies only the pages it writes, so a new version costs what the change touched and
// shares everything else (path copying over a two-level tree: BIND 9.20 shares its
// qp-trie's chunks between versions the same way). Readers go through a directory of
// raw page addresses: no lock and no reference counting per access.
//
// Every page but the last is full; the last one grows by doubling up to the page size,
// so a zone of ten records takes a few hundred octets, not a page per table.
import Synchronization

/// One page of a table: one allocation, freed with the last version that holds it.
@usableFromInline package final class TablePage<Element>: @unchecked Sendable {
    // @unchecked: written only by the edit whose `epoch` it carries, before that edit's
    // zone is published; read-only afterwards.
    @usableFromInline let base: UnsafeMutablePointer<Element>
    let capacity: Int
    let epoch: UInt64

    init(capacity: Int, epoch: UInt64) {
        self.base = .allocate(capacity: capacity)
        self.capacity = capacity
        self.epoch = epoch
    }

    /// A page of `capacity` holding the first `count` elements of `other`.
    convenience init(copying other: TablePage<Element>, count: Int, capacity: Int, epoch: UInt64) {
        self.init(capacity: capacity, epoch: epoch)
        base.initialize(from: other.base, count: count)
    }

    deinit { base.deallocate() }  // elements are trivial: nothing to deinitialize
}

/// Hands out edit epochs: a page made by an edit may be written by that edit only.
package enum EditEpoch {
    private static let counter = Atomic<UInt64>(0)
    package static func next() -> UInt64 { counter.add(1, ordering: .relaxed).newValue }
}

/// An array of trivial elements in pages of 1024, copied page by page on write.
@usableFromInline package struct PagedTable<Element>: @unchecked Sendable {
    // @unchecked: see TablePage; a table held by a published zone is never written.
    @usableFromInline static var shift: Int { 10 }
    @usableFromInline static var pageSize: Int { 1 << shift }

    private var pages: ContiguousArray<TablePage<Element>> = []
    /// The pages' base addresses, for reads.
    @usableFromInline var bases: ContiguousArray<UnsafeMutablePointer<Element>> = []
    package private(set) var count = 0
    /// The edit writing this copy of the table; pages of other epochs are copied first.
    package var epoch: UInt64

    package init(epoch: UInt64) { self.epoch = epoch }

    /// `count` copies of `value`.
    package init(repeating value: Element, count: Int, epoch: UInt64) {
        self.epoch = epoch
        var left = count
        while left > 0 {
            let n = min(left, Self.pageSize)
            let page = TablePage<Element>(capacity: n, epoch: epoch)
            page.base.initialize(repeating: value, count: n)
            pages.append(page)
            bases.append(page.base)
            left -= n
        }
        self.count = count
    }

    @inlinable @inline(__always)
    package subscript(index: Int) -> Element {
        get { bases[index &>> Self.shift][index & (Self.pageSize - 1)] }
        set { writable(index).pointee = newValue }
    }

    /// Elements used in page `p`.
    private func used(_ p: Int) -> Int { min(Self.pageSize, count - p << Self.shift) }

    /// Replaces page `p` by a copy of this epoch with `capacity`.
    private mutating func copyPage(_ p: Int, capacity: Int) {
        let copy = TablePage(copying: pages[p], count: used(p), capacity: capacity, epoch: epoch)
        pages[p] = copy
        bases[p] = copy.base
    }

    /// The address of element `index` in a page this edit owns (copying the page first).
    @usableFromInline
    package mutating func writable(_ index: Int) -> UnsafeMutablePointer<Element> {
        precondition(index >= 0 && index < count, "PagedTable index out of range")
        let p = index >> Self.shift
        if pages[p].epoch != epoch { copyPage(p, capacity: pages[p].capacity) }
        return bases[p] + (index & (Self.pageSize - 1))
    }

    /// Appends `value`; returns its index.
    @discardableResult
    package mutating func append(_ value: Element) -> Int {
        let index = count
        let p = index >> Self.shift, inPage = index & (Self.pageSize - 1)
        if p == pages.count {
            // A first page starts small; later ones are full pages.
            let page = TablePage<Element>(capacity: p == 0 ? 8 : Self.pageSize, epoch: epoch)
            pages.append(page)
            bases.append(page.base)
        } else if inPage == pages[p].capacity {
            copyPage(p, capacity: min(Self.pageSize, pages[p].capacity * 2))
        } else if pages[p].epoch != epoch {
            copyPage(p, capacity: pages[p].capacity)
        }
        (bases[p] + inPage).initialize(to: value)
        count += 1
        return index
    }

    /// Gives back the last page's unused room, when this edit owns it (after a build).
    package mutating func shrinkToFit() {
        guard let last = pages.last, last.epoch == epoch else { return }
        let n = used(pages.count - 1)
        if last.capacity > n + n / 8 + 4 { copyPage(pages.count - 1, capacity: n) }
    }

    /// The bytes the pages take.
    package var allocatedBytes: Int { pages.reduce(0) { $0 + $1.capacity } * MemoryLayout<Element>.stride }

    /// The bytes of the pages this table shares with `other` (the same page at the same place).
    package func sharedBytes(with other: PagedTable<Element>) -> Int {
        sharedCapacity(pages, other.pages) * MemoryLayout<Element>.stride
    }
}

/// Bytes in pages of up to 128 KiB, appended only: an item (a name, a record of at most
/// 10 + 65535 octets) never straddles two pages, so an offset names it in one piece.
@usableFromInline package struct PagedBytes: @unchecked Sendable {
    @usableFromInline static var shift: Int { 17 }
    @usableFromInline static var pageSize: Int { 1 << shift }

    private var pages: ContiguousArray<TablePage<UInt8>> = []
    @usableFromInline var bases: ContiguousArray<UnsafeMutablePointer<UInt8>> = []
    /// Where the next item goes.
    package private(set) var end = 0
    package var epoch: UInt64

    package init(epoch: UInt64) { self.epoch = epoch }

    /// The address of the item at `offset`.
    @inlinable @inline(__always)
    package func address(_ offset: Int) -> UnsafePointer<UInt8> {
        UnsafePointer(bases[offset &>> Self.shift] + (offset & (Self.pageSize - 1)))
    }

    /// Octets used in the last page.
    private var usedInLast: Int { pages.isEmpty ? 0 : end - (pages.count - 1) << Self.shift }

    private mutating func copyLast(capacity: Int) {
        let p = pages.count - 1
        let copy = TablePage(copying: pages[p], count: usedInLast, capacity: capacity, epoch: epoch)
        pages[p] = copy
        bases[p] = copy.base
    }

    /// Reserves `count` bytes for one item and returns its offset and address (in a page
    /// of this edit: a page shared with an older version is copied before the first write).
    package mutating func reserve(_ count: Int) -> (offset: Int, address: UnsafeMutablePointer<UInt8>) {
        precondition(count <= Self.pageSize, "an item larger than a page")
        let inPage = usedInLast
        if pages.isEmpty || inPage + count > Self.pageSize {
            // A new page (the rest of the last one stays unused). A first page starts small.
            let capacity = pages.isEmpty ? max(256, count) : Self.pageSize
            let page = TablePage<UInt8>(capacity: capacity, epoch: epoch)
            pages.append(page)
            bases.append(page.base)
            end = (pages.count - 1) << Self.shift
        } else if inPage + count > pages[pages.count - 1].capacity {
            var capacity = pages[pages.count - 1].capacity * 2
            while capacity < inPage + count { capacity *= 2 }
            copyLast(capacity: min(Self.pageSize, capacity))
        } else if pages[pages.count - 1].epoch != epoch {
            copyLast(capacity: pages[pages.count - 1].capacity)
        }
        let offset = end
        end += count
        return (offset, bases[pages.count - 1] + (offset & (Self.pageSize - 1)))
    }

    /// The bytes of the item at `offset`.
    package func bytes(at offset: Int, count: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: address(offset), count: count))
    }

    /// Gives back the last page's unused room, when this edit owns it (after a build).
    package mutating func shrinkToFit() {
        guard let last = pages.last, last.epoch == epoch else { return }
        let n = usedInLast
        if last.capacity > n + n / 8 + 64 { copyLast(capacity: max(n, 1)) }
    }

    package var allocatedBytes: Int { pages.reduce(0) { $0 + $1.capacity } }

    /// The bytes of the pages this table shares with `other`.
    package func sharedBytes(with other: PagedBytes) -> Int { sharedCapacity(pages, other.pages) }
}

/// The capacity of the pages two page lists have in common, place by place.
private func sharedCapacity<Element>(_ a: ContiguousArray<TablePage<Element>>, _ b: ContiguousArray<TablePage<Element>>) -> Int {
    var total = 0
    for i in 0..<min(a.count, b.count) where a[i] === b[i] { total += a[i].capacity }
    return total
}
