import BulwarkWire

/// The zones one server answers for. The longest matching origin answers a name
/// (a parent and its child can both be held). Immutable: a reload builds a new set.
public final class ZoneSet: @unchecked Sendable {
    // @unchecked: every stored property is a `let` set in init; Zone is immutable.

    public let zones: [Zone]
    @usableFromInline package let zoneArray: ContiguousArray<Zone>
    /// Open-addressing table of zone indices keyed by the origin's lower-cased wire name.
    @usableFromInline package let originSlots: ContiguousArray<ZoneIndex>
    @usableFromInline package let originMask: Int
    /// Bit n set when some origin has n labels: only those suffixes of a name are probed.
    @usableFromInline package let labelCountBits: (UInt64, UInt64)
    /// The zone at `index`.
    @inlinable @inline(__always)
    package subscript(zone index: ZoneIndex) -> Zone { zoneArray[index.value] }

    /// Start of each zone's name indices in the per-response compression table.
    @usableFromInline package let nameBase: ContiguousArray<Int32>
    @usableFromInline package let totalNames: Int

    /// Builds the set. When two zones have the same origin, the first one is kept.
    public init(zones input: [Zone]) {
        var kept: [Zone] = []
        var seen = Set<DNSName>()
        for z in input where seen.insert(z.origin).inserted { kept.append(z) }
        zones = kept
        zoneArray = ContiguousArray(kept)
        var size = 8
        while size < kept.count * 2 { size <<= 1 }
        var slots = ContiguousArray<ZoneIndex>(repeating: .none, count: size)
        var bits: (UInt64, UInt64) = (0, 0)
        var base = ContiguousArray<Int32>()
        var total = 0
        for (i, z) in kept.enumerated() {
            let h = z[name: z.apex].hash
            var s = Int(h) & (size - 1)
            while !slots[s].isNone { s = (s + 1) & (size - 1) }
            slots[s] = ZoneIndex(i)
            let n = z.originLabelCount
            if n < 64 { bits.0 |= 1 << UInt64(n) } else { bits.1 |= 1 << UInt64(n - 64) }
            base.append(Int32(total))
            total += z.nameCount
        }
        originSlots = slots
        originMask = size - 1
        labelCountBits = bits
        nameBase = base
        totalNames = total
    }

    @inlinable @inline(__always)
    package func hasOrigin(withLabels count: Int) -> Bool {
        count < 64 ? labelCountBits.0 & (1 << UInt64(count)) != 0 : labelCountBits.1 & (1 << UInt64(count - 64)) != 0
    }

    /// The zone whose origin is exactly `key` (lower-cased wire), if the set has it.
    @inlinable @inline(__always)
    package func zoneIndex(origin key: UnsafeRawBufferPointer, hash: UInt32) -> ZoneIndex? {
        var i = Int(hash) & originMask
        while true {
            let s = originSlots[i]
            if s.isNone { return nil }
            let z = zoneArray[s.value]
            let e = z[name: z.apex]
            if e.hash == hash && Int(e.length) == key.count {
                if memEqual(z.keyAddress(e), key.baseAddress!, key.count) { return s }
            }
            i = (i + 1) & originMask
        }
    }

    /// The zone that answers for `name`, or nil (tests and tools).
    public func zone(for name: DNSName) -> Zone? {
        var n: DNSName? = name
        while let cur = n {
            if let z = zones.first(where: { $0.origin == cur }) { return z }
            n = cur.parent
        }
        return nil
    }
}
