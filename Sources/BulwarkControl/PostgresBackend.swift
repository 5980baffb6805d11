// The control plane's store on PostgreSQL (postgres-nio's pooled `PostgresClient`),
// for several API nodes on one database. The same portable SQL as SQLite: `?`
// placeholders are numbered `$1, $2, ...`; writes run SERIALIZABLE and are retried
// when PostgreSQL reports a serialization failure or a deadlock, so two nodes editing
// one zone at once both land, one after the other (no lost update).
import BulwarkSettings
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

public final class PostgresBackend: SQLBackend {
    public let url: PostgresURL
    let client: PostgresClient
    private let runTask: Task<Void, Never>
    /// Writers of this process take turns, so `afterCommit` (publishing) follows commit
    /// order here; writers of other nodes are ordered by SERIALIZABLE.
    private let writers = AsyncMutex()
    let logger: Logger

    public var dialect: SQLDialect { .postgres }

    /// Attempts of a transaction that keeps failing to serialize.
    static let maxAttempts = 30

    private init(url: PostgresURL, client: PostgresClient, runTask: Task<Void, Never>, logger: Logger) {
        self.url = url
        self.client = client
        self.runTask = runTask
        self.logger = logger
    }

    static func tls(_ mode: PostgresURL.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    static func connectionConfiguration(_ url: PostgresURL) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch url.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try! NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try! NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        return PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user,
                                                password: url.password, database: url.database, tls: tls)
    }

    /// Connects (waiting up to `wait` for the server to accept connections) and checks
    /// the server with one query.
    public static func open(url: PostgresURL, maxConnections: Int = 16, wait: Duration = .seconds(10),
                            logger: Logger = Logger(label: "bulwark.control.postgres")) async throws -> PostgresBackend {
        var config = PostgresClient.Configuration(host: url.host, port: url.port, username: url.user,
                                                  password: url.password, database: url.database, tls: tls(url.tls))
        config.options.maximumConnections = max(2, maxConnections)
        config.options.connectTimeout = .seconds(5)
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)  // postgres-nio logs every statement at debug
        let client = PostgresClient(configuration: config, backgroundLogger: quiet)
        let runTask = Task { await client.run() }
        let backend = PostgresBackend(url: url, client: client, runTask: runTask, logger: quiet)
        // The pool retries connections in the background and a lease waits for one: bound
        // the first check so that a wrong URL is an error at start-up, not a hang.
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        var lastError: (any Error)?
        while clock.now < deadline {
            do {
                try await backend.checkConnection(clock.now.duration(to: deadline))
                return backend
            } catch {
                lastError = error
                if let e = error as? PSQLError, e.code == .server { break }  // authentication, no database...
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        await backend.close()
        throw ControlStartupError(description: "cannot use PostgreSQL at \(url): \(Self.describe(lastError))")
    }

    private func checkConnection(_ limit: Duration) async throws {
        let direct = try await withTimeout(limit) { [url, logger] in
            try await PostgresConnection.connect(configuration: Self.connectionConfiguration(url), id: 0, logger: logger)
        }
        defer { Task { try? await direct.close() } }
        _ = try await direct.query("SELECT 1", logger: logger).collect()
    }

    static func describe(_ error: (any Error)?) -> String {
        guard let error else { return "timed out" }
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] { return "\(message) (SQLSTATE \(e.serverInfo?[.sqlState] ?? "?"))" }
            if let underlying = e.underlying { return "\(e.code): \(underlying)" }
            return "\(e.code)"
        }
        return "\(error)"
    }

    public func withSession<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await body(Session(connection: connection, logger: logger))
        }
    }

    enum LeaseState { case waiting, running, abandoned }

    /// How long a request waits for a connection before the API answers 503: while
    /// PostgreSQL is down, the pool has none to give and would wait for ever.
    static let leaseLimit = Duration.milliseconds(800)

    /// Runs `body` with a pooled connection, failing with `.unavailable` when none comes
    /// within `leaseLimit` or the connection breaks. Once `body` has started it is never
    /// abandoned (a transaction ends with its COMMIT or ROLLBACK, not half-way).
    func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let lease = NIOLockedValueBox(LeaseState.waiting)
        let client = self.client, url = self.url
        do {
            return try await withoutActuallyEscaping(body) { body in
                try await withThrowingTaskGroup(of: T?.self) { group in
                    group.addTask {
                        try await client.withConnection { connection in
                            let mine = lease.withLockedValue { state -> Bool in
                                guard state == .waiting else { return false }
                                state = .running
                                return true
                            }
                            guard mine else { throw StoreError.unavailable("no connection to PostgreSQL at \(url.host):\(url.port) in time") }
                            return try await body(connection)
                        }
                    }
                    group.addTask {
                        try? await Task.sleep(for: Self.leaseLimit)
                        let late = lease.withLockedValue { state -> Bool in
                            guard state == .waiting else { return false }
                            state = .abandoned
                            return true
                        }
                        if late { throw StoreError.unavailable("no connection to PostgreSQL at \(url.host):\(url.port) within \(Self.leaseLimit)") }
                        return nil
                    }
                    while let result = try await group.next() {
                        if let value = result {
                            group.cancelAll()
                            return value
                        }
                    }
                    throw StoreError.unavailable("no connection to PostgreSQL")
                }
            }
        } catch let error as PSQLError where error.code != .server {
            throw StoreError.unavailable("PostgreSQL at \(url.host):\(url.port): \(Self.describe(error))")
        }
    }

    public func withTransaction<T: Sendable>(
        _ body: @Sendable (any SQLSession) async throws -> T,
        afterCommit: @Sendable (T) -> Void
    ) async throws -> T {
        try await writers.withLock {
            var attempt = 1
            while true {
                do {
                    let result = try await withConnection { connection in
                        try await Self.transaction(on: Session(connection: connection, logger: logger), body)
                    }
                    afterCommit(result)
                    return result
                } catch let error as PSQLError where Self.isRetryable(error) && attempt < Self.maxAttempts {
                    // PostgreSQL's advice for 40001/40P01: run the whole transaction again.
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * min(attempt, 10)))))
                }
            }
        }
    }

    static func transaction<T: Sendable>(on session: Session, _ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        try await session.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        do {
            let result = try await body(session)
            try await session.execute("COMMIT")
            return result
        } catch {
            _ = try? await session.execute("ROLLBACK")
            throw error
        }
    }

    /// 40001 serialization_failure, 40P01 deadlock_detected.
    static func isRetryable(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    /// Runs `body` while this process holds PostgreSQL advisory lock `key` (held on a
    /// connection of its own), so that nodes starting together migrate one at a time.
    public func withAdvisoryLock<T: Sendable>(_ key: Int64, _ body: @Sendable () async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_lock($1)", binds: Self.bindings([.int(key)])),
                                           logger: logger).collect()
            do {
                let result = try await body()
                _ = try? await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_unlock($1)", binds: Self.bindings([.int(key)])),
                                                logger: logger).collect()
                return result
            } catch {
                _ = try? await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_unlock($1)", binds: Self.bindings([.int(key)])),
                                                logger: logger).collect()
                throw error
            }
        }
    }

    public func close() async {
        runTask.cancel()
        await runTask.value
    }

    static func bindings(_ binds: [SQLValue]) -> PostgresBindings {
        var b = PostgresBindings(capacity: binds.count)
        for v in binds {
            switch v {
            case .text(let s): b.append(s)
            case .int(let i): b.append(i)
            case .null: b.appendNull()
            }
        }
        return b
    }

    struct Session: SQLSession {
        let connection: PostgresConnection
        let logger: Logger

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            let query = PostgresQuery(unsafeSQL: PostgresSQL.numberingPlaceholders(sql), binds: PostgresBackend.bindings(binds))
            do {
                var rows: [SQLRow] = []
                for try await row in try await connection.query(query, logger: logger) {
                    var values: [String: SQLValue] = [:]
                    for cell in row { values[cell.columnName] = PostgresSQL.value(cell) }
                    rows.append(SQLRow(values: values))
                }
                return rows
            } catch let error as PSQLError where error.code == .server && (error.serverInfo?[.sqlState] ?? "").hasPrefix("23") {
                // Class 23: integrity constraint violation (unique, foreign key, check).
                throw SQLConstraintViolation(error.serverInfo?[.message] ?? "constraint violation")
            }
        }
    }
}

/// Turns the portable SQL into PostgreSQL's.
public enum PostgresSQL {
    /// `?` → `$1, $2, ...` outside string literals, quoted identifiers, dollar-quoted
    /// bodies and comments.
    public static func numberingPlaceholders(_ sql: String) -> String {
        guard sql.contains("?") else { return sql }
        let s = Array(sql.unicodeScalars)
        var out = String.UnicodeScalarView()
        var n = 0
        var i = 0
        func copy(until end: Int) {
            let e = min(end, s.count)
            out.append(contentsOf: s[i..<e])
            i = e
        }
        while i < s.count {
            let c = s[i]
            switch c {
            case "'", "\"":
                // Doubled quotes inside are escapes; scanning to the next quote and going
                // on from there handles them.
                var j = i + 1
                while j < s.count && s[j] != c { j += 1 }
                copy(until: j + 1)
            case "-" where i + 1 < s.count && s[i + 1] == "-":
                var j = i
                while j < s.count && s[j] != "\n" { j += 1 }
                copy(until: j)
            case "/" where i + 1 < s.count && s[i + 1] == "*":
                var j = i + 2
                while j + 1 < s.count && !(s[j] == "*" && s[j + 1] == "/") { j += 1 }
                copy(until: j + 2)
            case "$":
                // $tag$ ... $tag$ (tag empty or an identifier); `$1` is a parameter.
                var j = i + 1
                while j < s.count && (s[j].properties.isAlphabetic || s[j] == "_" || (j > i + 1 && s[j].properties.numericType != nil)) { j += 1 }
                if j < s.count && s[j] == "$" {
                    let tag = Array(s[i...j])
                    var k = j + 1
                    while k < s.count && !(k + tag.count <= s.count && Array(s[k..<(k + tag.count)]) == tag) { k += 1 }
                    copy(until: k + tag.count)
                } else {
                    copy(until: i + 1)
                }
            case "?":
                n += 1
                out.append(contentsOf: "$\(n)".unicodeScalars)
                i += 1
            default:
                copy(until: i + 1)
            }
        }
        return String(out)
    }

    static func value(_ cell: PostgresCell) -> SQLValue {
        guard let bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8:
            if let i = try? cell.decode(Int64.self) { return .int(i) }
        default:
            if let s = try? cell.decode(String.self) { return .text(s) }
        }
        if cell.format == .text { return .text(String(buffer: bytes)) }
        return .null
    }
}

/// Runs `body`, failing with `TimeoutError` after `limit`.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    var description: String { "timed out" }
}
