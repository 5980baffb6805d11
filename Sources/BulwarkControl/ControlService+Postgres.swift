// `bulwark serve` with `api.database: postgres://...`: the store on PostgreSQL, and
// the feed that keeps this node's catalog in step with what other API nodes write.
import BulwarkZone
import Logging

extension ControlService {
    /// Advisory lock key held while a node migrates and bootstraps ("bulwark" in ASCII).
    static let startupLockKey: Int64 = 0x62_75_6c_77_61_72_6b

    static func preparePostgres(
        url: PostgresURL, settings: APISettings, catalog: ZoneCatalog, adminKey: String?, logger: Logger,
        onFirstKey: @Sendable (String) -> Void
    ) async throws -> (ControlPlane, PostgresZoneSync) {
        let backend = try await PostgresBackend.open(url: url, logger: logger)
        let sync = PostgresZoneSync(backend: backend, catalog: catalog, logger: logger)
        let store = sync.tracking(SQLControlStore(backend: backend))
        let plane = ControlPlane(store: store, catalog: catalog,
                                 limiter: KeyRateLimiter(rate: settings.rateLimit, burst: settings.rateBurst),
                                 maxBodyBytes: settings.maxBodyBytes, logger: logger)
        do {
            // Nodes starting together: one migrates and makes the first key at a time.
            let token = try await backend.withAdvisoryLock(startupLockKey) {
                try await store.migrate()
                try await PostgresZoneSync.installTrigger(on: backend)
                return try await plane.bootstrap(adminKey: adminKey)
            }
            if let token { onFirstKey(token) }
            let served = try await sync.resync()
            logger.info("control plane: database \(url), \(served) API zone(s) loaded; following changes of other nodes")
        } catch {
            await backend.close()
            throw error
        }
        return (plane, sync)
    }
}
