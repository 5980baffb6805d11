// Zone loading and reloading (SIGHUP). A new ZoneSet is built beside the one being
// served and swapped in whole (ZoneStore.replace), so no query sees a half-loaded
// state and none is dropped. A zone that fails to load keeps serving its old version.
import Foundation
import Logging

/// What a load or reload did.
public struct ReloadReport: Sendable {
    /// Zones (re)loaded from their files.
    public var loaded: [DNSName] = []
    /// Zones that failed, with the reason (file:line first when known).
    public var failed: [(zone: DNSName, reason: String)] = []
    /// Failed zones still served from their previous version.
    public var kept: [DNSName] = []
    /// Zones no longer configured, dropped.
    public var removed: [DNSName] = []
    /// The configuration itself could not be read: nothing changed.
    public var configError: String?
    /// Zones served after the operation.
    public var served: Int = 0
}

/// Owns the last good version of every zone and the list of zones to serve.
public final class ZoneReloader: @unchecked Sendable {
    public let store: ZoneStore
    private let sources: @Sendable () throws -> [ZoneSource]
    private let logger: Logger
    private let lock = NSLock()
    private var zones: [DNSName: Zone] = [:]

    /// `sources` is evaluated on every load: it re-reads the configuration and zones-dir.
    public init(store: ZoneStore, logger: Logger, sources: @escaping @Sendable () throws -> [ZoneSource]) {
        self.store = store
        self.sources = sources
        self.logger = logger
    }

    /// Loads every configured zone and swaps the new set in. Blocking (reads files):
    /// call it off the event loops. Serialised: one load at a time.
    @discardableResult
    public func reload() -> ReloadReport {
        lock.lock()
        defer { lock.unlock() }
        var report = ReloadReport()
        let list: [ZoneSource]
        do {
            list = try sources()
        } catch {
            report.configError = "\(error)"
            report.served = zones.count
            logger.error("reload: configuration not applied: \(error); still serving \(zones.count) zone(s)")
            return report
        }
        var next: [DNSName: Zone] = [:]
        for source in list {
            do {
                let zone = try ZoneLoader.load(source, logger: logger)
                next[source.name] = zone
                report.loaded.append(source.name)
                logger.info("loaded zone \(source.name) serial \(zone.serial), \(ZoneLoader.recordCount(zone)) records from \(source.path)")
            } catch {
                report.failed.append((source.name, error.description))
                if let old = zones[source.name] {
                    next[source.name] = old
                    report.kept.append(source.name)
                    logger.error("zone \(source.name) failed to load, still serving serial \(old.serial): \(error.description)")
                } else {
                    logger.error("zone \(source.name) failed to load: \(error.description)")
                }
            }
        }
        report.removed = zones.keys.filter { next[$0] == nil }.sorted()
        for name in report.removed { logger.info("zone \(name) is no longer configured: removed") }
        zones = next
        report.served = next.count
        store.replace(with: ZoneSet(zones: next.keys.sorted().map { next[$0]! }))
        return report
    }
}
