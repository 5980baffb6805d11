// The HTTP API (Hummingbird 2): routes, authentication, body limits and JSON errors.
// The OpenAPI 3.1 description of every route is OpenAPIDocument.swift, served at
// /openapi.json.
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

public enum ControlAPI {
    typealias Context = ControlRequestContext

    /// A handler's answer before it becomes a Response.
    struct Reply {
        var status: HTTPResponse.Status = .ok
        var json: Any?
        var text: String?
        var headers: HTTPFields = [:]
    }

    static let apiKeyHeader = HTTPField.Name("X-API-Key")!
    static let zoneFileType = "text/dns"

    public static func router(_ cp: ControlPlane) -> Router<ControlRequestContext> {
        let router = Router(context: ControlRequestContext.self)
        router.add(middleware: UnknownRouteAsJSON())
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        router.get("/v1/health") { _, _ in respond(Reply(json: ["status": "ok"])) }

        // Tenants (operator admin keys).
        route(router, .get, "/v1/tenants", cp) { _, _, caller, _ in
            try cp.requireOperator(caller)
            return Reply(json: ["tenants": try await cp.store.tenants().map(tenantJSON)])
        }
        route(router, .post, "/v1/tenants", cp, body: true) { _, _, caller, body in
            let o = try JSONObject.parse(body!)
            try o.only(["name"])
            let t = try await cp.createTenant(name: try o.string("name"), caller: caller)
            return Reply(status: .created, json: tenantJSON(t))
        }
        route(router, .get, "/v1/tenants/:tenant", cp) { _, ctx, caller, _ in
            try cp.requireOperator(caller)
            guard let t = try await cp.store.tenant(id: param(ctx, "tenant")) else { throw APIError.notFound("tenant") }
            return Reply(json: tenantJSON(t))
        }
        route(router, .delete, "/v1/tenants/:tenant", cp) { _, ctx, caller, _ in
            try cp.requireOperator(caller)
            let id = param(ctx, "tenant")
            guard id != ControlPlane.operatorTenantID else { throw APIError.conflict("the operator tenant cannot be deleted") }
            do {
                guard try await cp.store.deleteTenant(id: id) else { throw APIError.notFound("tenant") }
            } catch StoreError.conflict(let m) {
                throw APIError.conflict(m)
            }
            return Reply(status: .noContent)
        }

        // Keys (admin keys; the operator may name another tenant).
        route(router, .get, "/v1/keys", cp) { req, _, caller, _ in
            try caller.require(.admin)
            let tenant = try await cp.tenantID(for: caller, requested: req.uri.queryParameters["tenant"].map(String.init))
            return Reply(json: ["keys": try await cp.store.keys(tenantID: tenant).map(keyJSON)])
        }
        route(router, .post, "/v1/keys", cp, body: true) { _, _, caller, body in
            let o = try JSONObject.parse(body!)
            try o.only(["name", "role", "tenant"])
            let name = try o.string("name")
            guard !name.isEmpty, name.count <= 100 else { throw APIError.invalid("name", "a key name of 1 to 100 characters is required") }
            let roleText = try o.string("role")
            guard let role = Role(rawValue: roleText) else { throw APIError.invalid("role", "must be read, write or admin") }
            let (key, token) = try await cp.createKey(name: name, role: role, tenant: try o.optionalString("tenant"), caller: caller)
            var j = keyJSON(key)
            j["token"] = token  // shown once; only its SHA-256 is kept
            return Reply(status: .created, json: j)
        }
        route(router, .delete, "/v1/keys/:key", cp) { req, ctx, caller, _ in
            try caller.require(.admin)
            let tenant = try await cp.tenantID(for: caller, requested: req.uri.queryParameters["tenant"].map(String.init))
            guard try await cp.store.deleteKey(id: param(ctx, "key"), tenantID: tenant) else { throw APIError.notFound("key") }
            return Reply(status: .noContent)
        }

        // Zones.
        route(router, .get, "/v1/zones", cp) { _, _, caller, _ in
            Reply(json: ["zones": try await cp.store.zones(tenantID: caller.key.tenantID).map(zoneJSON)])
        }
        route(router, .post, "/v1/zones", cp, role: .write) { req, ctx, caller, _ in
            if isZoneText(req.headers[.contentType]) {
                // Zone-file text (RFC 4027's text/dns), the zone named by `?name=`: read as it arrives.
                guard let name = req.uri.queryParameters["name"] else {
                    // The body is read (and dropped) first: a client still sending gets the answer.
                    try await readBody(req.body, limit: cp.maxBodyBytes, connection: ctx.channel) { _ in }
                    throw APIError.invalid("name", "a zone-file body needs the zone's name in ?name=")
                }
                let origin = try ZoneEditing.zoneName(String(name), field: "name")
                let prepared = try await ZoneImport.prepare(req.body, origin: origin, limit: cp.maxBodyBytes,
                                                            connection: ctx.channel, field: "zonefile")
                return zoneReply(try await cp.importZone(prepared, caller: caller, ifMatch: nil, mustCreate: true),
                                 status: .created, full: true)
            }
            let body = try await readBody(req.body, limit: cp.maxBodyBytes, connection: ctx.channel)
            let o = try JSONObject.parse(body)
            try o.only(["name", "nameservers", "hostmaster", "ttl", "zonefile"])
            let origin = try ZoneEditing.zoneName(try o.string("name"), field: "name")
            let outcome: ControlPlane.Outcome
            if let text = try o.optionalString("zonefile") {
                let (parsed, parts) = try ZoneImport.read(text: text, origin: origin, field: "zonefile")
                let prepared = try ZoneImport.prepare(parsed, text: parts, origin: origin, field: "zonefile")
                outcome = try await cp.importZone(prepared, caller: caller, ifMatch: nil, mustCreate: true)
            } else {
                let ns = try (o.strings("nameservers", required: true) ?? []).enumerated().map { (i, n) throws(APIError) in
                    try nameserver(n, origin: origin, field: "nameservers[\(i)]")
                }
                guard !ns.isEmpty else { throw APIError.invalid("nameservers", "at least one name server is required (RFC 1034 §4.2.1)") }
                let hostmaster = try o.optionalString("hostmaster").map { (h) throws(APIError) in try nameserver(h, origin: origin, field: "hostmaster") }
                let ttl = try o.optionalInt("ttl") ?? 3600
                guard (0...2_147_483_647).contains(ttl) else { throw APIError.invalid("ttl", "TTL must be between 0 and 2147483647 (RFC 2181 §8)") }
                let skeleton = ControlPlane.skeleton(origin: origin, nameservers: ns, hostmaster: hostmaster, ttl: UInt32(ttl))
                outcome = try await cp.change(zone: origin, caller: caller, ifMatch: nil, action: "create", create: true, mustCreate: true,
                                          scope: .wholeZone) { _ in
                    importEdit(skeleton, field: "nameservers")
                }
            }
            return zoneReply(outcome, status: .created, full: true)
        }
        route(router, .get, "/v1/zones/:zone", cp) { _, ctx, caller, _ in
            let z = try await cp.ownedZone(try zoneParam(ctx), caller: caller)
            var j = zoneJSON(z)
            j["rrsets"] = try await cp.rrsets(of: z).map(rrsetJSON)
            return Reply(json: j, headers: [.eTag: ControlPlane.etag(z)])
        }
        route(router, .delete, "/v1/zones/:zone", cp, role: .write) { req, ctx, caller, _ in
            try await cp.deleteZone(try zoneParam(ctx), caller: caller, ifMatch: req.headers[.ifMatch])
            return Reply(status: .noContent)
        }
        route(router, .get, "/v1/zones/:zone/zonefile", cp) { _, ctx, caller, _ in
            let origin = try zoneParam(ctx)
            let z = try await cp.ownedZone(origin, caller: caller)
            let text = ZoneEditing.zoneText(origin: origin, rrsets: try await cp.rrsets(of: z))
            return Reply(text: text, headers: [.eTag: ControlPlane.etag(z)])
        }
        route(router, .put, "/v1/zones/:zone/zonefile", cp, role: .write) { req, ctx, caller, _ in
            let origin = try zoneParam(ctx)
            // Read as it arrives: the text is parsed entry by entry, never held whole.
            let prepared = try await ZoneImport.prepare(req.body, origin: origin, limit: cp.maxBodyBytes,
                                                        connection: ctx.channel, field: "zonefile")
            let outcome = try await cp.importZone(prepared, caller: caller, ifMatch: req.headers[.ifMatch], mustCreate: false)
            return zoneReply(outcome, status: outcome.zone.version == 1 ? .created : .ok, full: false)
        }
        route(router, .get, "/v1/zones/:zone/history", cp) { req, ctx, caller, _ in
            let origin = try zoneParam(ctx)
            let limit = req.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 100
            guard (1...1000).contains(limit) else { throw APIError.invalid("limit", "must be between 1 and 1000") }
            let changes = try await cp.store.history(zoneName: origin.description, tenantID: caller.key.tenantID, limit: limit)
            if changes.isEmpty { _ = try await cp.ownedZone(origin, caller: caller) }  // 404 for unknown zones
            return Reply(json: ["changes": changes.map(changeJSON)])
        }

        // RRsets.
        route(router, .get, "/v1/zones/:zone/rrsets", cp) { req, ctx, caller, _ in
            let origin = try zoneParam(ctx)
            let z = try await cp.ownedZone(origin, caller: caller)
            var list = try await cp.rrsets(of: z)
            if let n = req.uri.queryParameters["name"] {
                let name = try ZoneEditing.ownerName(String(n), origin: origin, field: "name").description
                list = list.filter { $0.name == name }
            }
            if let t = req.uri.queryParameters["type"] {
                let type = try ZoneEditing.rrType(String(t), field: "type").description
                list = list.filter { $0.type == type }
            }
            return Reply(json: ["rrsets": list.map(rrsetJSON)], headers: [.eTag: ControlPlane.etag(z)])
        }
        route(router, .patch, "/v1/zones/:zone/rrsets", cp, body: true, role: .write) { req, ctx, caller, body in
            let origin = try zoneParam(ctx)
            let changes = try batchChanges(body!, origin: origin)
            let outcome = try await cp.change(zone: origin, caller: caller, ifMatch: req.headers[.ifMatch], action: "update",
                                              scope: .rrsets(changes.map(\.key))) { rrsets in
                try batchEdit(rrsets, changes, origin: origin)
            }
            return zoneReply(outcome, status: .ok, full: false)
        }
        route(router, .get, "/v1/zones/:zone/rrsets/:name/:type", cp) { _, ctx, caller, _ in
            let origin = try zoneParam(ctx)
            let key = try rrsetParams(ctx, origin: origin)
            let z = try await cp.ownedZone(origin, caller: caller)
            guard let r = try await cp.rrset(key, of: z) else {
                throw APIError.notFound("RRset \(key.name) \(key.type)")
            }
            return Reply(json: rrsetJSON(r), headers: [.eTag: ControlPlane.etag(z)])
        }
        route(router, .put, "/v1/zones/:zone/rrsets/:name/:type", cp, body: true, role: .write) { req, ctx, caller, body in
            let origin = try zoneParam(ctx)
            let key = try rrsetParams(ctx, origin: origin)
            let o = try JSONObject.parse(body!)
            try o.only(["ttl", "records", "name", "type"])
            let ttl = try o.optionalInt("ttl") ?? 3600
            let rrset = try ZoneEditing.parseRRset(name: try DNSName(key.name), type: RRType(mnemonic: key.type)!, ttl: ttl,
                                                   records: try o.strings("records") ?? [], origin: origin, field: "")
            let change = RRsetChange(action: .replace, key: key, rrset: rrset, field: "records")
            let outcome = try await cp.change(zone: origin, caller: caller, ifMatch: req.headers[.ifMatch], action: "update",
                                              scope: .rrsets([key])) { rrsets in
                try batchEdit(rrsets, [change], origin: origin)
            }
            var reply = zoneReply(outcome, status: .ok, full: false)
            reply.json = rrsetJSON(outcome.rrsets.first { $0.key == key } ?? rrset)
            return reply
        }
        route(router, .delete, "/v1/zones/:zone/rrsets/:name/:type", cp, role: .write) { req, ctx, caller, _ in
            let origin = try zoneParam(ctx)
            let key = try rrsetParams(ctx, origin: origin)
            let change = RRsetChange(action: .delete, key: key, rrset: nil, field: "type")
            let outcome = try await cp.change(zone: origin, caller: caller, ifMatch: req.headers[.ifMatch], action: "update",
                                              scope: .rrsets([key])) { rrsets in
                guard rrsets[key] != nil else { throw APIError.notFound("RRset \(key.name) \(key.type)") }
                return try batchEdit(rrsets, [change], origin: origin)
            }
            var reply = zoneReply(outcome, status: .noContent, full: false)
            reply.json = nil
            return reply
        }
        return router
    }

    // MARK: Plumbing

    /// Registers a route that authenticates (401), checks the role (403), applies the
    /// key's rate limit (429), reads the body up to the limit (413) and turns errors
    /// into JSON.
    static func route(
        _ router: Router<Context>, _ method: HTTPRequest.Method, _ path: RouterPath, _ cp: ControlPlane,
        body wantsBody: Bool = false, role: Role = .read,
        _ handler: @escaping @Sendable (Request, Context, Caller, ByteBuffer?) async throws -> Reply
    ) {
        router.on(path, method: method) { request, context -> Response in
            do {
                let token = bearerToken(request.headers)
                let caller = try await cp.authenticate(token: token)
                try caller.require(role)
                var body: ByteBuffer? = nil
                if wantsBody {
                    body = try await readBody(request.body, limit: cp.maxBodyBytes, connection: context.channel)
                }
                return respond(try await handler(request, context, caller, body))
            } catch let e as APIError {
                return errorResponse(e)
            } catch let e as StoreError {
                return errorResponse(APIError(e, logger: cp.logger))
            } catch {
                cp.logger.error("API \(method) \(request.uri.path): \(error)")
                return errorResponse(APIError(.internalServerError, "internal", "internal error"))
            }
        }
    }

    /// A path or method the API does not have gets the API's JSON error shape
    /// (`not_found`), not Hummingbird's empty 404.
    struct UnknownRouteAsJSON: RouterMiddleware {
        func handle(_ request: Request, context: Context,
                    next: (Request, Context) async throws -> Response) async throws -> Response {
            do {
                return try await next(request, context)
            } catch let e as HTTPError where e.status == .notFound || e.status == .methodNotAllowed {
                let what = e.status == .notFound ? "no such route" : "method not allowed"
                return errorResponse(APIError(e.status, e.status == .notFound ? "not_found" : "method_not_allowed",
                                              "\(what): \(request.method) \(request.uri.path)"))
            }
        }
    }

    /// Octets read and dropped past the body limit before the 413 is sent.
    static let overflowDrained = 64 << 20

    /// The request body, up to `limit` octets; beyond it, 413. What a client sends past
    /// the limit is read and dropped (up to `overflowDrained` octets more) before the 413
    /// goes out: a client that writes its whole body before it reads (Python's urllib
    /// does) would otherwise wait on a full socket until its own timeout, and never see
    /// the answer. A body longer still gets the 413 (with `Connection: close`) and then
    /// `connection` is closed, so that such a client stops at once.
    static func readBody(_ body: RequestBody, limit: Int, connection: any Channel) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        try await readBody(body, limit: limit, connection: connection) { collected.writeImmutableBuffer($0) }
        return collected
    }

    /// As `readBody(_:limit:connection:)`, handing each part to `consume` as it arrives
    /// instead of collecting them.
    static func readBody(_ body: RequestBody, limit: Int, connection: any Channel,
                         _ consume: (ByteBuffer) throws -> Void) async throws {
        var total = 0
        for try await part in body {
            total += part.readableBytes
            if total <= limit {
                try consume(part)
            } else if total - limit > overflowDrained {
                // The answer is written when the handler returns; the close comes after it.
                connection.eventLoop.scheduleTask(in: .milliseconds(200)) { connection.close(promise: nil) }
                var e = tooLarge(limit)
                e.headers[.connection] = "close"
                throw e
            }
        }
        guard total <= limit else { throw tooLarge(limit) }
    }

    /// Whether a Content-Type names zone-file text: text/dns (RFC 4027) or text/plain.
    static func isZoneText(_ contentType: String?) -> Bool {
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() else {
            return false
        }
        return type == "text/dns" || type == "text/plain"
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, "body_too_large", "the request body exceeds \(limit) octets")
    }

    static func bearerToken(_ headers: HTTPFields) -> String? {
        if let auth = headers[.authorization] {
            let parts = auth.split(separator: " ", maxSplits: 1)
            if parts.count == 2 && parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingSpaces }
            return nil
        }
        return headers[apiKeyHeader]
    }

    static func respond(_ r: Reply) -> Response {
        var headers = r.headers
        if r.status == .noContent {
            return Response(status: r.status, headers: headers)
        }
        if let text = r.text {
            headers[.contentType] = zoneFileType + "; charset=utf-8"
            return Response(status: r.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        headers[.contentType] = "application/json"
        return Response(status: r.status, headers: headers, body: .init(byteBuffer: JSONOut.buffer(r.json ?? [String: Any]())))
    }

    static func errorResponse(_ e: APIError) -> Response {
        var headers = e.headers
        headers[.contentType] = "application/json"
        return Response(status: e.status, headers: headers, body: .init(byteBuffer: JSONOut.buffer(e.json)))
    }

    /// A path parameter, percent-decoded (RFC 3986 §2.1).
    static func param(_ ctx: Context, _ name: String) -> String {
        let raw = ctx.parameters.get(name) ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    static func zoneParam(_ ctx: Context) throws(APIError) -> DNSName {
        try ZoneEditing.zoneName(param(ctx, "zone"), field: "zone")
    }

    static func rrsetParams(_ ctx: Context, origin: DNSName) throws(APIError) -> RRsetKey {
        let name = try ZoneEditing.ownerName(param(ctx, "name"), origin: origin, field: "name")
        let type = try ZoneEditing.rrType(param(ctx, "type"), field: "type")
        return RRsetKey(name: name.description, type: type.description)
    }

    static func nameserver(_ text: String, origin: DNSName, field: String) throws(APIError) -> DNSName {
        let t = text.trimmingSpaces
        do {
            return try DNSName(t.hasSuffix(".") ? t : t + ".").lowercased()
        } catch {
            throw .invalid(field, "'\(text)' is not a valid domain name")
        }
    }

    static func importEdit(_ rrsets: [StoredRRset], field: String) -> ControlPlane.Edit {
        var all: [RRsetKey: StoredRRset] = [:]
        var touched: [RRsetKey: String] = [:]
        for r in rrsets {
            all[r.key] = r
            touched[r.key] = field
        }
        let soa = all[RRsetKey(name: rrsets.first?.name ?? "", type: "SOA")]
        return ControlPlane.Edit(rrsets: all, touched: touched, detail: [["action": "import", "rrsets": String(rrsets.count)]],
                                 requestedSerial: soa?.records.first.flatMap(ZoneEditing.serial(ofSOA:)))
    }

    /// The changes of a batch body (`{"changes": [...]}`), each record read and checked
    /// as the zone-file reader reads one; what PATCH .../rrsets applies.
    public static func batchChanges(_ body: ByteBuffer, origin: DNSName) throws(APIError) -> [RRsetChange] {
        let o = try JSONObject.parse(body)
        try o.only(["changes"])
        let objects = try o.objects("changes")
        guard !objects.isEmpty else { throw APIError.invalid("changes", "at least one change is required") }
        guard objects.count <= 10_000 else { throw APIError.invalid("changes", "at most 10000 changes per batch") }
        return try objects.map { (c) throws(APIError) in try parseChange(c, origin: origin) }
    }

    static func parseChange(_ c: JSONObject, origin: DNSName) throws(APIError) -> RRsetChange {
        try c.only(["action", "name", "type", "ttl", "records"])
        let actionText = try c.string("action")
        guard let action = RRsetChange.Action(rawValue: actionText) else {
            throw .invalid(c.field("action"), "must be replace or delete")
        }
        let name = try ZoneEditing.ownerName(try c.string("name"), origin: origin, field: c.field("name"))
        let type = try ZoneEditing.rrType(try c.string("type"), field: c.field("type"))
        let key = RRsetKey(name: name.description, type: type.description)
        switch action {
        case .delete:
            return RRsetChange(action: .delete, key: key, rrset: nil, field: c.path)
        case .replace:
            let rrset = try ZoneEditing.parseRRset(name: name, type: type, ttl: try c.optionalInt("ttl") ?? 3600,
                                                   records: try c.strings("records") ?? [], origin: origin, field: c.path)
            return RRsetChange(action: .replace, key: key, rrset: rrset, field: c.path)
        }
    }

    /// Applies RRset changes in order to a zone's RRsets.
    static func batchEdit(_ current: [RRsetKey: StoredRRset], _ changes: [RRsetChange], origin: DNSName) throws(APIError) -> ControlPlane.Edit {
        var all = current
        var touched: [RRsetKey: String] = [:]
        var detail: [[String: String]] = []
        var requestedSerial: UInt32?
        let soaKey = RRsetKey(name: origin.description, type: "SOA")
        for c in changes {
            switch c.action {
            case .delete:
                if c.key == soaKey { throw .invalid(c.field, "the SOA record cannot be deleted (RFC 1035 §5.2)") }
                all[c.key] = nil
                detail.append(["action": "delete", "name": c.key.name, "type": c.key.type])
            case .replace:
                let r = c.rrset!
                if r.type == "SOA" && c.key != soaKey {
                    throw .invalid(c.field.isEmpty ? "name" : c.field + ".name", "an SOA record belongs at the zone apex only (RFC 1035 §5.2)")
                }
                if c.key == soaKey { requestedSerial = r.records.first.flatMap(ZoneEditing.serial(ofSOA:)) }
                all[c.key] = r
                detail.append(["action": "replace", "name": r.name, "type": r.type, "ttl": String(r.ttl),
                               "records": r.records.joined(separator: "\n")])
            }
            touched[c.key] = c.field.isEmpty ? "records" : c.field
        }
        return ControlPlane.Edit(rrsets: all, touched: touched, detail: detail, requestedSerial: requestedSerial)
    }

    static func zoneReply(_ o: ControlPlane.Outcome, status: HTTPResponse.Status, full: Bool) -> Reply {
        var j = zoneJSON(o.zone)
        if full && o.listsAllRRsets { j["rrsets"] = o.rrsets.map(rrsetJSON) }
        if !o.warnings.isEmpty { j["warnings"] = Array(o.warnings.prefix(100)) }
        return Reply(status: status, json: j, headers: [.eTag: ControlPlane.etag(o.zone)])
    }

    // MARK: JSON shapes (see OpenAPIDocument)

    static func tenantJSON(_ t: Tenant) -> [String: Any] {
        ["id": t.id, "name": t.name, "created": iso(t.createdMillis)]
    }

    static func keyJSON(_ k: APIKey) -> [String: Any] {
        ["id": k.id, "tenant": k.tenantID, "name": k.name, "role": k.role.rawValue, "created": iso(k.createdMillis)]
    }

    static func zoneJSON(_ z: StoredZone) -> [String: Any] {
        ["name": z.name, "serial": Int(z.serial), "version": Int(z.version), "etag": ControlPlane.etag(z),
         "created": iso(z.createdMillis), "updated": iso(z.updatedMillis)]
    }

    static func rrsetJSON(_ r: StoredRRset) -> [String: Any] {
        ["name": r.name, "type": r.type, "ttl": Int(r.ttl), "records": r.records]
    }

    static func changeJSON(_ c: ChangeRecord) -> [String: Any] {
        let detail = (try? JSONSerialization.jsonObject(with: Data(c.detail.utf8))) ?? []
        return ["zone": c.zoneName, "version": Int(c.version), "serial": Int(c.serial), "action": c.action,
                "key": ["id": c.keyID, "name": c.keyName], "at": iso(c.atMillis), "changes": detail]
    }

    static func iso(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

/// The API's request context: Hummingbird's, and the connection the request came on (to
/// close it after a 413 whose client does not stop sending).
public struct ControlRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
