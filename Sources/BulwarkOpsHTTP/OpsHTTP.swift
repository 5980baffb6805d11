// The ops HTTP endpoint (its own listener, default 127.0.0.1:9153), on Hummingbird:
//   GET /metrics    Prometheus text exposition (swift-metrics through swift-prometheus)
//   GET /insight    the query-insight view (JSON): top names, clients, NXDOMAIN by zone
//   GET /status     a summary (JSON), what `bulwark status` prints and the dashboard reads
//   GET /dashboard  the live dashboard (HTML/CSS/JS embedded in the binary); / redirects there
import BulwarkOps
import BulwarkSettings
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// What /status returns.
public struct StatusReport: Codable, Sendable {
    public struct RateLimit: Codable, Sendable {
        public var enabled: Bool
        public var responsesPerSecond: Int
        public var slipped: UInt64
        public var dropped: UInt64
        /// Limited (slipped + dropped) per second over the last 5 s.
        public var limitedPerSecond: Double
        /// Limited per second, each of the last 60 s (oldest first).
        public var history: [Double]
    }
    public struct TCP: Codable, Sendable {
        public var open: Int
        public var accepted: Int
        public var refused: Int
        public var evicted: Int
    }
    public struct Zone: Codable, Sendable {
        public var name: String
        public var serial: UInt32
        public var provenance: String
        public var queries: UInt64
        public var nxdomain: UInt64
    }
    public var server: String
    public var uptimeSeconds: Double
    public var listen: [String]
    public var opsListen: String
    public var udpWorkers: Int
    public var queries: UInt64
    /// Queries per second over the last 5 s.
    public var qps: Double
    /// Queries per second, each of the last 60 s (oldest first).
    public var qpsHistory: [Double]
    public var rcodes: [String: UInt64]
    /// Per second over the last 5 s.
    public var rcodeRates: [String: Double]
    public var qtypes: [String: UInt64]
    public var rateLimit: RateLimit
    public var tcp: TCP
    public var latencyP50Seconds: Double?
    public var latencyP99Seconds: Double?
    public var zones: [Zone]
}

public final class OpsEndpoint: Sendable {
    public let server: any ServerStatusSource
    public let hub: OpsHub
    /// Where this endpoint listens, for /status ("off" when it does not).
    public let listenDescription: String
    public let exporter: MetricsExporter
    public let insight: QueryInsight
    let logger: Logger

    public init(server: any ServerStatusSource, hub: OpsHub, listen: ListenAddress?, queryLog: QueryLog? = nil,
                logger: Logger) {
        self.server = server
        self.listenDescription = listen?.description ?? "off"
        self.hub = hub
        self.logger = logger
        exporter = MetricsExporter(hub: hub)
        var settings = InsightSettings()
        if let rl = server.rateLimitSettings {
            settings.ipv4Prefix = rl.ipv4PrefixLength
            settings.ipv6Prefix = rl.ipv6PrefixLength
        }
        insight = QueryInsight(hub: hub, settings: settings, queryLog: queryLog)
    }

    public func figures() -> ServerFigures {
        var f = server.currentFigures()
        f.uptimeSeconds = hub.uptime
        return f
    }

    public func metricsText() -> String { exporter.scrape(figures()) }

    public func status() -> StatusReport {
        let snap = hub.snapshot()
        let seconds = insight.seconds
        let f = figures()
        func rate(_ value: (CountersSnapshot) -> UInt64, over n: Int) -> Double {
            guard seconds.count >= 2 else { return 0 }
            let a = seconds[max(0, seconds.count - 1 - n)], b = seconds[seconds.count - 1]
            let dt = b.time - a.time
            return dt > 0 ? Double(value(b.snapshot) &- value(a.snapshot)) / dt : 0
        }
        func history(_ value: (CountersSnapshot) -> UInt64) -> [Double] {
            let recent = seconds.suffix(61)
            return zip(recent.dropFirst(), recent).map { b, a in
                let dt = b.time - a.time
                return dt > 0 ? Double(value(b.snapshot) &- value(a.snapshot)) / dt : 0
            }
        }
        let limited: (CountersSnapshot) -> UInt64 = { $0.event(.rateLimitSlipped) + $0.event(.rateLimitDropped) }
        var rcodes: [String: UInt64] = [:], rcodeRates: [String: Double] = [:]
        for (i, n) in snap.byRCode.enumerated() where n > 0 {
            rcodes[RCodeBucket.names[i]] = n
            rcodeRates[RCodeBucket.names[i]] = rate({ $0.byRCode[i] }, over: 5)
        }
        var qtypes: [String: UInt64] = [:]
        for (i, n) in snap.byQType.enumerated() where n > 0 { qtypes[QTypeBucket.names[i]] = n }
        let zones = f.zones.map { z in
            let c = snap.zones[z.name] ?? []
            return StatusReport.Zone(name: z.name, serial: z.serial, provenance: z.provenance,
                                     queries: c.reduce(0, +), nxdomain: c.isEmpty ? 0 : c[ZoneBucket.nxdomain])
        }
        return StatusReport(
            server: "bulwark", uptimeSeconds: hub.uptime,
            listen: server.listenDescriptions,
            opsListen: listenDescription,
            udpWorkers: server.udpWorkers,
            queries: snap.queries(), qps: rate({ $0.queries() }, over: 5), qpsHistory: history { $0.queries() },
            rcodes: rcodes, rcodeRates: rcodeRates, qtypes: qtypes,
            rateLimit: .init(enabled: server.rateLimitSettings != nil,
                             responsesPerSecond: server.rateLimitSettings?.responsesPerSecond ?? 0,
                             slipped: snap.event(.rateLimitSlipped), dropped: snap.event(.rateLimitDropped),
                             limitedPerSecond: rate(limited, over: 5), history: history(limited)),
            tcp: .init(open: f.tcpOpen, accepted: f.tcpAccepted, refused: f.tcpRefusedFull + f.tcpRefusedPerClient,
                       evicted: f.tcpEvicted),
            latencyP50Seconds: MetricsExporter.latencyQuantile(snap.latency, 0.5),
            latencyP99Seconds: MetricsExporter.latencyQuantile(snap.latency, 0.99),
            zones: zones)
    }

    static func json<T: Encodable>(_ value: T) -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func text(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The routes, on a router (tests use it with HummingbirdTesting or a live socket).
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in Response.redirect(to: "/dashboard") }
        router.get("/metrics") { [self] _, _ in
            Self.text(metricsText(), type: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/insight") { [self] request, _ in
            let n = request.uri.queryParameters.get("top", as: Int.self) ?? 20
            return Self.json(insight.report(top: max(1, min(n, 256))))
        }
        router.get("/status") { [self] _, _ in Self.json(status()) }
        router.get("/dashboard") { _, _ in Self.text(Dashboard.html, type: "text/html; charset=utf-8") }
        return router
    }

    /// The HTTP application (a swift-service-lifecycle Service) on `address`; also starts
    /// the insight thread. `onReady` gets the bound port.
    public func application(address: ListenAddress, onReady: @escaping @Sendable (Int) -> Void = { _ in })
        -> some ApplicationProtocol {
        insight.start()
        let logger = self.logger
        return Application(
            router: router(),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "bulwark-ops"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                logger.info("ops endpoint on http://\(address.family == .v6 ? "[\(address.host)]" : address.host):\(port)/ (metrics, insight, status, dashboard)")
                onReady(port)
            },
            logger: logger)
    }
}

/// Runs the ops endpoint; when it cannot listen (the address is taken), says so and lets
/// the DNS server go on: answering queries matters more than being watched.
public struct OpsService<App: ApplicationProtocol>: Service {
    let app: App
    let address: ListenAddress
    let logger: Logger

    public init(app: App, address: ListenAddress, logger: Logger) {
        self.app = app
        self.address = address
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await app.run()
        } catch {
            logger.error("ops endpoint not started on \(address): \(error); serving DNS without it",
                         metadata: ["listen": "\(address)"])
            try? await gracefulShutdown()
        }
    }
}
