import BulwarkControl
import BulwarkServer
import BulwarkZone
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import XCTest

/// A control plane on a real SQLite file in a temporary directory, its API on a real
/// loopback listener (port 0), and an HTTP client.
final class APIHarness: @unchecked Sendable {
    let dir: String
    let plane: ControlPlane
    let catalog: ZoneCatalog
    let adminToken: String
    let group: ServiceGroup
    let runTask: Task<Void, Error>
    let baseURL: String
    let session: URLSession

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
        func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    static func start(dir existing: String? = nil, catalog: ZoneCatalog? = nil, rate: Double = 0, burst: Double = 10,
                      maxBody: Int = 64 * 1024) async throws -> APIHarness {
        let dir = existing ?? NSTemporaryDirectory() + "bulwark-control-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let backend = try await TestDatabase.open(dir: dir, logger: logger)  // SQLite, or BULWARK_TEST_DATABASE=postgres
        let store = SQLControlStore(backend: backend)
        try await store.migrate()
        let catalog = catalog ?? ZoneCatalog(store: ZoneStore(ZoneSet(zones: [])))
        let plane = ControlPlane(store: store, catalog: catalog, limiter: KeyRateLimiter(rate: rate, burst: burst),
                                 maxBodyBytes: maxBody, logger: logger)
        let admin = "test-admin-key-0123456789"
        _ = try await plane.bootstrap(adminKey: admin)
        try await plane.loadZones()

        let (stream, cont) = AsyncStream<Int>.makeStream()
        let app = Application(router: ControlAPI.router(plane),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { ch in cont.yield(ch.localAddress?.port ?? 0); cont.finish() },
                              logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var port = 0
        for await p in stream { port = p }
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 20
        return APIHarness(dir: dir, plane: plane, catalog: catalog, adminToken: admin, group: group, runTask: task,
                          baseURL: "http://127.0.0.1:\(port)", session: URLSession(configuration: config))
    }

    private init(dir: String, plane: ControlPlane, catalog: ZoneCatalog, adminToken: String, group: ServiceGroup,
                 runTask: Task<Void, Error>, baseURL: String, session: URLSession) {
        self.dir = dir
        self.plane = plane
        self.catalog = catalog
        self.adminToken = adminToken
        self.group = group
        self.runTask = runTask
        self.baseURL = baseURL
        self.session = session
    }

    func stop(removing: Bool = true) async {
        await group.triggerGracefulShutdown()
        _ = try? await runTask.value
        await plane.store.close()
        if removing { try? FileManager.default.removeItem(atPath: dir) }
    }

    func request(_ method: String, _ path: String, token: String?, json: Any? = nil, text: String? = nil,
                 headers: [String: String] = [:]) async throws -> Reply {
        var req = URLRequest(url: URL(string: baseURL + path)!)
        req.httpMethod = method
        if let token { req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            req.httpBody = try JSONSerialization.data(withJSONObject: json)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let text {
            req.httpBody = Data(text.utf8)
            req.setValue("text/dns", forHTTPHeaderField: "Content-Type")
        }
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: req)
        let http = response as! HTTPURLResponse
        var h: [String: String] = [:]
        for (k, v) in http.allHeaderFields { h["\(k)"] = "\(v)" }
        return Reply(status: http.statusCode, headers: h, body: data)
    }

    /// A new tenant with an admin key; returns (tenant id, admin token).
    func tenant(_ name: String) async throws -> (String, String) {
        let t = try await request("POST", "/v1/tenants", token: adminToken, json: ["name": name])
        XCTAssertEqual(t.status, 201, t.text)
        let id = t.json["id"] as! String
        let k = try await request("POST", "/v1/keys", token: adminToken, json: ["name": "\(name)-admin", "role": "admin", "tenant": id])
        XCTAssertEqual(k.status, 201, k.text)
        return (id, k.json["token"] as! String)
    }

    func key(_ adminToken: String, role: String) async throws -> String {
        let k = try await request("POST", "/v1/keys", token: adminToken, json: ["name": "k-\(role)", "role": role])
        XCTAssertEqual(k.status, 201, k.text)
        return k.json["token"] as! String
    }

    func createZone(_ name: String, token: String) async throws -> Reply {
        try await request("POST", "/v1/zones", token: token, json: ["name": name, "nameservers": ["ns1.\(name)"], "ttl": 300])
    }
}
