// The storage seam for the control plane. Everything above it speaks portable SQL
// (`?` placeholders, TEXT/BIGINT columns only) through these two protocols, so a
// second backend (PostgreSQL through postgres-nio) only has to run statements and
// transactions; `SQLControlStore` and the migrations are shared.

/// A value bound to, or read from, a statement. Only the types both SQLite and
/// PostgreSQL store the same way: text, 64-bit integers, NULL.
public enum SQLValue: Sendable, Hashable {
    case text(String)
    case int(Int64)
    case null

    public var text: String? {
        if case .text(let s) = self { return s }
        if case .int(let i) = self { return String(i) }
        return nil
    }

    public var int: Int64? {
        if case .int(let i) = self { return i }
        if case .text(let s) = self { return Int64(s) }
        return nil
    }
}

/// One result row: column name → value.
public struct SQLRow: Sendable {
    public var values: [String: SQLValue]
    public init(values: [String: SQLValue]) { self.values = values }

    public subscript(_ column: String) -> SQLValue { values[column] ?? .null }
    public func text(_ column: String) -> String { self[column].text ?? "" }
    public func int(_ column: String) -> Int64 { self[column].int ?? 0 }
    public func optionalInt(_ column: String) -> Int64? { self[column].int }
}

public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

/// A statement failed because a UNIQUE or PRIMARY KEY constraint was violated.
public struct SQLConstraintViolation: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One connection (inside a transaction or not). SQL uses `?` placeholders in order;
/// a PostgreSQL backend rewrites them to `$1, $2, ...`.
public protocol SQLSession: Sendable {
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}

extension SQLSession {
    @discardableResult
    public func execute(_ sql: String, _ binds: [SQLValue] = []) async throws -> [SQLRow] {
        try await query(sql, binds)
    }
}

/// A database the control plane can keep its state in.
public protocol SQLBackend: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` with a connection outside any explicit transaction (reads).
    func withSession<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T
    /// Runs `body` in one serializable write transaction: committed when it returns,
    /// rolled back when it throws. Concurrent writers wait for each other; `afterCommit`
    /// runs once the commit is durable and before the next writer may start.
    func withTransaction<T: Sendable>(
        _ body: @Sendable (any SQLSession) async throws -> T,
        afterCommit: @Sendable (T) -> Void
    ) async throws -> T
    func close() async
}

extension SQLBackend {
    @discardableResult
    public func withTransaction<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        try await withTransaction(body, afterCommit: { _ in })
    }
}
