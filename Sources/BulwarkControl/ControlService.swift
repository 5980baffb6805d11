// Runs the control plane inside `bulwark serve`: opens the database (migrating it),
// makes sure an admin key exists, publishes the stored zones, and serves the HTTP API
// as one more service of the server's ServiceGroup.
import BulwarkSettings
import BulwarkZone
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

public struct ControlService: Service {
    public let plane: ControlPlane
    let settings: APISettings
    let listen: ListenAddress
    let logger: Logger
    let onReady: @Sendable (String) -> Void
    /// With PostgreSQL: follows the zone changes other API nodes make.
    var zoneSync: PostgresZoneSync? = nil

    /// Opens the store and loads its zones into `catalog`; nil when the API is off. The
    /// SQLite database is under `dataDir` unless `settings.database` names another.
    /// `adminKey` (BULWARK_ADMIN_KEY) becomes an admin key; without it the first start
    /// makes one and passes it to `onFirstKey`, to show once.
    public static func prepare(
        settings: APISettings, dataDir: String, catalog: ZoneCatalog, adminKey: String?, logger: Logger,
        onFirstKey: @Sendable (String) -> Void, onReady: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> ControlService? {
        guard let listen = settings.listen else { return nil }
        if let url = settings.postgresURL {  // several API nodes on one PostgreSQL
            let (plane, sync) = try await preparePostgres(url: url, settings: settings, catalog: catalog, adminKey: adminKey,
                                                          logger: logger, onFirstKey: onFirstKey)
            return ControlService(plane: plane, settings: settings, listen: listen, logger: logger, onReady: onReady,
                                  zoneSync: sync)
        }
        guard let path = settings.sqlitePath(dataDir: dataDir) else {
            throw ControlStartupError(description: "api.database: '\(settings.database)' is not a database this build knows")
        }
        let backend = try await SQLiteBackend.open(path: path, logger: logger)
        let store = SQLControlStore(backend: backend)
        try await store.migrate()
        let plane = ControlPlane(store: store, catalog: catalog,
                                 limiter: KeyRateLimiter(rate: settings.rateLimit, burst: settings.rateBurst),
                                 maxBodyBytes: settings.maxBodyBytes, logger: logger)
        if let token = try await plane.bootstrap(adminKey: adminKey) { onFirstKey(token) }
        let served = try await plane.loadZones()
        logger.info("control plane: database \(path), \(served) API zone(s) loaded")
        return ControlService(plane: plane, settings: settings, listen: listen, logger: logger, onReady: onReady)
    }

    public func run() async throws {
        let router = ControlAPI.router(plane)
        let logger = self.logger
        let onReady = self.onReady
        var appLogger = logger
        appLogger.logLevel = max(logger.logLevel, .notice)  // no line per request at info
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "bulwark"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let host = listen.family == .v6 ? "[\(listen.host)]" : listen.host
                let url = "http://\(host):\(port)"
                logger.info("API listening on \(url)")
                onReady(url)
            },
            logger: appLogger
        )
        let syncTask = zoneSync.map { sync in Task { await sync.run() } }
        do {
            try await app.run()
        } catch {
            guard settings.listenIsDefault else { throw error }
            // The default address is taken (another server on this host): serve DNS only.
            logger.warning("API not started: cannot listen on \(listen): \(error); give --api-listen to choose another address")
            try? await gracefulShutdown()
        }
        if let syncTask {
            syncTask.cancel()
            await syncTask.value
        }
        await plane.store.close()
    }
}

public struct ControlStartupError: Error, CustomStringConvertible {
    public var description: String
}
