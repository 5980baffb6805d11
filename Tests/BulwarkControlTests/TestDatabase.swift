// The database the control plane's XCTests run on: a real SQLite file (the default), or
// with BULWARK_TEST_DATABASE=postgres a real PostgreSQL server that this process starts
// once (Debian's binaries: initdb + pg_ctl in a temporary directory, 127.0.0.1, a free
// port; as the `postgres` user when running as root) and stops at exit. Each harness
// directory gets its own database, so a restart of the same directory finds its data.
import BulwarkControl
import BulwarkServer
import Foundation
import Logging
import NIOConcurrencyHelpers
import XCTest

enum TestDatabase {
    static var isPostgres: Bool {
        ProcessInfo.processInfo.environment["BULWARK_TEST_DATABASE"] == "postgres"
    }

    static func open(dir: String, logger: Logger) async throws -> any SQLBackend {
        guard isPostgres else {
            return try await SQLiteBackend.open(path: dir + "/control.sqlite", logger: logger)
        }
        let server = try TestPostgres.shared()
        let name = "t_" + String(UInt64(truncatingIfNeeded: stableHash(dir)), radix: 16)
        let admin = try await PostgresBackend.open(url: server.url(database: "postgres"), wait: .seconds(60), logger: logger)
        do {
            try await admin.withSession { s in try await s.execute("CREATE DATABASE \(name)") }
        } catch {
            // 42P04 duplicate_database: a restart of the same directory.
            guard "\(String(reflecting: error))".contains("42P04") else {
                await admin.close()
                throw error
            }
        }
        await admin.close()
        return try await PostgresBackend.open(url: server.url(database: name), logger: logger)
    }

    static func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for b in s.utf8 {
            h ^= UInt64(b)
            h &*= 0x100_0000_01b3
        }
        return h
    }
}

/// One PostgreSQL cluster for this test process.
final class TestPostgres: Sendable {
    let bin: String
    let dir: String
    let port: Int
    let user: String
    let asRoot: Bool

    private static let instance = NIOLockedValueBox<Result<TestPostgres, any Error>?>(nil)

    static func shared() throws -> TestPostgres {
        try instance.withLockedValue { state in
            if let state { return try state.get() }
            let r = Result { try TestPostgres.start() }
            state = r
            return try r.get()
        }
    }

    func url(database: String) -> PostgresURL {
        PostgresURL(host: "127.0.0.1", port: port, user: user, password: nil, database: database)
    }

    private init(bin: String, dir: String, port: Int, user: String, asRoot: Bool) {
        self.bin = bin
        self.dir = dir
        self.port = port
        self.user = user
        self.asRoot = asRoot
    }

    static func binDir() -> String? {
        if let d = ProcessInfo.processInfo.environment["BULWARK_PG_BIN"] { return d }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for v in versions where FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(v)/bin/initdb") {
            return "/usr/lib/postgresql/\(v)/bin"
        }
        return nil
    }

    private static func start() throws -> TestPostgres {
        guard let bin = binDir() else {
            let ci = ["1", "true", "yes"].contains((ProcessInfo.processInfo.environment["CI"] ?? "").lowercased())
            let msg = "BULWARK_TEST_DATABASE=postgres but PostgreSQL's binaries are not installed (apt-get install postgresql)"
            if ci { throw TestPostgresError(description: msg) }
            throw XCTSkip(msg)
        }
        let asRoot = geteuid() == 0
        let dir = NSTemporaryDirectory() + "bulwark-xctest-pg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let user = asRoot ? "postgres" : (ProcessInfo.processInfo.environment["USER"] ?? "postgres")
        if asRoot {
            guard let pw = getpwnam("postgres") else { throw TestPostgresError(description: "running as root and there is no postgres user") }
            chown(dir, pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        let port = freePort()
        let server = TestPostgres(bin: bin, dir: dir, port: port, user: user, asRoot: asRoot)
        try server.run(["\(bin)/initdb", "-D", "\(dir)/data", "-U", user, "--auth=trust", "--encoding=UTF8",
                        "--locale=C", "--no-sync"])
        // `postgres` itself as a child (not `pg_ctl start`: Foundation's Process never sees
        // pg_ctl exit while the daemon it leaves holds the descriptors it inherited).
        try server.launch(["\(bin)/postgres", "-D", "\(dir)/data", "-h", "127.0.0.1", "-p", "\(port)", "-k", dir,
                           "-c", "max_connections=200", "-c", "shared_buffers=32MB"])
        runningDataDir.withLockedValue { $0 = server }
        atexit {
            guard let s = runningDataDir.withLockedValue({ $0 }) else { return }
            try? s.run(["\(s.bin)/pg_ctl", "stop", "-m", "immediate", "-D", "\(s.dir)/data"])
            try? FileManager.default.removeItem(atPath: s.dir)
        }
        return server
    }

    /// `argv` as a process, run as user postgres when we are root (initdb refuses root).
    func process(_ argv: [String]) -> Process {
        let p = Process()
        if asRoot {
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            p.arguments = ["-u", "postgres", "--"] + argv
        } else {
            p.executableURL = URL(fileURLWithPath: argv[0])
            p.arguments = Array(argv.dropFirst())
        }
        return p
    }

    func launch(_ argv: [String]) throws {
        let p = process(argv)
        let logPath = dir + "/postgres.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
    }

    func run(_ argv: [String]) throws {
        let p = process(argv)
        // A file, not a pipe: the server pg_ctl leaves running would hold a pipe open.
        let errPath = dir + "/command.err"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer { try? err.close() }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            let out = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            throw TestPostgresError(description: "\(argv.joined(separator: " ")) failed: \(out)")
        }
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

private let runningDataDir = NIOLockedValueBox<TestPostgres?>(nil)

struct TestPostgresError: Error, CustomStringConvertible {
    var description: String
}
