// Response rate limiting (RRL) as BIND, Knot and NSD do it: a token bucket per client
// prefix and response class, in a fixed table a spoofed-source flood cannot grow.

/// How responses are rate limited. See `RateLimiter` for the rules.
public struct RateLimitSettings: Sendable, Equatable {
    /// Identical responses a client prefix may get per second.
    public var responsesPerSecond: Int = 20
    /// Responses a prefix may get at once after a pause (the bucket's size); nil: one
    /// second's worth, `responsesPerSecond`, as BIND, NSD and Knot size it.
    public var burst: Int?
    /// Seconds a flooding prefix's debt can reach: after a flood stops, its responses
    /// resume within this many seconds (BIND's `window`).
    public var window: Int = 15
    /// Every `slip`th limited response is sent as an empty TC=1 answer (so a real
    /// resolver retries over TCP) and the others are dropped; 0 drops them all, 1 sends
    /// every one truncated.
    public var slip: Int = 2
    public var ipv4PrefixLength: Int = 24
    public var ipv6PrefixLength: Int = 56
    /// Clients never limited.
    public var exempt: [AddressPrefix] = []
    /// Buckets per worker (rounded up to a power of two). Memory: 32 octets each.
    public var tableSize: Int = 65536

    public init() {}
}

/// What a response is, for rate limiting (BIND's and Knot's classes): identical
/// responses share a bucket, so do all NXDOMAIN answers of one zone (a random-subdomain
/// flood) and all referrals to one delegation.
public enum ResponseClass: UInt8, Sendable, CustomStringConvertible {
    /// A positive answer: keyed by query name and type (a wildcard's answers: by its zone).
    case answer = 1
    /// No data (NOERROR, empty answer, authoritative): keyed by query name and type.
    case nodata = 2
    /// Name error: keyed by the zone.
    case nxdomain = 3
    /// A referral: keyed by the delegation point.
    case referral = 4
    /// Any other rcode (REFUSED, FORMERR, NOTIMP...): one bucket per prefix.
    case error = 5

    public var description: String {
        switch self {
        case .answer: return "answers"
        case .nodata: return "no-data answers"
        case .nxdomain: return "NXDOMAIN"
        case .referral: return "referrals"
        case .error: return "errors"
        }
    }
}

/// The per-worker RRL table.
///
/// Each bucket holds a balance in thousandths of a response. It refills at
/// `responsesPerSecond` per second up to `burst` responses; a response takes its cost
/// from it. Below zero the response is limited: dropped, or every `slip`th one sent
/// truncated. While limited the balance can fall to `-window` seconds' worth, so a
/// prefix that keeps flooding stays limited and one that stops is served again within
/// `window` seconds.
///
/// Cost (item 3 of the Defences issue): a response costs one per started 512 octets
/// (`(size + 511) / 512`: 1 for classic-sized answers, 3 for a 1232-octet one), and an
/// ANY query at least 4, so amplification-friendly answers run out first.
///
/// Memory is fixed at creation: `tableSize` buckets, open addressing with at most
/// `probe` slots looked at; a new key takes a free slot or evicts the least recently
/// used of those slots. A flood of spoofed sources only recycles buckets.
///
/// One table per UDP worker, never shared (no lock, no atomics): the rate is per
/// worker. With SO_REUSEPORT the kernel hashes a client's address and port to one
/// socket, so one client's queries meet one table; a prefix whose hosts spread over
/// several workers can get up to `workers` × the rate.
public final class RateLimiter {
    public struct Outcome: Sendable, Equatable {
        public enum Action: UInt8, Sendable { case send, drop, slip }
        public var action: Action
        /// This prefix and class has just started being limited.
        public var started: Bool
        /// This prefix and class was limited and has just been answered again.
        public var ended: Bool
        public static let send = Outcome(action: .send, started: false, ended: false)
    }

    struct Bucket {
        /// 0: empty.
        var key: UInt64
        /// Thousandths of a response.
        var balance: Int64
        /// Milliseconds (truncated clock) of the last update.
        var time: UInt32
        /// Limited responses since limiting started (0: not limiting).
        var limited: UInt32
    }

    public let settings: RateLimitSettings
    static let probe = 8
    let mask: Int
    let table: UnsafeMutablePointer<Bucket>
    let seed: UInt64
    let rate: Int64
    let ceiling: Int64
    let floor: Int64
    let exempt: PrefixSet
    let checkExempt: Bool
    public let ipv4PrefixLength: Int
    public let ipv6PrefixLength: Int
    let slip: UInt32
    /// Responses limited, and of those sent truncated (per worker; read by tests and logs).
    public private(set) var limitedCount = 0
    public private(set) var slippedCount = 0

    public init(settings: RateLimitSettings, seed: UInt64 = UInt64.random(in: 1...UInt64.max)) {
        self.settings = settings
        var size = 64
        while size < settings.tableSize { size <<= 1 }
        mask = size - 1
        table = .allocate(capacity: size)
        table.initialize(repeating: Bucket(key: 0, balance: 0, time: 0, limited: 0), count: size)
        self.seed = seed
        rate = Int64(max(1, settings.responsesPerSecond))
        ceiling = Int64(max(1, settings.burst ?? settings.responsesPerSecond)) * 1000
        floor = -rate * 1000 * Int64(max(1, settings.window))
        exempt = PrefixSet(settings.exempt)
        checkExempt = !settings.exempt.isEmpty
        ipv4PrefixLength = settings.ipv4PrefixLength
        ipv6PrefixLength = settings.ipv6PrefixLength
        slip = UInt32(max(0, settings.slip))
    }

    deinit {
        table.deallocate()
    }

    /// Buckets in the table (memory is this × 32 octets, fixed).
    public var capacity: Int { mask + 1 }

    /// Buckets in use (a test helper: walks the table).
    public var occupied: Int {
        var n = 0
        for i in 0...mask where table[i].key != 0 { n += 1 }
        return n
    }

    /// The client is on the exempt list.
    @inline(__always)
    public func isExempt(_ client: ClientAddress) -> Bool {
        checkExempt && exempt.contains(client)
    }

    /// The client's prefix, as this table aggregates it.
    @inline(__always)
    public func prefix(of client: ClientAddress) -> ClientAddress {
        client.masked(client.family == .v6 ? ipv6PrefixLength : ipv4PrefixLength)
    }

    /// A hash of a wire-format name, case folded (ASCII), keyed with this table's seed.
    /// Eight octets at a time: the upper-case letters of a word are found without
    /// branches (a SWAR range test) and get their 0x20 bit.
    @inline(__always)
    public func nameHash(_ name: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = seed ^ UInt64(truncatingIfNeeded: name.count)
        guard let base = name.baseAddress else { return h }
        let n = name.count
        var i = 0
        while i < n {
            var w: UInt64
            if i + 8 <= n {
                w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            } else {
                w = 0
                for k in 0..<(n - i) { w |= UInt64(base.load(fromByteOffset: i + k, as: UInt8.self)) << UInt64(8 * k) }
            }
            let low7 = w & 0x7f7f_7f7f_7f7f_7f7f
            let atLeastA = low7 &+ 0x3f3f_3f3f_3f3f_3f3f     // high bit set where byte ≥ 0x41
            let pastZ = low7 &+ 0x2525_2525_2525_2525        // high bit set where byte ≥ 0x5b
            let upper = atLeastA & ~pastZ & ~w & 0x8080_8080_8080_8080
            w |= upper >> 2
            h = Self.mix(h ^ w)
            i += 8
        }
        return h
    }

    /// The cost of a response: one per started 512 octets, an ANY query at least 4.
    @inline(__always)
    public static func cost(responseSize: Int, qtype: UInt16) -> Int {
        let c = max(1, (responseSize + 511) / 512)
        return qtype == 255 ? max(c, 4) : c
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }

    /// Accounts one response of class `kind` about `name` (a hash: of the query name
    /// and type, of the zone, of the delegation; 0 for errors) to the client's prefix,
    /// at `nowMillis` (any monotonic millisecond clock), and says what to do with it.
    @inline(__always)
    public func account(client: ClientAddress, kind: ResponseClass, name: UInt64, cost: Int,
                        nowMillis: UInt64) -> Outcome {
        let p = prefix(of: client)
        var key = Self.mix(p.high ^ seed)
        key = Self.mix(key ^ p.low)
        key = Self.mix(key ^ name ^ (UInt64(kind.rawValue) << 56) ^ (UInt64(p.family.rawValue) << 48))
        if key == 0 { key = 1 }
        let now = UInt32(truncatingIfNeeded: nowMillis)
        var slot = Int(truncatingIfNeeded: key) & mask
        var found = -1
        var victim = slot
        var victimAge: UInt32 = 0
        for _ in 0..<Self.probe {
            let b = table[slot]
            if b.key == key { found = slot; break }
            if b.key == 0 { victim = slot; victimAge = .max; break }
            let age = now &- b.time
            if age >= victimAge { victim = slot; victimAge = age }
            slot = (slot + 1) & mask
        }
        if found < 0 {
            // A new bucket starts full (a burst). It replaces a free
            // slot or the least recently used one among those probed.
            found = victim
            table[found] = Bucket(key: key, balance: ceiling, time: now, limited: 0)
        }
        let b = table + found
        // Refill for the time since the last response; a clock step back refills nothing.
        let elapsed = Int32(bitPattern: now &- b.pointee.time)
        if elapsed > 0 {
            b.pointee.balance = min(ceiling, b.pointee.balance + rate * Int64(elapsed))
            b.pointee.time = now
        }
        b.pointee.balance -= Int64(cost) * 1000
        if b.pointee.balance >= 0 {
            if b.pointee.limited == 0 { return .send }
            b.pointee.limited = 0
            return Outcome(action: .send, started: false, ended: true)
        }
        if b.pointee.balance < floor { b.pointee.balance = floor }
        b.pointee.limited &+= 1
        limitedCount &+= 1
        let started = b.pointee.limited == 1
        if slip > 0 && b.pointee.limited % slip == 0 {
            slippedCount &+= 1
            return Outcome(action: .slip, started: started, ended: false)
        }
        return Outcome(action: .drop, started: started, ended: false)
    }
}
