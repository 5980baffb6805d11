// Where the names of a zone were written in the response being encoded, for name
// compression (RFC 1035 §4.1.4): NSD's per-answer offset table, keyed by (zone index,
// name index) in a small fixed table instead of one slot per name of every zone, so
// nothing in it grows with the zones. Open addressing, linear probing; an entry counts
// only when its stamp is the response's, so a new response starts empty without
// clearing anything. Every entry taken is logged in order, so the table can go back to
// a mark (an RRset that did not fit is taken back, hickory's rollback): removing the
// entries taken last, newest first, never breaks a probe run of an older one (an older
// entry's run was complete before the newer ones were placed).
import BulwarkZone

/// One name written in the response: its key and where it starts.
struct CompressionEntry {
    var key: UInt64
    var stamp: UInt32
    var offset: UInt16

    static let unused = CompressionEntry(key: 0, stamp: 0, offset: 0)
}

/// The compression table of one response, over the worker's entries (AnswerScratch).
struct CompressionTable {
    /// Entries per worker: 2^bits.
    static let bits = 9
    static let capacity = 1 << bits
    /// Names registered at most: past this the table stops taking names (the rest of the
    /// response is compressed less, never wrongly), so a probe always meets a free entry.
    static let limit = capacity * 3 / 4

    let entries: UnsafeMutablePointer<CompressionEntry>
    /// The index of every entry taken, in order (`limit` of them at most).
    let log: UnsafeMutablePointer<UInt16>
    let stamp: UInt32
    /// Entries taken so far: also the length of `log`, and what `mark` returns.
    private(set) var count = 0

    init(entries: UnsafeMutablePointer<CompressionEntry>, log: UnsafeMutablePointer<UInt16>, stamp: UInt32) {
        self.entries = entries
        self.log = log
        self.stamp = stamp
    }

    /// A point to come back to with `rollback(to:)`.
    @inline(__always)
    var mark: Int { count }

    /// Forgets every name recorded since `mark`: the octets they pointed at are being
    /// taken back. Stamp 0 is never a response's (AnswerScratch.nextCompressionStamp).
    @inline(__always)
    mutating func rollback(to mark: Int) {
        while count > mark {
            count -= 1
            entries[Int(log[count])].stamp = 0
        }
    }

    @inline(__always)
    static func key(_ zone: ZoneIndex, _ name: Int) -> UInt64 {
        UInt64(UInt32(bitPattern: zone.raw)) << 32 | UInt64(UInt32(truncatingIfNeeded: name))
    }

    /// Where the name `key` was written, or the free entry to record it in (`at`).
    @inline(__always)
    func find(_ key: UInt64) -> (offset: Int?, at: Int) {
        // Fibonacci hashing: the top bits of the product.
        var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - Self.bits))
        while true {
            let e = entries[i]
            if e.stamp != stamp { return (nil, i) }
            if e.key == key { return (Int(e.offset), i) }
            i = (i + 1) & (Self.capacity - 1)
        }
    }

    /// Records that the name `key` starts at `offset`, in the free entry `at` that `find`
    /// returned; nothing once the table has taken `limit` names.
    @inline(__always)
    mutating func record(_ key: UInt64, offset: Int, at index: Int) {
        guard count < Self.limit else { return }
        entries[index] = CompressionEntry(key: key, stamp: stamp, offset: UInt16(offset))
        log[count] = UInt16(index)
        count += 1
    }
}
