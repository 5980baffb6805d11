import BulwarkWire

/// The checker's index from owner names to node numbers: open addressing with linear
/// probing over 32-bit slots, the name's hash kept per node for growing. About twice
/// as fast as `Dictionary<NameKey, Int32>` on a million names, mostly by touching
/// less memory; the hash is seeded per process so crafted names cannot force
/// collisions.
struct NameTable {
    /// Node number plus one in each slot; 0 is empty.
    private var slots: [UInt32]
    private var mask: Int
    /// Hash of each node's name, by node number.
    private(set) var hashes: [UInt64] = []

    private static let seed = UInt64.random(in: .min ... .max)

    init(expected: Int) {
        var capacity = 16
        while capacity < expected * 2 { capacity <<= 1 }
        slots = [UInt32](repeating: 0, count: capacity)
        mask = capacity - 1
        hashes.reserveCapacity(expected)
    }

    var count: Int { hashes.count }

    /// FNV-1a over the lower-cased octets of `wire[start...]`, then a final mix.
    static func hash(_ wire: [UInt8], from start: Int) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        wire.withUnsafeBufferPointer { b in
            var i = start
            while i < b.count {
                h = (h ^ UInt64(asciiLower(b[i]))) &* 0x0000_0100_0000_01B3
                i += 1
            }
        }
        h ^= h >> 32
        h &*= 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        return h
    }

    /// The node whose name hashes to `hash` and for which `matches` holds.
    func find(hash: UInt64, matches: (Int32) -> Bool) -> Int32? {
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[i]
            if slot == 0 { return nil }
            let node = Int32(slot - 1)
            if hashes[Int(node)] == hash && matches(node) { return node }
            i = (i + 1) & mask
        }
    }

    /// Adds the next node (number `count`) under `hash`.
    mutating func append(hash: UInt64) {
        hashes.append(hash)
        if hashes.count * 2 > slots.count { grow() }
        place(UInt32(hashes.count), hash: hash)
    }

    private mutating func place(_ slot: UInt32, hash: UInt64) {
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = slot
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = [UInt32](repeating: 0, count: capacity)
        mask = capacity - 1
        for (node, hash) in hashes.enumerated().dropLast() {
            place(UInt32(node + 1), hash: hash)
        }
    }
}
