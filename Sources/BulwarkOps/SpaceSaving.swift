// Space-Saving (Metwally, Agrawal, El Abbadi, "Efficient Computation of Frequent and
// Top-k Elements in Data Streams", ICDT 2005): the heavy hitters of a stream in k
// counters. A key already monitored gets +1; a new key replaces the monitored key with
// the smallest count c and starts at c + 1 with error c. Guarantees: every key with true
// frequency > N/k is monitored, and for every monitored key
// count - error ≤ true frequency ≤ count.
//
// Memory is fixed at construction (k keys of at most `keyCapacity` octets, an open
// addressing index of 2k slots, a binary min-heap): a random-subdomain flood of
// millions of distinct names cannot grow it. An update is a hash, a probe, and a heap
// sift of at most log2(k) steps (8 for k = 256): constant for a given k.

public struct SpaceSaving: Sendable {
    public struct Item: Sendable, Equatable {
        public var key: [UInt8]
        public var count: UInt64
        public var error: UInt64
    }

    public let capacity: Int
    public let keyCapacity: Int
    /// Total weight seen.
    public private(set) var total: UInt64 = 0

    private var keys: [UInt8]          // capacity * keyCapacity
    private var keyLengths: [UInt16]
    private var hashes: [UInt64]
    private var counts: [UInt64]
    private var errors: [UInt64]
    private var heap: [Int32]          // counter indices, min-heap by count
    private var heapPos: [Int32]       // counter index → heap position
    private var index: [Int32]         // open addressing: counter index or -1
    private var used = 0

    public init(capacity: Int, keyCapacity: Int) {
        self.capacity = max(1, capacity)
        self.keyCapacity = keyCapacity
        keys = [UInt8](repeating: 0, count: self.capacity * keyCapacity)
        keyLengths = [UInt16](repeating: 0, count: self.capacity)
        hashes = [UInt64](repeating: 0, count: self.capacity)
        counts = [UInt64](repeating: 0, count: self.capacity)
        errors = [UInt64](repeating: 0, count: self.capacity)
        heap = [Int32](repeating: 0, count: self.capacity)
        heapPos = [Int32](repeating: 0, count: self.capacity)
        var slots = 4
        while slots < 2 * self.capacity { slots <<= 1 }
        index = [Int32](repeating: -1, count: slots)
    }

    /// Octets of memory held, whatever the stream: constant after init.
    public var memoryBytes: Int {
        keys.capacity + keyLengths.capacity * 2 + (hashes.capacity + counts.capacity + errors.capacity) * 8
            + (heap.capacity + heapPos.capacity + index.capacity) * 4
    }

    public var monitored: Int { used }

    /// FNV-1a over the key.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h | 1
    }

    public mutating func add(_ key: [UInt8], weight: UInt64 = 1, error: UInt64 = 0) {
        key.withUnsafeBytes { add($0, weight: weight, error: error) }
    }

    /// Counts `key` (cut to `keyCapacity` octets) with `weight`, of which up to `error`
    /// may be overestimate already (when merging another sketch's item).
    public mutating func add(_ keyIn: UnsafeRawBufferPointer, weight: UInt64 = 1, error: UInt64 = 0) {
        let key = UnsafeRawBufferPointer(rebasing: keyIn[0..<min(keyIn.count, keyCapacity)])
        total &+= weight
        let h = Self.hash(key)
        let mask = index.count - 1
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let c = Int(index[s])
            if c < 0 { break }
            if hashes[c] == h && equal(c, key) {
                counts[c] &+= weight
                errors[c] &+= error
                siftDown(Int(heapPos[c]))
                return
            }
            s = (s + 1) & mask
        }
        if used < capacity {
            let c = used
            used += 1
            store(c, key, h)
            counts[c] = weight
            errors[c] = error
            index[s] = Int32(c)
            heap[c] = Int32(c)
            heapPos[c] = Int32(c)
            siftUp(c)
            return
        }
        // Replace the minimum (the heap's root).
        let c = Int(heap[0])
        removeFromIndex(c)
        let minCount = counts[c]
        store(c, key, h)
        counts[c] = minCount &+ weight
        errors[c] = minCount &+ error
        // Re-probe: removal may have moved entries.
        var t = Int(truncatingIfNeeded: h) & mask
        while index[t] >= 0 { t = (t + 1) & mask }
        index[t] = Int32(c)
        siftDown(0)
    }

    /// The monitored keys, largest count first.
    public func top(_ n: Int = .max) -> [Item] {
        var items: [Item] = []
        items.reserveCapacity(used)
        for c in 0..<used {
            let start = c * keyCapacity
            items.append(Item(key: Array(keys[start..<(start + Int(keyLengths[c]))]), count: counts[c], error: errors[c]))
        }
        items.sort { $0.count != $1.count ? $0.count > $1.count : $0.key.lexicographicallyPrecedes($1.key) }
        return Array(items.prefix(n))
    }

    /// Adds every monitored key of `other` (merging slices or workers; the result keeps
    /// the guarantee with the summed errors).
    public mutating func merge(_ other: SpaceSaving) {
        for item in other.top() { add(item.key, weight: item.count, error: item.error) }
    }

    public mutating func reset() {
        for i in 0..<index.count { index[i] = -1 }
        used = 0
        total = 0
    }

    // MARK: internals

    @inline(__always)
    private func equal(_ c: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        guard Int(keyLengths[c]) == key.count else { return false }
        return keys.withUnsafeBytes { k in
            let start = c * keyCapacity
            for i in 0..<key.count where k[start + i] != key[i] { return false }
            return true
        }
    }

    private mutating func store(_ c: Int, _ key: UnsafeRawBufferPointer, _ h: UInt64) {
        let start = c * keyCapacity
        keys.withUnsafeMutableBytes { k in
            for i in 0..<key.count { k[start + i] = key[i] }
        }
        keyLengths[c] = UInt16(key.count)
        hashes[c] = h
    }

    /// Deletes counter `c` from the index (backward-shift deletion for linear probing).
    private mutating func removeFromIndex(_ c: Int) {
        let mask = index.count - 1
        var s = Int(truncatingIfNeeded: hashes[c]) & mask
        while Int(index[s]) != c { s = (s + 1) & mask }
        var hole = s
        var j = (s + 1) & mask
        while index[j] >= 0 {
            let home = Int(truncatingIfNeeded: hashes[Int(index[j])]) & mask
            // Move j into the hole when its home is not in (hole, j] cyclically.
            let inRange = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !inRange {
                index[hole] = index[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        index[hole] = -1
    }

    private mutating func swapHeap(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        heapPos[Int(heap[a])] = Int32(a)
        heapPos[Int(heap[b])] = Int32(b)
    }

    private mutating func siftUp(_ pos: Int) {
        var i = pos
        while i > 0 {
            let p = (i - 1) / 2
            guard counts[Int(heap[i])] < counts[Int(heap[p])] else { break }
            swapHeap(i, p)
            i = p
        }
    }

    private mutating func siftDown(_ pos: Int) {
        var i = pos
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < used && counts[Int(heap[l])] < counts[Int(heap[m])] { m = l }
            if r < used && counts[Int(heap[r])] < counts[Int(heap[m])] { m = r }
            if m == i { return }
            swapHeap(i, m)
            i = m
        }
    }
}
