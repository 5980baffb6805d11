// The embedded default: one SQLite file in the data directory, in WAL mode, with
// synchronous=FULL so that a transaction the API acknowledged survives a crash
// (SQLite's atomic commit: a SIGKILL mid-batch leaves the old or the new version).
import Foundation
import Logging
import NIOCore
import SQLiteNIO

public final class SQLiteBackend: SQLBackend {
    public let path: String
    private let connection: SQLiteConnection
    /// One connection, one statement stream: transactions and reads are serialized.
    private let mutex = AsyncMutex()

    public var dialect: SQLDialect { .sqlite }

    private init(path: String, connection: SQLiteConnection) {
        self.path = path
        self.connection = connection
    }

    /// Opens (creating if needed) the database at `path`, its directory included.
    public static func open(path: String, logger: Logger = Logger(label: "bulwark.control.sqlite")) async throws -> SQLiteBackend {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)  // sqlite-nio logs every statement at debug
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: quiet)
        let backend = SQLiteBackend(path: path, connection: connection)
        // Wait for another process's write lock instead of failing at once.
        _ = try await connection.query("PRAGMA busy_timeout=5000")
        // WAL: readers never block the writer; FULL: a commit is on disk before COMMIT returns.
        _ = try await connection.query("PRAGMA journal_mode=WAL")
        _ = try await connection.query("PRAGMA synchronous=FULL")
        _ = try await connection.query("PRAGMA foreign_keys=ON")
        return backend
    }

    public func withSession<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        try await mutex.withLock {
            try await body(Session(connection: connection))
        }
    }

    public func withTransaction<T: Sendable>(
        _ body: @Sendable (any SQLSession) async throws -> T,
        afterCommit: @Sendable (T) -> Void
    ) async throws -> T {
        try await mutex.withLock {
            let session = Session(connection: connection)
            // IMMEDIATE takes the write lock now, so another process's writer cannot
            // interleave between our reads and writes.
            try await session.execute("BEGIN IMMEDIATE")
            do {
                let result = try await body(session)
                try await session.execute("COMMIT")
                afterCommit(result)
                return result
            } catch {
                _ = try? await session.execute("ROLLBACK")
                throw error
            }
        }
    }

    public func close() async {
        try? await connection.close()
    }

    struct Session: SQLSession {
        let connection: SQLiteConnection

        static func isIOError(_ reason: SQLiteError.Reason) -> Bool {
            switch reason {
            case .ioError, .ioErrorFailedWrite, .ioErrorFailedSync, .ioErrorFailedDirSync, .ioErrorFailedTruncate,
                 .ioErrorFailedSharedMemSize, .ioErrorFailedSharedMemMap, .ioErrorFailedMemoryMap:
                return true
            default:
                return false
            }
        }

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            let data: [SQLiteData] = binds.map {
                switch $0 {
                case .text(let s): return .text(s)
                case .int(let i): return .integer(Int(i))
                case .null: return .null
                }
            }
            let rows: [SQLiteRow]
            do {
                rows = try await connection.query(sql, data)
            } catch let error as SQLiteError where error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed || error.reason == .constraint {
                throw SQLConstraintViolation(error.message)
            } catch let error as SQLiteError where error.reason == .full {
                throw StoreError.full("SQLite: \(error.message)")
            } catch let error as SQLiteError where Session.isIOError(error.reason) {
                // A write that failed (ENOSPC on the WAL, a failing disk): SQLite rolls back.
                throw StoreError.unavailable("SQLite: \(error.message)")
            }
            return rows.map { row in
                var values: [String: SQLValue] = [:]
                for column in row.columns {
                    switch column.data {
                    case .integer(let i): values[column.name] = .int(Int64(i))
                    case .text(let s): values[column.name] = .text(s)
                    case .float(let d): values[column.name] = .int(Int64(d))
                    case .blob(let b): values[column.name] = .text(String(buffer: b))
                    case .null: values[column.name] = .null
                    }
                }
                return SQLRow(values: values)
            }
        }
    }
}
