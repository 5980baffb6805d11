// The optional sampled query log: one line per sampled query (the workers already sample
// 1 in N for the insight view; the log takes those samples), written by the insight
// thread, never by a worker. Bounded twice: at most `linesPerSecond` lines (LineBudget),
// and the file is rotated to FILE.1 when it reaches `maxBytes`, so it holds at most
// 2 × maxBytes on disk whatever the flood.
import BulwarkDefences
import Foundation
import Synchronization

public struct QueryLogSettings: Sendable, Equatable {
    public var path: String
    public var linesPerSecond: Double = 100
    public var maxBytes: Int = 64 << 20
    public init(path: String) { self.path = path }
}

public final class QueryLog: Sendable {
    public let settings: QueryLogSettings
    private struct State {
        var handle: FileHandle?
        var size = 0
        var budget: LineBudget
    }
    private let state: Mutex<State>

    public init(settings: QueryLogSettings) throws {
        self.settings = settings
        let fm = FileManager.default
        if !fm.fileExists(atPath: settings.path) {
            guard fm.createFile(atPath: settings.path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: settings.path])
            }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: settings.path))
        let size = Int(try handle.seekToEnd())
        state = Mutex(State(handle: handle, size: size,
                            budget: LineBudget(linesPerSecond: settings.linesPerSecond, burst: settings.linesPerSecond)))
    }

    /// One line: time, transport, client, name, type, rcode.
    static func line(_ s: QuerySample, now: Double) -> String {
        let family: ClientAddress.Family = s.family == 4 ? .v4 : s.family == 6 ? .v6 : .unknown
        let client = ClientAddress(family: family, high: s.high, low: s.low)
        let rcode = Int(s.rcode) < RCodeBucket.names.count ? RCodeBucket.names[Int(s.rcode)] : "\(s.rcode)"
        let type = QTypeBucket.names[QTypeBucket.index(s.qtype)]
        let typeText = type == "other" ? "TYPE\(s.qtype)" : type
        return String(format: "%.3f", now) + " \(s.tcp ? "tcp" : "udp") \(client) \(QueryInsight.nameText(s.name)) \(typeText) \(rcode)\n"
    }

    /// Writes what the budget allows of `samples`; returns the number of lines written.
    @discardableResult
    public func write(_ samples: [QuerySample], now: Double) -> Int {
        state.withLock { s in
            var text = ""
            var n = 0
            for sample in samples {
                let (ok, suppressed) = s.budget.take(now: now)
                guard ok else { continue }
                if suppressed > 0 { text += String(format: "%.3f", now) + " (\(suppressed) sampled queries not logged: rate limit)\n" }
                text += Self.line(sample, now: now)
                n += 1
            }
            guard !text.isEmpty else { return 0 }
            let data = Data(text.utf8)
            if s.size + data.count > settings.maxBytes { rotate(&s) }
            try? s.handle?.write(contentsOf: data)
            s.size += data.count
            return n
        }
    }

    private func rotate(_ s: inout State) {
        try? s.handle?.close()
        let fm = FileManager.default
        let old = settings.path + ".1"
        try? fm.removeItem(atPath: old)
        try? fm.moveItem(atPath: settings.path, toPath: old)
        _ = fm.createFile(atPath: settings.path, contents: nil)
        s.handle = try? FileHandle(forWritingTo: URL(fileURLWithPath: settings.path))
        s.size = 0
    }

    public func close() { state.withLock { try? $0.handle?.close(); $0.handle = nil } }
}
