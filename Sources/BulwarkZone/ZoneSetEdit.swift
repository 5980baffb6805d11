// The next version of a zone set, being made off the query path (the catalog's publish):
// adding a zone writes a page of the zone table and one of the origin table, replacing
// one writes its zone page, removing one moves the last zone into its index and leaves a
// tombstone in the origin table. Pages shared with the previous version are copied
// before their first write (PagedTable's epochs).

struct ZoneSetEdit {
    var zones: PagedZones
    var origins: PagedTable<OriginSlot>
    /// Slots of `origins` in use: zones and tombstones.
    var usedOrigins: Int
    var labelCounts: ContiguousArray<Int32>

    /// An empty set.
    init() {
        let epoch = EditEpoch.next()
        zones = PagedZones(epoch: epoch)
        origins = PagedTable(repeating: .empty, count: 8, epoch: epoch)
        usedOrigins = 0
        labelCounts = ContiguousArray(repeating: 0, count: 128)
    }

    /// The next version of `set`: its tables, shared until written.
    init(from set: ZoneSet) {
        let epoch = EditEpoch.next()
        zones = set.zoneTable
        zones.epoch = epoch
        origins = set.origins
        origins.epoch = epoch
        usedOrigins = set.usedOrigins
        labelCounts = set.labelCounts
    }

    private var mask: Int { origins.count - 1 }

    /// The slot of `zone`'s origin in `origins`, if the set has that origin.
    private func slot(of zone: Zone) -> Int? {
        origins.slot(ofOriginOf: zone, mask: mask, zones: zones)
    }

    /// Serves `zone`: in place of the zone of its origin, or added.
    mutating func put(_ zone: Zone) {
        if let slot = slot(of: zone) {
            zones.set(Int(origins[slot].zone), to: zone)
        } else {
            insert(zone)
        }
    }

    /// Adds `zone` unless its origin is held already.
    mutating func add(_ zone: Zone) {
        if slot(of: zone) == nil { insert(zone) }
    }

    /// Stops serving `zone`'s origin, if held.
    mutating func remove(_ zone: Zone) {
        guard let slot = slot(of: zone) else { return }
        let index = Int(origins[slot].zone)
        origins[slot] = .removed
        labelCounts[zone.originLabelCount] -= 1
        let last = zones.count - 1
        if index != last {
            // Indices stay dense: the last zone takes the hole.
            let moved = zones[last]
            let movedSlot = self.slot(of: moved)!
            origins[movedSlot].zone = Int32(index)
            zones.set(index, to: moved)
        }
        zones.removeLast()
    }

    /// Makes room for `count` more origins, so that at most half the slots are in use:
    /// rebuilds the table (dropping tombstones) at 2.5 times the zones or more, so the
    /// next rebuild is as many insertions away as a fifth of the table (amortized O(1)).
    mutating func reserve(adding count: Int) {
        guard (usedOrigins + count) * 2 > origins.count else { return }
        let live = zones.count + count
        var size = 8
        while size * 2 < 5 * live { size <<= 1 }
        var table = PagedTable<OriginSlot>(repeating: .empty, count: size, epoch: origins.epoch)
        for i in 0..<origins.count where origins[i].zone >= 0 {
            _ = Self.place(origins[i], in: &table)
        }
        origins = table
        usedOrigins = zones.count
    }

    /// Adds `zone`, whose origin the set does not hold.
    private mutating func insert(_ zone: Zone) {
        reserve(adding: 1)
        let index = zones.append(zone)
        if Self.place(OriginSlot(hash: zone[name: zone.apex].hash, zone: Int32(index)), in: &origins) {
            usedOrigins += 1
        }
        labelCounts[zone.originLabelCount] += 1
    }

    /// Puts `slot` in the first free slot of its probe sequence (an empty one or a
    /// tombstone); returns true when that was an empty one.
    private static func place(_ slot: OriginSlot, in table: inout PagedTable<OriginSlot>) -> Bool {
        let mask = table.count - 1
        var i = Int(slot.hash) & mask
        while table[i].zone >= 0 { i = (i + 1) & mask }
        let wasEmpty = table[i].isEmpty
        table[i] = slot
        return wasEmpty
    }
}
