// A single-producer, single-consumer ring of sampled queries: a worker (the producer)
// copies a sampled query's name, type, rcode and client into a fixed slot; the insight
// thread (the consumer) drains the ring into its sketches. Positions are published with
// release stores and read with acquire loads: no read-modify-write, no lock, no
// allocation. When the ring is full the sample is lost (and counted by the caller).
import Atomics

/// One drained sample.
public struct QuerySample: Sendable {
    /// The query name in wire form, as received (case kept).
    public var name: [UInt8]
    public var qtype: UInt16
    /// 0–15, or `RCodeBucket.none` (nothing sent).
    public var rcode: UInt8
    /// 4 or 6 (0: unknown).
    public var family: UInt8
    public var tcp: Bool
    /// The client address: IPv4 in the top 32 bits of `high`.
    public var high: UInt64
    public var low: UInt64

    public init(name: [UInt8], qtype: UInt16, rcode: UInt8, family: UInt8, tcp: Bool, high: UInt64, low: UInt64) {
        self.name = name
        self.qtype = qtype
        self.rcode = rcode
        self.family = family
        self.tcp = tcp
        self.high = high
        self.low = low
    }
}

public final class SampleRing: @unchecked Sendable {
    // @unchecked: slots are written by the producer only before it publishes `head`, and
    // read by the consumer only after it has seen that `head` and before it publishes `tail`.
    static let slotSize = 288
    static let nameOffset = 32
    public let capacity: Int
    private let slots: UnsafeMutableRawPointer
    private let head: UnsafeAtomic<Int>  // next slot the producer writes
    private let tail: UnsafeAtomic<Int>  // next slot the consumer reads
    /// Producer-private copies (saves an atomic load per sample).
    private var producerHead = 0

    public init(capacity: Int = 2048) {
        var c = 1
        while c < capacity { c <<= 1 }
        self.capacity = c
        slots = .allocate(byteCount: c * Self.slotSize, alignment: 64)
        head = .create(0)
        tail = .create(0)
    }

    deinit {
        slots.deallocate()
        head.destroy()
        tail.destroy()
    }

    /// Producer: stores one sample; false when the ring is full. `name` is the wire name
    /// (at most 255 octets; longer is cut).
    @inline(__always)
    public func push(name: UnsafeRawBufferPointer, qtype: UInt16, rcode: Int, family: UInt8, tcp: Bool,
                     high: UInt64, low: UInt64) -> Bool {
        let h = producerHead
        if h &- tail.load(ordering: .acquiring) >= capacity { return false }
        let slot = slots + (h & (capacity - 1)) * Self.slotSize
        let n = min(name.count, 255)
        slot.storeBytes(of: UInt16(n), as: UInt16.self)
        slot.storeBytes(of: qtype, toByteOffset: 2, as: UInt16.self)
        slot.storeBytes(of: UInt8(truncatingIfNeeded: rcode), toByteOffset: 4, as: UInt8.self)
        slot.storeBytes(of: family, toByteOffset: 5, as: UInt8.self)
        slot.storeBytes(of: tcp ? 1 : 0, toByteOffset: 6, as: UInt8.self)
        slot.storeBytes(of: high, toByteOffset: 8, as: UInt64.self)
        slot.storeBytes(of: low, toByteOffset: 16, as: UInt64.self)
        if n > 0 { (slot + Self.nameOffset).copyMemory(from: name.baseAddress!, byteCount: n) }
        producerHead = h &+ 1
        head.store(h &+ 1, ordering: .releasing)
        return true
    }

    /// Consumer: calls `body` for every sample published so far (at most `limit`) and frees
    /// their slots. Returns how many were drained.
    @discardableResult
    public func drain(limit: Int = .max, _ body: (QuerySample) -> Void) -> Int {
        let h = head.load(ordering: .acquiring)
        var t = tail.load(ordering: .relaxed)
        var n = 0
        while t != h && n < limit {
            let slot = UnsafeRawPointer(slots + (t & (capacity - 1)) * Self.slotSize)
            let len = Int(slot.loadUnaligned(as: UInt16.self))
            let name = [UInt8](UnsafeRawBufferPointer(start: slot + Self.nameOffset, count: len))
            body(QuerySample(
                name: name,
                qtype: slot.loadUnaligned(fromByteOffset: 2, as: UInt16.self),
                rcode: slot.load(fromByteOffset: 4, as: UInt8.self),
                family: slot.load(fromByteOffset: 5, as: UInt8.self),
                tcp: slot.load(fromByteOffset: 6, as: UInt8.self) != 0,
                high: slot.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                low: slot.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            t &+= 1
            n += 1
        }
        tail.store(t, ordering: .releasing)
        return n
    }
}
