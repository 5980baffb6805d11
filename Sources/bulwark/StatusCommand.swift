// `bulwark status`: a one-screen summary of a running server, read from its ops
// endpoint's /status (and /insight for the top zones and names).
import ArgumentParser

import BulwarkSettings
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print a summary of a running server (from its ops endpoint).")

    @Option(name: .long, help: ArgumentHelp("The server's ops endpoint (default 127.0.0.1:9153).", valueName: "addr:port"))
    var ops: String = "127.0.0.1:9153"

    @Flag(name: .long, help: "Print /status as JSON instead.")
    var json = false

    @Option(name: .long, help: "Seconds to wait for the server (default 3).")
    var timeout: Double = 3

    func run() throws {
        let address: ListenAddress
        do { address = try ListenAddress(parsing: ops, defaultPort: 9153) } catch {
            throw ValidationError("--ops: \(error.message)")
        }
        let statusBody: Data, insightBody: Data
        do {
            statusBody = try HTTPGet.fetch(address, path: "/status", timeout: timeout)
            insightBody = json ? Data() : try HTTPGet.fetch(address, path: "/insight?top=5", timeout: timeout)
        } catch {
            FileHandle.standardError.write(Data("bulwark status: cannot read http://\(address)/status: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            FileHandle.standardOutput.write(statusBody)
            print()
            return
        }
        guard let s = try JSONSerialization.jsonObject(with: statusBody) as? [String: Any] else {
            FileHandle.standardError.write(Data("bulwark status: /status is not a JSON object\n".utf8))
            throw ExitCode(1)
        }
        let insight = (try? JSONSerialization.jsonObject(with: insightBody)) as? [String: Any] ?? [:]
        print(StatusText.render(status: s, insight: insight))
    }
}

/// The summary's text (pure, for tests).
enum StatusText {
    static func num(_ v: Any?) -> Double { (v as? NSNumber)?.doubleValue ?? 0 }

    static func human(_ v: Double) -> String {
        if v >= 1e9 { return String(format: "%.2fG", v / 1e9) }
        if v >= 1e6 { return String(format: "%.2fM", v / 1e6) }
        if v >= 1e4 { return String(format: "%.1fk", v / 1e3) }
        return v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v)
    }

    static func render(status s: [String: Any], insight: [String: Any]) -> String {
        var lines: [String] = []
        let uptime = Int(num(s["uptime_seconds"]))
        let listen = (s["listen"] as? [String] ?? []).joined(separator: ", ")
        lines.append("Bulwark  up \(uptime / 3600)h\(String(format: "%02d", uptime / 60 % 60))m\(String(format: "%02d", uptime % 60))s  DNS on \(listen)  ops on \(s["ops_listen"] as? String ?? "?")")
        lines.append("queries   \(human(num(s["queries"]))) total, \(human(num(s["qps"]))) per second (last 5 s)")
        let rcodes = (s["rcodes"] as? [String: Any] ?? [:]).map { ($0.key, num($0.value)) }.sorted { $0.1 > $1.1 }
        lines.append("rcodes    " + (rcodes.isEmpty ? "none yet" : rcodes.map { "\($0.0) \(human($0.1))" }.joined(separator: "  ")))
        if let p50 = s["latency_p50_seconds"] as? NSNumber, let p99 = s["latency_p99_seconds"] as? NSNumber {
            lines.append("latency   UDP batch p50 ≤ \(Int(p50.doubleValue * 1e6)) µs, p99 ≤ \(Int(p99.doubleValue * 1e6)) µs")
        }
        let rl = s["rate_limit"] as? [String: Any] ?? [:]
        if (rl["enabled"] as? Bool) == true {
            lines.append("rate limit \(Int(num(rl["responses_per_second"])))/s per prefix: \(human(num(rl["limited_per_second"])))/s limited now; slipped \(human(num(rl["slipped"]))), dropped \(human(num(rl["dropped"])))")
        } else {
            lines.append("rate limit off")
        }
        let tcp = s["tcp"] as? [String: Any] ?? [:]
        lines.append("tcp       \(Int(num(tcp["open"]))) open, \(human(num(tcp["accepted"]))) accepted, \(human(num(tcp["refused"]))) refused, \(human(num(tcp["evicted"]))) evicted")
        let zones = s["zones"] as? [[String: Any]] ?? []
        lines.append("zones     \(zones.count) served")
        let width = max(4, zones.prefix(10).map { ($0["name"] as? String ?? "").count }.max() ?? 4)
        for z in zones.prefix(10) {
            let name = (z["name"] as? String ?? "").padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("  \(name)  serial \(UInt64(num(z["serial"])))  \(z["provenance"] as? String ?? "")  queries \(human(num(z["queries"])))  NXDOMAIN \(human(num(z["nxdomain"])))")
        }
        if zones.count > 10 { lines.append("  … and \(zones.count - 10) more") }
        let hot = (insight["zones"] as? [[String: Any]] ?? []).prefix(3).filter { num($0["queries"]) > 0 }
        if !hot.isEmpty {
            lines.append("last minute, by NXDOMAIN:")
            for z in hot {
                lines.append("  \(z["zone"] as? String ?? "")  \(human(num(z["qps"]))) q/s, NXDOMAIN \(human(num(z["nxdomain_per_second"])))/s (\(Int(num(z["nxdomain_ratio"]) * 100))%)")
            }
        }
        let names = (insight["top_names"] as? [[String: Any]] ?? []).prefix(5)
        if !names.isEmpty {
            lines.append("top names (sampled): " + names.map { "\($0["key"] as? String ?? "") ~\(human(num($0["estimate"])))" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}

/// A minimal HTTP/1.1 GET over a blocking socket (the ops endpoint is local; no client
/// library needed for one request).
enum HTTPGet {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func fetch(_ address: ListenAddress, path: String, timeout: Double) throws -> Data {
        let fd = socket(address.family == .v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var rc: Int32
        if address.family == .v6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = in_port_t(UInt16(address.port).bigEndian)
            inet_pton(AF_INET6, address.host, &sa.sin6_addr)
            rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = in_port_t(UInt16(address.port).bigEndian)
            inet_pton(AF_INET, address.host, &sa.sin_addr)
            rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard rc == 0 else { throw Failure(description: "connect: \(String(cString: strerror(errno)))") }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\nAccept: application/json\r\n\r\n"
        let sent = request.withCString { send(fd, $0, strlen($0), 0) }
        guard sent > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 { throw Failure(description: "recv: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            response.append(contentsOf: buffer[0..<n])
            if response.count > 64 << 20 { throw Failure(description: "response too large") }
        }
        guard let split = response.range(of: Data("\r\n\r\n".utf8)) else { throw Failure(description: "no HTTP response") }
        let head = String(decoding: response[..<split.lowerBound], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 200") || head.hasPrefix("HTTP/1.0 200") else {
            throw Failure(description: "HTTP status: \(head.split(separator: "\r\n").first ?? "")")
        }
        var body = Data(response[split.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { body = try dechunk(body) }
        return body
    }

    /// RFC 9112 §7.1 chunked transfer coding.
    static func dechunk(_ data: Data) throws -> Data {
        var out = Data()
        var i = data.startIndex
        while i < data.endIndex {
            guard let lineEnd = data[i...].range(of: Data("\r\n".utf8)) else { throw Failure(description: "bad chunk") }
            let sizeText = String(decoding: data[i..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw Failure(description: "bad chunk size") }
            if size == 0 { break }
            let start = lineEnd.upperBound
            guard data.distance(from: start, to: data.endIndex) >= size else { throw Failure(description: "short chunk") }
            let end = data.index(start, offsetBy: size)
            out.append(data[start..<end])
            i = data.index(end, offsetBy: 2, limitedBy: data.endIndex) ?? data.endIndex
        }
        return out
    }
}
