// TCP connection limits as a pure state machine: which connection to admit, which to
// close to make room. No sockets and no clock: the caller passes `now` and does the I/O
// (STYLE.md §6), so every rule here is tested without a network.
//
// RFC 7766 §6.2.3 leaves the policy to the server; what this implements is Knot DNS's
// behaviour when tcp-max-clients is reached (idle clients are swept to make room for the
// newcomer) plus a cap per client address (PowerDNS's max-tcp-connections-per-client),
// so one address cannot take the whole table. Clients are `ClientAddress`es, the same
// type the query path keys rate limiting by: ::ffff:a.b.c.d is the IPv4 client a.b.c.d.
import BulwarkDefences

/// The bookkeeping of every open TCP connection, for admission and eviction.
public struct TCPConnectionLimiter: Sendable {
    public typealias ConnectionID = UInt64

    /// What a connection is doing, as far as eviction is concerned.
    public enum Activity: Sendable, Equatable {
        /// Between queries: nothing received but not yet answered, nothing left to send.
        case idle
        /// Part of a query has arrived; the rest has not (a slow or slowloris client).
        case receiving
        /// Answers are waiting to be written: the connection is doing useful work.
        case busy
    }

    /// The answer to a new connection.
    public enum Admission: Sendable, Equatable {
        /// Take it; first close `evicting` (if any), which has already left the table.
        case accept(ConnectionID, evicting: ConnectionID?)
        /// Every slot is in use by connections doing work: close the newcomer.
        case refuseFull
        /// Its address already holds its share, none of them evictable: close the newcomer.
        case refusePerClient
    }

    struct Entry: Equatable {
        var client: ClientAddress
        var activity: Activity
        /// When `activity` began (nanoseconds on the caller's monotonic clock).
        var since: UInt64
    }

    public let maxConnections: Int
    public let maxPerClient: Int
    private(set) var entries: [ConnectionID: Entry] = [:]
    /// Each address's connections (at most `maxPerClient`, so scanning them is cheap).
    private(set) var byClient: [ClientAddress: [ConnectionID]] = [:]
    /// Eviction order without scanning the table: every move to idle (queue 0) or
    /// receiving (queue 1) is appended with its time; an element whose connection has
    /// since changed or closed is stale and skipped. Times only grow (the caller's clock
    /// is monotonic and read under its lock), so each queue's first live element is the
    /// oldest. Stale elements are dropped from the front and by compaction, so the work
    /// per connection and per change is O(1) amortised.
    private var queues: [[(id: ConnectionID, since: UInt64)]] = [[], []]
    private var heads = [0, 0]
    /// Elements held in the eviction queues, stale ones included (tests).
    var queueLengths: [Int] { [queues[0].count, queues[1].count] }
    private var nextID: ConnectionID = 1

    public init(maxConnections: Int, maxPerClient: Int) {
        precondition(maxConnections >= 1 && maxPerClient >= 1)
        self.maxConnections = maxConnections
        self.maxPerClient = maxPerClient
    }

    /// Open connections in the table.
    public var count: Int { entries.count }

    /// Connections from `client` in the table.
    public func count(for client: ClientAddress) -> Int { byClient[client]?.count ?? 0 }

    /// The activity recorded for a connection, nil when it is not in the table.
    public func activity(of id: ConnectionID) -> Activity? { entries[id]?.activity }

    /// A new connection from `client`. When its address is at its limit, one of that
    /// address's own connections is closed to make room if one is evictable; when the
    /// whole table is full, the connection idle longest anywhere (then the oldest
    /// half-received one) is. Busy connections are never evicted.
    public mutating func open(client: ClientAddress, now: UInt64) -> Admission {
        var victim: ConnectionID? = nil
        if count(for: client) >= maxPerClient {
            guard let v = evictionCandidate(from: client) else { return .refusePerClient }
            victim = v
        } else if entries.count >= maxConnections {
            guard let v = evictionCandidate(from: nil) else { return .refuseFull }
            victim = v
        }
        if let victim { close(victim) }
        let id = nextID
        nextID &+= 1
        entries[id] = Entry(client: client, activity: .idle, since: now)
        byClient[client, default: []].append(id)
        enqueue(id, .idle, now)
        return .accept(id, evicting: victim)
    }

    /// The connection closed (or was evicted). Closing an id twice is harmless: an
    /// evicted connection reports its own close later.
    public mutating func close(_ id: ConnectionID) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        var ids = byClient[entry.client] ?? []
        ids.removeAll { $0 == id }
        byClient[entry.client] = ids.isEmpty ? nil : ids
    }

    /// The connection changed what it is doing. A repeated activity keeps its start time
    /// (a slowloris stays "receiving since its first byte").
    public mutating func update(_ id: ConnectionID, to activity: Activity, now: UInt64) {
        guard var entry = entries[id], entry.activity != activity else { return }
        entry.activity = activity
        entry.since = now
        entries[id] = entry
        enqueue(id, activity, now)
    }

    private static func rank(_ activity: Activity) -> Int? {
        switch activity {
        case .idle: return 0
        case .receiving: return 1
        case .busy: return nil
        }
    }

    private func isLive(_ element: (id: ConnectionID, since: UInt64), rank: Int) -> Bool {
        guard let e = entries[element.id] else { return false }
        return e.since == element.since && Self.rank(e.activity) == rank
    }

    private mutating func enqueue(_ id: ConnectionID, _ activity: Activity, _ now: UInt64) {
        guard let r = Self.rank(activity) else { return }
        queues[r].append((id, now))
        if queues[r].count - heads[r] > 2 * entries.count + 64 {
            let live = queues[r][heads[r]...].filter { isLive($0, rank: r) }
            queues[r] = Array(live)
            heads[r] = 0
        } else if heads[r] > 1024 && heads[r] * 2 > queues[r].count {
            queues[r].removeFirst(heads[r])
            heads[r] = 0
        }
    }

    /// Which connection to close: idle ones first, longest idle first (they cost the
    /// server a slot and give nothing); then the half-received query that started
    /// earliest (the slowest sender). `client` restricts the choice to one address.
    mutating func evictionCandidate(from client: ClientAddress?) -> ConnectionID? {
        if let client {
            var best: (id: ConnectionID, rank: Int, since: UInt64)? = nil
            for id in byClient[client] ?? [] {
                guard let entry = entries[id], let rank = Self.rank(entry.activity) else { continue }
                if let b = best, (b.rank, b.since, b.id) <= (rank, entry.since, id) { continue }
                best = (id, rank, entry.since)
            }
            return best?.id
        }
        for r in 0..<2 {
            while heads[r] < queues[r].count {
                let element = queues[r][heads[r]]
                if isLive(element, rank: r) { return element.id }
                heads[r] += 1
            }
        }
        return nil
    }
}
