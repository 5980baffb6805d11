import HTTPTypes
import Logging

/// An error the API answers with: the HTTP status and the JSON body
/// `{"error": {"code": ..., "message": ..., "field": ...}}`.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A stable machine-readable code (`not_found`, `invalid_field`, ...).
    public var code: String
    public var message: String
    /// The request field at fault (`changes[1].records[0]`), when there is one.
    public var field: String?
    /// Extra headers (Retry-After on 429).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String {
        "\(status.code) \(code): \(message)" + (field.map { " (field \($0))" } ?? "")
    }

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, "invalid_field", message, field: field)
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, "bad_request", message, field: field)
    }

    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, "not_found", "\(what) not found")
    }

    static func conflict(_ message: String) -> APIError {
        APIError(.conflict, "conflict", message)
    }

    static let unauthorized = APIError(.unauthorized, "unauthorized",
                                       "an API key is required: Authorization: Bearer <key> (or X-API-Key)")

    static func forbidden(_ needed: Role) -> APIError {
        APIError(.forbidden, "forbidden", "this key's role does not allow this; it needs the \(needed.rawValue) role")
    }

    static func preconditionFailed(_ current: String) -> APIError {
        APIError(.preconditionFailed, "precondition_failed", "If-Match does not match the zone's current ETag \(current)")
    }

    /// What the API answers for a store error: 409 for a conflict; 503 with Retry-After
    /// while the database cannot be reached, 507 while its disk is full (RFC 4918
    /// §11.5), both logged: nothing was changed and the request may be repeated.
    init(_ error: StoreError, logger: Logger) {
        switch error {
        case .conflict(let m):
            self = .conflict(m)
        case .unavailable(let m):
            logger.warning("control store unavailable: \(m)")
            self.init(.serviceUnavailable, "store_unavailable", "the zone database cannot be reached now (\(m)); nothing was changed, retry later")
            headers[.retryAfter] = "1"
        case .full(let m):
            logger.error("control store full: \(m)")
            self.init(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), "store_full", "the zone database's disk is full (\(m)); nothing was changed")
            headers[.retryAfter] = "10"
        }
    }

    var json: [String: Any] {
        var e: [String: Any] = ["code": code, "message": message]
        if let field { e["field"] = field }
        return ["error": e]
    }
}
