// The secondary zones: for each, the timers of RFC 1034 §4.3.5, transfers in from its
// primaries (tried in order), the on-disk copy, NOTIFY handling (RFC 1996), and the
// expired state (SERVFAIL unless serve-expired). Each zone has a task of its own that
// sleeps until its timers say something is due; the connections to the primaries run
// on the server's event loops (TransferConnection), file writes on NIO's thread pool.
import BulwarkDefences
import BulwarkTransfer
import BulwarkWire
import BulwarkZone
import Foundation
import Logging
import NIOCore
import NIOPosix

/// What a NOTIFY for a zone leads to (RFC 1996 §3.7–3.11).
public enum NotifyVerdict: Sendable, Equatable {
    /// Accepted: a refresh is scheduled now. Answer NOERROR.
    case accepted
    /// We hold no such secondary zone: NOTAUTH (as Knot; RFC 1996 §3.10 leaves it open).
    case notSecondary
    /// The sender is not one of the zone's primaries nor in allow-notify: REFUSED.
    case refused
}

/// What the manager did, per zone (for logs, tests and metrics).
public struct SecondaryZoneStatus: Sendable {
    public var name: DNSName
    public var serial: UInt32?
    public var expired: Bool
    public var axfrCount: Int
    public var ixfrCount: Int
    public var upToDateCount: Int
    public var failureCount: Int
    public var lastError: String?
}

public final class SecondaryZones: @unchecked Sendable {
    // @unchecked: every mutable field of the manager and of its entries is guarded by `lock`.
    final class Entry: @unchecked Sendable {
        var config: SecondaryZoneConfig
        /// No longer configured (SIGHUP): a refresh in progress must not publish.
        var removed = false
        var timers: SecondaryTimers
        /// The version held (with data), even while the expired stand-in is served.
        var zone: Zone?
        /// The expired stand-in is what the catalog serves.
        var expiredServed = false
        var running = false
        /// A NOTIFY arrived during a refresh: check again when it ends.
        var notifyPending = false
        var status: SecondaryZoneStatus
        /// The zone's own task: waits for what is due, then does it (see `run`).
        var task: Task<Void, Never>?
        /// Cuts the task's wait short (a NOTIFY, new settings, removal).
        let wakeup = ZoneWakeup()

        init(config: SecondaryZoneConfig, now: Date) {
            self.config = config
            timers = SecondaryTimers(now: now)
            status = SecondaryZoneStatus(name: config.name, serial: nil, expired: false, axfrCount: 0, ixfrCount: 0,
                                         upToDateCount: 0, failureCount: 0, lastError: nil)
        }

        /// The next moment something is due: a check, or the expiry of the version held.
        func due() -> Date {
            var d = timers.nextCheck
            if !expiredServed && !config.serveExpired, let e = timers.expiresAt, e < d { d = e }
            return d
        }
    }

    public let catalog: ZoneCatalog
    public let disk: SecondaryDiskCopy
    private let logger: Logger
    private let lock = NSLock()
    private var entries: [DNSName: Entry] = [:]
    private var order: [Entry] = []
    private var stopping = false
    private var started = false
    /// Where the connections to the primaries run (the server's TCP event loops).
    private let group: any EventLoopGroup
    /// Signs transfer queries and checks responses for a primary's key name (TSIG).
    private let authenticator: @Sendable (String) -> (any TransferAuthenticator)?
    /// Seconds allowed to connect, and for each read or write.
    public var connectTimeout: Double = 5
    public var ioTimeout: Double = 15
    let clock: @Sendable () -> Date

    /// Told of every transfer in: the zone, `AXFR` or `IXFR` (`transfer` when it failed
    /// before the kind was known), and whether it succeeded. Set before `start`.
    public var onTransfer: (@Sendable (_ zone: String, _ kind: String, _ succeeded: Bool) -> Void)?

    public init(zones: [SecondaryZoneConfig], catalog: ZoneCatalog, dataDir: String, logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                authenticator: @escaping @Sendable (String) -> (any TransferAuthenticator)? = { _ in nil },
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.catalog = catalog
        self.disk = SecondaryDiskCopy(dataDir: dataDir)
        self.logger = logger
        self.group = group
        self.authenticator = authenticator
        self.clock = clock
        let now = clock()
        for z in zones {
            let e = Entry(config: z, now: now)
            entries[z.name] = e
            order.append(e)
        }
    }

    public var zoneNames: [DNSName] {
        lock.withLock { order.map(\.config.name) }
    }

    /// Serves each zone's on-disk copy at once (the expired stand-in if it expired while
    /// we were down and serve-expired is off). Call before listening.
    public func loadCopies() {
        loadCopies(lock.withLock { order })
    }

    private func loadCopies(_ list: [Entry]) {
        let now = clock()
        for e in list {
            let name = e.config.name
            var zone: Zone?
            do {
                zone = try disk.read(name)
            } catch {
                logger.error("secondary zone \(name): ignoring the on-disk copy: \(error)")
                zone = nil
            }
            guard let zone else {
                logger.info("secondary zone \(name): no copy yet; answering SERVFAIL until a transfer from \(e.config.primaries.map(\.description).joined(separator: ", ")) succeeds")
                // As Knot and BIND: a configured zone not loaded yet is SERVFAIL, not REFUSED.
                lock.withLock { e.expiredServed = true }
                publish(Zone(expiredStandInFor: Self.notYetLoaded(name)), name)
                continue
            }
            guard let soa = try? SOAFields(record: zone.soaRecord) else { continue }
            let state = disk.readState(name)
            let expired = lock.withLock {
                e.zone = zone
                e.timers.loaded(soa, lastRefresh: state?.serial == soa.serial ? state?.lastRefresh : nil, now: now)
                let expired = e.timers.isExpired(now: now) && !e.config.serveExpired
                e.expiredServed = expired
                e.status.serial = soa.serial
                e.status.expired = expired
                return expired
            }
            publish(expired ? Zone(expiredStandInFor: zone) : zone, name)
            logger.info("secondary zone \(name): serving serial \(soa.serial) from the on-disk copy\(expired ? " (expired: SERVFAIL until a primary answers)" : "")")
        }
    }

    /// Starts one task per zone, each driven by its own timers: a slow or dead primary
    /// holds up only the zones it serves. Idempotent; zones added by a reconfiguration
    /// get their task at once once started.
    public func start() {
        let list: [Entry] = lock.withLock {
            started = true
            return stopping ? [] : order
        }
        for e in list { launch(e) }
    }

    /// Gives `e` its task if it has none.
    private func launch(_ e: Entry) {
        lock.withLock {
            guard e.task == nil, !e.removed, !stopping else { return }
            e.task = Task { [self] in await self.run(e) }
        }
    }

    /// Stops every zone's task: a transfer in progress is abandoned (its connection
    /// closed) and nothing more is published. Waits for the tasks two seconds at most (a
    /// connection attempt ends at its connect timeout at worst).
    public func stop() async {
        let tasks: [Task<Void, Never>] = lock.withLock {
            stopping = true
            return order.compactMap(\.task)
        }
        for t in tasks { t.cancel() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for t in tasks { await t.value } }
            group.addTask { try? await Task.sleep(nanoseconds: 2_000_000_000) }
            await group.next()
            group.cancelAll()
        }
    }

    /// The status of every zone.
    public var status: [SecondaryZoneStatus] {
        lock.withLock { order.map(\.status) }
    }

    /// Whether `name` is one of our secondary zones.
    public func holds(_ name: DNSName) -> Bool {
        lock.withLock { entries[name] != nil }
    }

    /// The configuration of a secondary zone.
    public func config(for name: DNSName) -> SecondaryZoneConfig? {
        lock.withLock { entries[name]?.config }
    }

    /// The primary a NOTIFY for `zone` from `sender` comes from (RFC 1996 §3.10: only the
    /// zone's primaries, by address), if any; `allowed` when an allow-notify prefix
    /// matches instead.
    public func notifySource(zone: DNSName, sender: ClientAddress) -> (primary: SecondaryPrimary?, allowed: Bool)? {
        guard let config = self.config(for: zone) else { return nil }
        for p in config.primaries where ClientAddress(p.address.host) == sender { return (p, true) }
        if config.allowNotify.contains(where: { $0.contains(sender) }) { return (nil, true) }
        return (nil, false)
    }

    /// A NOTIFY for `zone` from `sender` (its TSIG, if any, already verified by the
    /// caller). RFC 1996 §3.7: the zone is checked as if its refresh timer ran out.
    public func notify(zone: DNSName, from sender: ClientAddress, serial: UInt32?) -> NotifyVerdict {
        guard let source = notifySource(zone: zone, sender: sender) else { return .notSecondary }
        guard source.allowed else {
            logger.warning("secondary zone \(zone): NOTIFY from \(sender) refused: not a configured primary")
            return .refused
        }
        enum Held { case gone, current, check(Entry) }
        let held: Held = lock.withLock {
            guard let e = entries[zone] else { return .gone }
            // RFC 1996 §3.11: a NOTIFY announcing the serial we hold needs no check.
            if let serial, let held = e.zone?.serial, serial == held, !e.expiredServed { return .current }
            if e.running { e.notifyPending = true } else { e.timers.notified(now: clock()) }
            return .check(e)
        }
        switch held {
        case .gone:
            return .notSecondary
        case .current:
            logger.info("secondary zone \(zone): NOTIFY from \(sender) for serial \(serial!), which we hold")
            return .accepted
        case .check(let e):
            e.wakeup.signal()
            logger.info("secondary zone \(zone): NOTIFY from \(sender)\(serial.map { " (serial \($0))" } ?? ""): checking the primaries now")
            return .accepted
        }
    }

    /// Applies a new list of secondary zones (SIGHUP): new zones are loaded from their
    /// disk copy (if any) and checked at once; zones no longer listed stop being served
    /// (their copy stays on disk); zones whose settings changed are checked at once with
    /// the new settings. Returns the names added, removed and changed.
    @discardableResult
    public func reconfigure(_ zones: [SecondaryZoneConfig]) -> (added: [DNSName], removed: [DNSName], changed: [DNSName]) {
        let now = clock()
        var added: [Entry] = [], removed: [Entry] = [], changed: [Entry] = []
        lock.withLock {
            let wanted = Set(zones.map(\.name))
            for e in order where !wanted.contains(e.config.name) {
                e.removed = true
                entries[e.config.name] = nil
                removed.append(e)
            }
            order.removeAll { $0.removed }
            for z in zones {
                if let e = entries[z.name] {
                    if e.config != z {
                        e.config = z
                        if e.running { e.notifyPending = true } else { e.timers.notified(now: now) }
                        changed.append(e)
                    }
                } else {
                    let e = Entry(config: z, now: now)
                    entries[z.name] = e
                    order.append(e)
                    added.append(e)
                }
            }
        }
        for e in removed {
            // Its task ends at once (a transfer in progress is abandoned).
            lock.withLock { e.task }?.cancel()
            catalog.remove(e.config.name, from: .secondary)
            logger.info("secondary zone \(e.config.name): no longer configured; not served any more")
        }
        loadCopies(added)
        for e in changed {
            e.wakeup.signal()
            logger.info("secondary zone \(e.config.name): settings changed; checking the primaries now")
        }
        if lock.withLock({ started }) { for e in added { launch(e) } }
        return (added.map(\.config.name), removed.map(\.config.name), changed.map(\.config.name))
    }

    // MARK: The zones' tasks

    /// One zone's life: sleep until its timers say something is due (or a NOTIFY or new
    /// settings cut the sleep short), do it, repeat; until removed or stopped.
    private func run(_ e: Entry) async {
        while !Task.isCancelled {
            guard let due = lock.withLock({ e.removed || stopping ? nil : e.due() }) else { return }
            let wait = due.timeIntervalSince(clock())
            if wait > 0 {
                await e.wakeup.sleep(seconds: wait)
                continue
            }
            lock.withLock { e.running = true }
            await step(e, now: clock())
            lock.withLock {
                e.running = false
                if e.notifyPending {
                    e.notifyPending = false
                    e.timers.notified(now: clock())
                }
            }
        }
    }

    /// Does what is due for one zone: expire it, or check its primaries.
    private func step(_ e: Entry, now: Date) async {
        let (config, expireNow, checkDue, held) = lock.withLock {
            let config = e.config
            let expireNow = !e.expiredServed && !config.serveExpired && e.timers.isExpired(now: now)
            if expireNow { e.expiredServed = true; e.status.expired = true }
            return (config, expireNow, e.timers.nextCheck <= now, e.zone)
        }
        let name = config.name
        if expireNow, let held {
            // RFC 1034 §4.3.5: no refresh within EXPIRE: stop answering for the zone.
            logger.error("secondary zone \(name): expired (no primary confirmed serial \(held.serial) within the SOA expire time); answering SERVFAIL")
            publish(Zone(expiredStandInFor: held), name)
        }
        guard checkDue else { return }
        await refresh(e, config, held: held)
    }

    /// Tries each primary in order until one confirms or transfers the zone.
    private func refresh(_ e: Entry, _ config: SecondaryZoneConfig, held: Zone?) async {
        let name = config.name
        var errors: [String] = []
        for primary in config.primaries {
            let result: RefreshResult
            do {
                result = try await refresh(config, from: primary, held: held)
            } catch {
                // Stopped or removed meanwhile: the abandoned attempt is no failure.
                if Task.isCancelled { return }
                logger.warning("secondary zone \(name): refresh from \(primary.address) failed: \(error)")
                onTransfer?(name.description, "transfer", false)
                errors.append("\(primary.address): \(error)")
                continue
            }
            let now = clock()
            switch result {
            case .upToDate(let soa, let primarySerial):
                if primarySerial != soa.serial {
                    logger.warning("secondary zone \(name): \(primary.address) has serial \(primarySerial), older than ours (\(soa.serial)); keeping ours")
                } else {
                    logger.debug("secondary zone \(name): serial \(soa.serial) is current at \(primary.address)")
                }
                let (wasExpired, zone) = lock.withLock {
                    e.timers.refreshed(soa, now: now)
                    e.status.upToDateCount += 1
                    e.status.lastError = nil
                    let wasExpired = e.expiredServed
                    e.expiredServed = false
                    e.status.expired = false
                    return (wasExpired, e.zone)
                }
                if wasExpired, let zone {
                    publish(zone, name)
                    logger.info("secondary zone \(name): no longer expired, serving serial \(soa.serial)")
                }
                await saveState(name, soa.serial, now)
            case .transferred(let zone, let soa, let how):
                lock.withLock {
                    e.zone = zone
                    e.timers.refreshed(soa, now: now)
                    if how.hasPrefix("IXFR") { e.status.ixfrCount += 1 } else { e.status.axfrCount += 1 }
                    e.status.serial = soa.serial
                    e.status.lastError = nil
                    e.expiredServed = false
                    e.status.expired = false
                }
                publish(zone, name)
                onTransfer?(name.description, how.hasPrefix("IXFR") ? "IXFR" : "AXFR", true)
                logger.info("secondary zone \(name): \(how) from \(primary.address): now serving serial \(soa.serial), \(zone.recordCount) records")
                let disk = self.disk
                do {
                    try await NIOThreadPool.singleton.runIfActive { try disk.write(zone) }
                } catch {
                    logger.error("secondary zone \(name): the on-disk copy is not updated (still served from memory): \(error)")
                }
                await saveState(name, soa.serial, now)
            }
            return
        }
        let next = lock.withLock {
            e.timers.failed(now: clock())
            e.status.failureCount += 1
            e.status.lastError = errors.joined(separator: "; ")
            return e.timers.nextCheck
        }
        logger.error("secondary zone \(name): no primary could be refreshed from\(held.map { "; still serving serial \($0.serial)" } ?? ""); next attempt at \(next)")
    }

    /// Writes the zone's refresh state (file I/O: on NIO's blocking-work pool).
    private func saveState(_ name: DNSName, _ serial: UInt32, _ now: Date) async {
        let disk = self.disk
        do {
            try await NIOThreadPool.singleton.runIfActive { try disk.writeState(zone: name, serial: serial, lastRefresh: now) }
        } catch {
            logger.error("secondary zone \(name): its refresh state is not saved: \(error)")
        }
    }

    private func publish(_ zone: Zone, _ name: DNSName) {
        guard lock.withLock({ entries[name] != nil }) else { return }  // removed by a reconfiguration meanwhile
        do {
            try catalog.publish(zone, from: .secondary)
        } catch {
            logger.error("secondary zone \(name): not served: \(error)")
        }
    }

    /// A SOA-only zone for a secondary zone never transferred (serial 0), to build its
    /// SERVFAIL stand-in from.
    static func notYetLoaded(_ name: DNSName) -> Zone {
        var w = WireWriter(capacity: 24)
        w.writeName(.root)
        w.writeName(.root)
        for _ in 0..<5 { w.writeU32(0) }
        return try! Zone(origin: name, records: [ResourceRecord(owner: name, type: .soa, ttl: 0, rdata: w.bytes)])
    }

    enum RefreshResult: Sendable {
        case upToDate(SOAFields, primarySerial: UInt32)
        case transferred(Zone, SOAFields, how: String)
    }

    /// A connection to `primary` for the duration of `body`.
    private func connected<Result: Sendable>(_ config: SecondaryZoneConfig, _ primary: SecondaryPrimary,
                                             _ body: (TransferConnection) async throws(TransferError) -> Result) async throws(TransferError) -> Result {
        try await TransferConnection.with(host: primary.address.host, port: primary.address.port, group: group,
                                          connectTimeout: connectTimeout, ioTimeout: ioTimeout,
                                          totalTimeout: config.transferTimeout, body)
    }

    /// One primary: SOA check, then IXFR (from the version held) or AXFR on the same
    /// connection; an IXFR that fails or does not apply falls back to AXFR (RFC 1995 §4).
    func refresh(_ config: SecondaryZoneConfig, from primary: SecondaryPrimary, held: Zone?) async throws(TransferError) -> RefreshResult {
        var client = TransferClient(zone: config.name, maxTransferSize: config.maxTransferSize)
        if let keyName = primary.keyName {
            guard let auth = authenticator(keyName) else { throw TransferError(.tsig, "key '\(keyName)' is not configured") }
            client.authenticator = auth
        }
        let logger = self.logger
        let first: RefreshResult? = try await connected(config, primary) { (stream) async throws(TransferError) -> RefreshResult? in
            let soaRecord = try await client.querySOA(on: stream)
            let primarySOA = try SOAFields(record: soaRecord)
            guard let held else { return try await Self.axfr(client, stream, config.name) }
            let heldSOARecord = held.soaRecord
            let heldSOA = try SOAFields(record: heldSOARecord)
            // RFC 1982 comparison: transfer only when the primary's serial is newer.
            if !SerialArithmetic.isNewer(primarySOA.serial, than: held.serial) {
                return .upToDate(heldSOA, primarySerial: primarySOA.serial)
            }
            do throws(TransferError) {
                switch try await client.transfer(on: stream, ixfrFrom: heldSOARecord) {
                case .upToDate:
                    return .upToDate(heldSOA, primarySerial: primarySOA.serial)
                case .incremental(let soa, let deltas):
                    let zone = try ZoneDeltaApplier.apply(deltas, to: held)
                    return .transferred(zone, try SOAFields(record: soa),
                                        how: "IXFR serial \(held.serial) -> \(zone.serial) (\(deltas.count) change sequence(s), -\(deltas.reduce(0) { $0 + $1.deleted.count }) +\(deltas.reduce(0) { $0 + $1.added.count }) records)")
                case .full(let soa, var records):
                    let zone = try Self.build(config.name, &records)
                    return .transferred(zone, try SOAFields(record: soa), how: "IXFR (AXFR-style, full zone) serial \(held.serial) -> \(zone.serial)")
                }
            } catch let error where error.kind == .inconsistent || error.kind == .rcode {
                logger.warning("secondary zone \(config.name): IXFR from \(primary.address) not usable (\(error)); falling back to AXFR")
                return nil
            }
        }
        if let first { return first }
        // RFC 1995 §4: AXFR instead, on a fresh connection.
        return try await connected(config, primary) { (stream) async throws(TransferError) -> RefreshResult in
            try await Self.axfr(client, stream, config.name)
        }
    }

    private static func axfr(_ client: TransferClient, _ stream: TransferConnection, _ name: DNSName) async throws(TransferError) -> RefreshResult {
        guard case .full(let soa, var records) = try await client.transfer(on: stream, ixfrFrom: nil) else {
            throw TransferError(.malformed, "AXFR did not return a full zone")
        }
        let zone = try build(name, &records)
        return .transferred(zone, try SOAFields(record: soa), how: "AXFR serial \(zone.serial)")
    }

    private static func build(_ name: DNSName, _ records: inout [ResourceRecord]) throws(TransferError) -> Zone {
        do {
            return try Zone(origin: name, takingRecords: &records)
        } catch {
            throw TransferError(.malformed, "the transferred zone does not build: \(error)")
        }
    }
}

/// Wakes a zone's task before its timer is due. A signal that comes while the task is
/// not asleep is kept for its next sleep, so none is lost.
final class ZoneWakeup: @unchecked Sendable {
    // @unchecked: both fields are guarded by `lock`.
    private let lock = NSLock()
    private var signalled = false
    private var sleeper: Task<Void, any Error>?

    func signal() {
        lock.withLock {
            signalled = true
            sleeper?.cancel()
        }
    }

    /// Sleeps `seconds`, or less when signalled or cancelled.
    func sleep(seconds: Double) async {
        let sleeper: Task<Void, any Error>? = lock.withLock {
            if signalled {
                signalled = false
                return nil
            }
            let nanoseconds = UInt64(min(seconds, 86_400) * 1e9)
            let t = Task { try await Task.sleep(nanoseconds: nanoseconds) }
            self.sleeper = t
            return t
        }
        guard let sleeper else { return }
        await withTaskCancellationHandler {
            _ = await sleeper.result
        } onCancel: {
            sleeper.cancel()
        }
        lock.withLock {
            self.sleeper = nil
            signalled = false
        }
    }
}

extension SecondaryZones {
    /// TSIG for transfers in: the configured keys (`keys:`) by the name a primary gives.
    static func authenticator(for config: ServerSettings) -> @Sendable (String) -> (any TransferAuthenticator)? {
        let keyring = config.transfer.keyring
        return { name in
            guard let n = SecondaryPrimary.keyDNSName(name), let key = keyring.key(named: n) else { return nil }
            return TSIGTransferAuthenticator(key: key)
        }
    }
}
