import ArgumentParser
import BulwarkConfig
import BulwarkControl
import BulwarkOps
import BulwarkOpsHTTP
import BulwarkServer
import BulwarkSettings
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve zones over UDP and TCP.",
        discussion: """
        Zones come from --zone NAME=FILE (repeatable), --zones-dir DIR (each NAME.zone file \
        is zone NAME, root.zone is the root), a config file (--config), --example, \
        --secondary NAME=PRIMARY (transferred in), or the control API (--api-listen, \
        default 127.0.0.1:8053; zones kept in <data-dir>). The ops endpoint (--ops-listen, \
        default 127.0.0.1:9153) serves /metrics and /dashboard. Flags override the config \
        file; --zone entries are added to its zones. SIGHUP reloads every zone (a zone that \
        fails keeps its old version); SIGTERM/SIGINT stop.
        """
    )

    @Option(name: .long, help: ArgumentHelp("YAML configuration file.", valueName: "path"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Address to listen on, UDP and TCP (repeatable): 127.0.0.1:5300, [::1]:5300, 0.0.0.0. Default 0.0.0.0:53 and [::]:53 (127.0.0.1:5353 with --example).", valueName: "addr:port"))
    var listen: [String] = []

    @Option(name: .long, help: ArgumentHelp("A zone and its file (repeatable).", valueName: "name=path"))
    var zone: [String] = []

    @Option(name: .customLong("zones-dir"), help: ArgumentHelp("Directory whose NAME.zone files are served as zone NAME.", valueName: "dir"))
    var zonesDir: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Directory for the server's state: transfer journals, secondary zones, the API's database (default: bulwark-data).", valueName: "dir"))
    var dataDir: String?

    @Option(name: .long, help: "UDP worker threads per address (default: one per core).")
    var workers: Int?

    @Option(name: .customLong("max-udp-size"), help: "Largest UDP response in octets (512-65535, default 1232).")
    var maxUDPSize: Int?

    @Option(name: .customLong("udp-receive-buffer"), help: "Bytes the kernel may queue per UDP socket (SO_RCVBUF, default 4194304).")
    var udpReceiveBuffer: Int?

    @Option(name: .customLong("udp-queues"), help: "Sockets per UDP worker: when a worker is saturated, queries are queued by client prefix and read in turn, so a flooding prefix waits behind itself (default 4; 1: off).")
    var udpQueues: Int?

    @Option(name: .customLong("tcp-idle-timeout"), help: "Seconds before an idle TCP connection is closed (default 10).")
    var tcpIdleTimeout: Double?

    @Option(name: .customLong("tcp-max-connections"), help: "Most TCP connections open at once (default 1000).")
    var tcpMaxConnections: Int?

    @Option(name: .customLong("tcp-max-connections-per-client"), help: "Most TCP connections one client address may hold (default 10).")
    var tcpMaxConnectionsPerClient: Int?

    @Option(name: .customLong("tcp-io-timeout"), help: "Seconds a TCP query may take to arrive once its first octet has (default 2).")
    var tcpIOTimeout: Double?

    @Option(name: .customLong("tcp-max-inflight"), help: "Answers waiting to be sent on one TCP connection before reading pauses (default 64).")
    var tcpMaxInflight: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(name: .customLong("rate-limit"), help: "Response rate limiting: identical responses per second per client prefix (UDP; 0 = off, the default).")
    var rateLimit: Int?

    @Option(name: .customLong("rate-limit-slip"), help: "Every Nth limited response is sent truncated, the others dropped (0 drops all; default 2).")
    var rateLimitSlip: Int?

    @Option(name: .customLong("rate-limit-window"), help: "Seconds a flooding prefix stays limited after it stops (default 15).")
    var rateLimitWindow: Int?

    @Option(name: .customLong("rate-limit-burst"), help: "Responses a prefix may get at once after a pause (default: one second's worth).")
    var rateLimitBurst: Int?

    @Option(name: .long, help: "DNS cookies (RFC 7873): on (default), off, or require (BADCOOKIE to UDP clients without a valid server cookie).")
    var cookies: String?

    @Option(name: .customLong("cookie-secret"), help: ArgumentHelp("Server cookie secret, 32 hex digits (default: random at startup).", valueName: "hex"))
    var cookieSecret: String?

    @Option(name: .long, help: ArgumentHelp("Only these prefixes may query (repeatable; longest prefix wins over --deny).", valueName: "prefix"))
    var allow: [String] = []

    @Option(name: .long, help: ArgumentHelp("These prefixes may not query (repeatable).", valueName: "prefix"))
    var deny: [String] = []

    @Option(name: .customLong("deny-action"), help: "What denied queries get: refuse (REFUSED with EDE 18, the default) or drop.")
    var denyAction: String?

    @Option(name: .customLong("api-listen"), help: ArgumentHelp("Address of the HTTP API (default 127.0.0.1:8053; off disables it). Its database is <data-dir>/control.sqlite; BULWARK_ADMIN_KEY sets an admin key.", valueName: "addr:port|off"))
    var apiListen: String?

    @Option(name: .customLong("ops-listen"), help: ArgumentHelp("The ops HTTP endpoint (/metrics, /insight, /status, /dashboard), or off (no counting either). Default 127.0.0.1:9153.", valueName: "addr:port|off"))
    var opsListen: String?

    @Option(name: .customLong("query-log"), help: ArgumentHelp("Write sampled queries (1 in ops.sample-every, at most 100 lines/s, rotated at 64 MiB) to this file.", valueName: "path"))
    var queryLog: String?

    @Option(name: .long, help: ArgumentHelp("A secondary zone and its primaries, tried in order (repeatable): example.com=192.0.2.1:53,192.0.2.2.", valueName: "name=addr[,addr]"))
    var secondary: [String] = []

    @Flag(name: .long, help: "Serve the built-in example.com zone (on 127.0.0.1:5353 unless --listen is given).")
    var example = false

    var overrides: ConfigOverrides {
        var o = ConfigOverrides()
        o.listen = listen
        o.zones = zone
        o.zonesDir = zonesDir
        o.dataDir = dataDir
        o.workers = workers
        o.maxUDPSize = maxUDPSize
        o.udpReceiveBuffer = udpReceiveBuffer
        o.udpQueues = udpQueues
        o.tcpIdleTimeout = tcpIdleTimeout
        o.tcpMaxConnections = tcpMaxConnections
        o.logLevel = logLevel
        o.tcpMaxConnectionsPerClient = tcpMaxConnectionsPerClient
        o.tcpIOTimeout = tcpIOTimeout
        o.tcpMaxInflight = tcpMaxInflight
        o.rateLimit = rateLimit
        o.rateLimitSlip = rateLimitSlip
        o.rateLimitWindow = rateLimitWindow
        o.rateLimitBurst = rateLimitBurst
        o.cookies = cookies
        o.cookieSecret = cookieSecret
        o.allow = allow
        o.deny = deny
        o.denyAction = denyAction
        o.example = example
        o.apiListen = apiListen
        o.opsListen = opsListen
        o.queryLog = queryLog
        o.secondaries = secondary
        return o
    }

    func run() async throws {
        let configFile = self.config
        let overrides = self.overrides
        let example = self.example
        let config: Configuration
        let sources: [ZoneSource]
        do {
            config = try Configuration.load(configFile: configFile, overrides: overrides)
            sources = try config.server.zoneSources()
        } catch {
            printError("bulwark: configuration error: \(error)")
            throw ExitCode(2)
        }
        if sources.isEmpty && !example && config.api.listen == nil && config.server.secondaryZones.isEmpty {
            printError("""
            bulwark: no zones to serve. Give --zone NAME=FILE, --zones-dir DIR, or a --config file with zones.
            To try Bulwark on a built-in zone: bulwark serve --example
            """)
            throw ExitCode(2)
        }

        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        // Log lines rate limited (ops.log-rate a second, bursts of 4x).
        let makeHandler: @Sendable (String) -> any LogHandler = { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        if config.ops.logRate > 0 {
            LoggingSystem.bootstrap(RateLimitedLogHandler.factory(
                linesPerSecond: Double(config.ops.logRate), burst: Double(config.ops.logRate * 4), inner: makeHandler))
        } else {
            LoggingSystem.bootstrap(makeHandler)
        }
        let logger = Logger(label: "bulwark")

        // Evaluated at startup and on every SIGHUP: re-reads the config file and zones-dir.
        let server = DNSServer(config: config.server, logger: logger) {
            var list = try Configuration.load(configFile: configFile, overrides: overrides).server.zoneSources()
            if example { list.append(ExampleZone.source) }
            return list
        }
        server.secondarySource = { try Configuration.load(configFile: configFile, overrides: overrides).server.secondaryZones }
        do {
            try server.loadZones(allowNone: config.api.listen != nil)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode.failure
        }
        let control: ControlService?
        do {
            control = try await ControlService.prepare(
                settings: config.api, dataDir: config.server.dataDir, catalog: server.catalog,
                adminKey: ProcessInfo.processInfo.environment["BULWARK_ADMIN_KEY"], logger: logger,
                onFirstKey: { token in
                    print("API admin key (shown once; keep it, or set BULWARK_ADMIN_KEY): \(token)")
                    fflush(nil)
                },
                onReady: { url in
                    print("Control API on \(url) (OpenAPI description: \(url)/openapi.json)")
                    fflush(nil)
                })
        } catch {
            logger.critical("cannot start the API: \(error)")
            throw ExitCode.failure
        }

        // The ops endpoint and its metrics.
        var opsServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let hub = server.ops, let address = config.ops.listen {
            // Anything counted through swift-metrics' global factory lands in /metrics too.
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: hub.registry))
            var queryLog: QueryLog? = nil
            if let path = config.ops.queryLog {
                var settings = QueryLogSettings(path: path)
                settings.linesPerSecond = Double(config.ops.queryLogLinesPerSecond)
                settings.maxBytes = config.ops.queryLogMaxSize
                do {
                    queryLog = try QueryLog(settings: settings)
                } catch {
                    logger.critical("cannot open the query log \(path): \(error)")
                    throw ExitCode.failure
                }
            }
            let endpoint = OpsEndpoint(server: server, hub: hub, listen: address, queryLog: queryLog,
                                       logger: Logger(label: "bulwark.ops"))
            opsServices.append(.init(service: OpsService(app: endpoint.application(address: address), address: address,
                                                         logger: logger)))
        }

        let service = ServerService(server: server) { addresses in
            if example, let first = addresses.first {
                print(ExampleZone.banner(port: first.port, host: first.host))
                fflush(nil)
            }
            logger.info("ready: serving \(server.store.current.zones.count) zone(s) on \(addresses.map(\.description).joined(separator: ", "))")
        }
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: service),
                .init(service: ReloadOnHangupService(server: server, logger: logger)),
            ] + (control.map { [.init(service: $0)] } ?? [])
              + opsServices,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        do {
            try await group.run()
        } catch {
            logger.critical("failed: \(error)")
            throw ExitCode.failure
        }
        logger.info("stopped")
    }

    private func printError(_ message: String) {
        let line = message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
