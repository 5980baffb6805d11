// The catalog of served zones: every source of zones (zone files, transfers in as a
// secondary, the control plane's API) publishes through it, and everything that must
// follow a change (the transfer journal, NOTIFY, metrics) observes it. Each publish
// makes the next ZoneSet from the one served (sharing every page it does not write) and
// swaps it into the ZoneStore, so queries never see a mix.
import BulwarkWire
import Foundation

/// Where a served zone comes from. A name belongs to one provenance at a time: a zone
/// file cannot silently replace a zone managed through the API, nor the reverse.
public enum ZoneProvenance: String, Sendable, Hashable, CustomStringConvertible {
    /// A zone file (configuration, zones-dir, the embedded example); reloaded on SIGHUP.
    case file
    /// Transferred in from a primary (AXFR/IXFR).
    case secondary
    /// Managed through the control plane's HTTP API.
    case api

    public var description: String { rawValue }
}

/// One zone in the catalog.
public struct CatalogEntry: Sendable {
    public var zone: Zone
    public var provenance: ZoneProvenance
    public var name: DNSName { zone.origin }
}

/// One zone that changed: added (`old == nil`), replaced, or removed (`new == nil`).
public struct ZoneChange: Sendable {
    public var name: DNSName
    public var old: Zone?
    public var new: Zone?
    public var provenance: ZoneProvenance
}

public struct CatalogError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

public final class ZoneCatalog: @unchecked Sendable {
    // @unchecked: `entries`, `served` and `observers` are only touched under `lock`.
    public let store: ZoneStore
    private let lock = NSLock()
    private var entries: [DNSName: CatalogEntry] = [:]
    /// The set made by the last publish: the next one is made from it.
    private var served = ZoneSet(zones: [])
    private var observers: [@Sendable ([ZoneChange]) -> Void] = []

    public init(store: ZoneStore) {
        self.store = store
    }

    /// The zone served for exactly this origin.
    public func zone(named name: DNSName) -> Zone? {
        lock.withLock { entries[name]?.zone }
    }

    public func entry(named name: DNSName) -> CatalogEntry? {
        lock.withLock { entries[name] }
    }

    /// Every served zone, sorted by name (sorted on each call: for listing).
    public var all: [CatalogEntry] {
        lock.withLock { Array(entries.values) }.sorted { $0.name < $1.name }
    }

    /// Calls `observer` after every change, in order, with the zones that changed.
    /// Observers run synchronously on the publishing thread (while further publishes
    /// wait), after the new set is served: keep them short and never publish from one.
    public func observe(_ observer: @escaping @Sendable ([ZoneChange]) -> Void) {
        lock.withLock { observers.append(observer) }
    }

    /// Serves `zone` (adding it or replacing its previous version). Fails when the name
    /// is already served from another provenance.
    @discardableResult
    public func publish(_ zone: Zone, from provenance: ZoneProvenance) throws(CatalogError) -> ZoneChange {
        try apply(provenance) { (current) throws(CatalogError) in
            if let existing = current[zone.origin], existing.provenance != provenance {
                throw CatalogError(description: "zone \(zone.origin) is already served from \(existing.provenance)")
            }
            return [(zone.origin, zone)]
        }.first!
    }

    /// Serves `zones` at once (start-up: one new set and one call of each observer for all
    /// of them), adding or replacing each. A zone whose name is served from another
    /// provenance is skipped and returned in `conflicts`; of two with one name, the first
    /// is kept.
    @discardableResult
    public func publish(_ zones: [Zone], from provenance: ZoneProvenance) -> (changes: [ZoneChange], conflicts: [DNSName]) {
        var conflicts: [DNSName] = []
        let changes = (try? apply(provenance) { current in
            Self.updates(serving: zones, from: provenance, over: current, conflicts: &conflicts)
        }) ?? []
        return (changes, conflicts)
    }

    /// Stops serving `name` if it belongs to `provenance`; nil when it was not served so.
    @discardableResult
    public func remove(_ name: DNSName, from provenance: ZoneProvenance) -> ZoneChange? {
        (try? apply(provenance) { current in
            guard let e = current[name], e.provenance == provenance else { return [] }
            return [(name, nil)]
        })?.first
    }

    /// Makes the zones of `provenance` exactly `zones` (what a zone-file reload does):
    /// adds and replaces those given, removes that provenance's others. A zone whose
    /// name is served from another provenance is skipped and returned in `conflicts`.
    @discardableResult
    public func replaceAll(from provenance: ZoneProvenance, with zones: [Zone]) -> (changes: [ZoneChange], conflicts: [DNSName]) {
        var conflicts: [DNSName] = []
        let changes = (try? apply(provenance) { current in
            var updates = Self.updates(serving: zones, from: provenance, over: current, conflicts: &conflicts)
            let given = Set(updates.map(\.0))
            for (name, e) in current where e.provenance == provenance && !given.contains(name) {
                updates.append((name, nil))
            }
            return updates
        }) ?? []
        return (changes, conflicts)
    }

    /// The updates that serve `zones` from `provenance`: the first zone of each name, and
    /// none whose name another provenance serves (those go to `conflicts`).
    private static func updates(serving zones: [Zone], from provenance: ZoneProvenance,
                                over current: [DNSName: CatalogEntry], conflicts: inout [DNSName]) -> [(DNSName, Zone?)] {
        var updates: [(DNSName, Zone?)] = []
        var given = Set<DNSName>()
        for z in zones {
            if let e = current[z.origin], e.provenance != provenance {
                conflicts.append(z.origin)
                continue
            }
            if given.insert(z.origin).inserted { updates.append((z.origin, z)) }
        }
        return updates
    }

    /// Applies the updates `plan` returns (nil removes), swaps the new set in and tells
    /// the observers, all under the lock so that changes reach observers in order.
    private func apply(
        _ provenance: ZoneProvenance,
        _ plan: ([DNSName: CatalogEntry]) throws(CatalogError) -> [(DNSName, Zone?)]
    ) throws(CatalogError) -> [ZoneChange] {
        lock.lock()
        defer { lock.unlock() }
        let updates = try plan(entries)
        guard !updates.isEmpty else { return [] }
        var changes: [ZoneChange] = []
        for (name, zone) in updates {
            let old = entries[name]?.zone
            if let zone {
                entries[name] = CatalogEntry(zone: zone, provenance: provenance)
            } else {
                entries[name] = nil
            }
            changes.append(ZoneChange(name: name, old: old, new: zone, provenance: provenance))
        }
        served = served.applying(changes)
        store.replace(with: served)
        for observer in observers { observer(changes) }
        return changes
    }
}
