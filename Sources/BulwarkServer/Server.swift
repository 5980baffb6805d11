// The server: zones, the UDP and TCP transports on every listen address, and the
// services that run them under swift-service-lifecycle (SIGTERM/SIGINT stop, SIGHUP reloads).
import BulwarkOps
import BulwarkPipeline
import BulwarkSettings
import BulwarkZone
import Dispatch
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif
import ServiceLifecycle
import UnixSignals

public struct StartupError: Error, CustomStringConvertible {
    public var description: String
}

public final class DNSServer: @unchecked Sendable {
    public let config: ServerSettings
    public let store: ZoneStore
    /// Every served zone and where it comes from; publish changes through it.
    public let catalog: ZoneCatalog
    public let reloader: ZoneReloader
    /// Zones transferred in from primaries (Secondary/SecondaryZones.swift).
    public let secondaries: SecondaryZones
    /// Re-reads the secondary zones' configuration on reload (SIGHUP); nil: kept as started.
    public var secondarySource: (@Sendable () throws -> [SecondaryZoneConfig])?
    public let udp: UDPServer
    public let tcp: TCPServer
    /// Where TSIG-signed messages, transfers and NOTIFY go: register handlers on it.
    public let slowPath: SlowPathRouter
    /// Outgoing AXFR/IXFR, the journal and NOTIFY (PrimaryReplication.swift).
    public let replication: PrimaryReplication
    private let logger: Logger
    /// The workers' counters and the server's events; nil when the ops endpoint is off
    /// (then nothing is counted).
    public let ops: OpsHub?
    /// The addresses actually bound (port 0 replaced by the chosen port), after `start`.
    public private(set) var boundAddresses: [ListenAddress] = []

    /// `sources` lists the zones to serve; it is evaluated at startup and on every reload.
    public init(config: ServerSettings, logger: Logger, sources: @escaping @Sendable () throws -> [ZoneSource]) {
        self.config = config
        self.logger = logger
        self.store = ZoneStore(ZoneSet(zones: []))
        self.catalog = ZoneCatalog(store: store)
        self.reloader = ZoneReloader(catalog: catalog, logger: logger, sources: sources)
        let ops = config.counting.map { OpsHub(settings: $0) }
        self.ops = ops
        // One cookie secret for every worker (and, when configured, every server sharing it).
        var defences = config.defences
        if defences.cookies.secret == nil { defences.cookies.secret = .random() }
        self.slowPath = SlowPathRouter(keyring: config.transfer.keyring)
        self.udp = UDPServer(store: store, workers: config.workers, maxUDPSize: config.maxUDPSize,
                             receiveBuffer: config.udpReceiveBuffer, queues: config.udpQueues,
                             defences: defences, slowPath: slowPath, logger: logger, opsHub: ops)
        self.tcp = TCPServer(
            store: store, maxUDPSize: config.maxUDPSize, defences: defences,
            settings: TCPSettings(idleTimeout: .nanoseconds(Int64(config.tcpIdleTimeout * 1e9)),
                                  maxConnections: config.tcpMaxConnections,
                                  maxConnectionsPerClient: config.tcpMaxConnectionsPerClient,
                                  ioTimeout: .nanoseconds(Int64(config.tcpIOTimeout * 1e9)),
                                  maxInflight: config.tcpMaxInflight),
            threads: min(config.workers, 2), slowPath: slowPath, logger: logger, opsHub: ops)
        // Off the UDP hot path, everything runs on the TCP transport's event loops: the
        // refresh and transfers of secondary zones, and NOTIFY out.
        self.secondaries = SecondaryZones(zones: config.secondaryZones, catalog: catalog, dataDir: config.dataDir,
                                          logger: logger, group: tcp.eventLoopGroup,
                                          authenticator: SecondaryZones.authenticator(for: config))
        self.replication = PrimaryReplication(config: config, catalog: catalog, slowPath: slowPath, logger: logger,
                                              group: tcp.eventLoopGroup)
        if let ops {  // zone loads, by provenance; transfers in and out
            catalog.observe { changes in
                for c in changes where c.new != nil { ops.events.zoneLoaded(provenance: c.provenance.rawValue) }
            }
            secondaries.onTransfer = { zone, kind, ok in
                if ok { ops.events.transferred(zone: zone, kind: kind + " in") } else { ops.events.transferFailed(zone: zone, kind: kind + " in") }
            }
            replication.onTransfer = { zone, kind, ok in
                if ok { ops.events.transferred(zone: zone, kind: kind + " out") } else { ops.events.transferFailed(zone: zone, kind: kind + " out") }
            }
        }
        slowPath.register(NotifyReceiver(secondaries: secondaries, logger: logger), for: [.notify])
    }

    /// Convenience: the zones of `config` (its zones-dir re-scanned on each reload).
    public convenience init(config: ServerSettings, logger: Logger) {
        self.init(config: config, logger: logger, sources: { try config.zoneSources() })
    }

    /// Loads the zones; fails when the configuration cannot be read or no zone loads.
    /// `allowNone`: no zone file configured is fine (the API will publish zones).
    public func loadZones(allowNone: Bool = false) throws(StartupError) {
        let report = reload()
        if let e = report.configError { throw StartupError(description: e) }
        secondaries.loadCopies()  // before listening: a restart answers at once
        if report.loaded.isEmpty && config.secondaryZones.isEmpty && !(allowNone && report.failed.isEmpty) {
            throw StartupError(description: report.failed.isEmpty ? "no zones configured" : "no zone could be loaded")
        }
        if !report.failed.isEmpty {
            logger.error("\(report.failed.count) zone(s) failed to load; serving \(report.loaded.count)")
        }
    }

    /// Binds TCP and UDP on every listen address.
    public func start() async throws {
        do {
            for address in config.listen {
                let bound: ListenAddress
                do {
                    bound = try await bind(address)
                } catch let error as SocketError
                    where config.listenIsDefault && address.family == .v6
                    && (error.errnoValue == EAFNOSUPPORT || error.errnoValue == EADDRNOTAVAIL) {
                    // The default includes [::]:53; a host without IPv6 still serves IPv4.
                    logger.warning("not listening on \(address): \(error)")
                    continue
                }
                boundAddresses.append(bound)
                logger.info("listening on \(bound) (UDP, \(config.workers) worker(s); TCP)")
            }
            secondaries.start()
        } catch {
            await stop()
            throw error
        }
    }

    /// Binds TCP, then UDP, on one address. TCP goes first because its bind is exclusive:
    /// a second server on the same port fails there, before its SO_REUSEPORT UDP sockets
    /// could take a share of the first one's queries. Port 0 (tests) means a port free
    /// for both: TCP picks one, and if UDP cannot have it too, another is tried.
    private func bind(_ address: ListenAddress) async throws -> ListenAddress {
        var bound = address
        guard address.port == 0 else {
            _ = try await tcp.start(address)
            try udp.start(address)
            return bound
        }
        var attempt = 0
        while true {
            bound.port = try await tcp.start(address)
            let failure: SocketError
            do {
                try udp.start(bound)
                return bound
            } catch {
                failure = error
            }
            await tcp.closeListener(port: bound.port)
            attempt += 1
            guard failure.errnoValue == EADDRINUSE && attempt < 20 else { throw failure }
        }
    }

    public func stop() async {
        await secondaries.stop()
        udp.stop()
        await tcp.stop()
    }

    /// Reloads zones (what SIGHUP does).
    @discardableResult
    public func reload() -> ReloadReport {
        let report = reloader.reload()
        // Count reloads and failed zones.
        if let ops {
            ops.events.reloaded(ok: report.configError == nil && report.failed.isEmpty)
            for f in report.failed { ops.events.zoneLoadFailed(zone: f.zone.description) }
        }
        if report.configError == nil, let source = secondarySource {
            do {
                secondaries.reconfigure(try source())
            } catch {
                logger.error("reload: secondary zones not reconfigured: \(error)")
            }
        }
        return report
    }
}

/// Runs the server until graceful shutdown (SIGTERM, SIGINT).
public struct ServerService: Service {
    let server: DNSServer
    let onReady: @Sendable ([ListenAddress]) -> Void

    public init(server: DNSServer, onReady: @escaping @Sendable ([ListenAddress]) -> Void = { _ in }) {
        self.server = server
        self.onReady = onReady
    }

    public func run() async throws {
        try await server.start()
        onReady(server.boundAddresses)
        try? await gracefulShutdown()
        await server.stop()
    }
}

/// Reloads the zones on SIGHUP.
public struct ReloadOnHangupService: Service {
    let server: DNSServer
    let logger: Logger

    public init(server: DNSServer, logger: Logger) {
        self.server = server
        self.logger = logger
    }

    public func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading zones")
            // Reading zone files blocks: do it on a thread of its own, not the async pool.
            let server = self.server
            let report = await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: server.reload()) }
            }
            logger.info("reload done: \(report.loaded.count) loaded, \(report.failed.count) failed (\(report.kept.count) kept at their old version), \(report.removed.count) removed; serving \(report.served) zone(s)")
        }
    }
}
