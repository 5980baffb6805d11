// Zone loading and reloading (SIGHUP). The zone files are read beside the zones being
// served and published through the ZoneCatalog, which swaps a whole new set in, so no
// query sees a half-loaded state and none is dropped. A zone that fails to load keeps
// serving its old version.
import BulwarkTransfer
import BulwarkWire
import BulwarkZone
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
    /// Configured zone files whose name is served from another source (API, secondary).
    public var conflicts: [DNSName] = []
    /// Zones served after the operation.
    public var served: Int = 0
}

/// Loads the zone files and publishes them in the catalog (provenance `.file`).
public final class ZoneReloader: @unchecked Sendable {
    public let catalog: ZoneCatalog
    private let sources: @Sendable () throws -> [ZoneSource]
    private let logger: Logger
    private let lock = NSLock()

    /// `sources` is evaluated on every load: it re-reads the configuration and zones-dir.
    public init(catalog: ZoneCatalog, logger: Logger, sources: @escaping @Sendable () throws -> [ZoneSource]) {
        self.catalog = catalog
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
        let fileZones = catalog.all.filter { $0.provenance == .file }
        var zones: [DNSName: Zone] = [:]
        for e in fileZones { zones[e.name] = e.zone }
        let list: [ZoneSource]
        do {
            list = try sources()
        } catch {
            report.configError = "\(error)"
            report.served = catalog.all.count
            logger.error("reload: configuration not applied: \(error); still serving \(zones.count) zone(s)")
            return report
        }
        var next: [DNSName: Zone] = [:]
        for source in list {
            do {
                var zone = try ZoneLoader.load(source, logger: logger)
                if let old = zones[source.name], let edited = Self.edit(old, to: zone) { zone = edited }
                next[source.name] = zone
                report.loaded.append(source.name)
                logger.info("loaded zone \(source.name) serial \(zone.serial), \(ZoneLoader.recordCount(zone)) records from \(source.path)",
                            metadata: ["zone": "\(source.name)", "serial": "\(zone.serial)"])
            } catch {
                report.failed.append((source.name, error.description))
                if let old = zones[source.name] {
                    next[source.name] = old
                    report.kept.append(source.name)
                    logger.error("zone \(source.name) failed to load, still serving serial \(old.serial): \(error.description)",
                                 metadata: ["zone": "\(source.name)"])
                } else {
                    logger.error("zone \(source.name) failed to load: \(error.description)", metadata: ["zone": "\(source.name)"])
                }
            }
        }
        report.removed = zones.keys.filter { next[$0] == nil }.sorted()
        for name in report.removed { logger.info("zone \(name) is no longer configured: removed") }
        let (_, conflicts) = catalog.replaceAll(from: .file, with: next.keys.sorted().map { next[$0]! })
        for name in conflicts {
            logger.error("zone file for \(name) ignored: the zone is served from another source")
        }
        report.conflicts = conflicts
        report.served = catalog.all.count
        return report
    }

    /// A reloaded file as an edit of the version served, when what changed is a small
    /// part of the zone: the new version shares the rest with the old one, and the
    /// journal and IXFR take the edit's record as they do an API change's. nil when
    /// nothing changed or much did (the zone as read is served then).
    static func edit(_ old: Zone, to new: Zone) -> Zone? {
        guard !old.hasSameContent(as: new) else { return nil }
        let diff = ZoneDiff.between(old, new)
        struct RRsetKey: Hashable { var owner: DNSName; var type: RRType }
        var keys: [RRsetKey] = []
        var seen = Set<RRsetKey>()
        for r in diff.removed + diff.added where seen.insert(RRsetKey(owner: r.owner.lowercased(), type: r.type)).inserted {
            keys.append(RRsetKey(owner: r.owner, type: r.type))
        }
        guard keys.count <= max(16, old.recordCount / 10) else { return nil }
        var edit = ZoneEdit(checksZoneFileRules: false)  // the file was checked whole as it was read
        for k in keys { edit.replace(k.owner, k.type, with: new.records(at: k.owner, type: k.type)) }
        edit.replace(new.origin, .soa, with: [new.soaRecord])
        guard let edited = try? old.applying(edit), edited.hasSameContent(as: new) else { return nil }
        return edited
    }
}
