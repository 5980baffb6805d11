// A minimal blocking DNS client for tests: builds queries, sends them over UDP or TCP,
// reads the header and the first answer's RDATA from responses.
import Foundation
import XCTest
@testable import BulwarkServer
#if canImport(Glibc)
import Glibc
#endif

struct TestResponse {
    var bytes: [UInt8]
    var id: UInt16 { UInt16(bytes[0]) << 8 | UInt16(bytes[1]) }
    var rcode: Int { Int(bytes[3] & 0x0F) }
    var flags: UInt16 { UInt16(bytes[2]) << 8 | UInt16(bytes[3]) }
    var qdcount: Int { Int(bytes[4]) << 8 | Int(bytes[5]) }
    var ancount: Int { Int(bytes[6]) << 8 | Int(bytes[7]) }

    /// RDATA of every answer record (names skipped, compression allowed).
    var answerRData: [[UInt8]] {
        var o = 12
        func skipName() {
            while o < bytes.count {
                let l = Int(bytes[o])
                if l == 0 { o += 1; return }
                if l & 0xC0 == 0xC0 { o += 2; return }
                o += 1 + l
            }
        }
        for _ in 0..<qdcount { skipName(); o += 4 }
        var out: [[UInt8]] = []
        for _ in 0..<ancount {
            skipName()
            guard o + 10 <= bytes.count else { break }
            let rdlen = Int(bytes[o + 8]) << 8 | Int(bytes[o + 9])
            o += 10
            guard o + rdlen <= bytes.count else { break }
            out.append(Array(bytes[o..<(o + rdlen)]))
            o += rdlen
        }
        return out
    }
}

enum TestClient {
    static func query(_ name: String, type: UInt16 = 1, id: UInt16 = 0x1234) -> [UInt8] {
        var q: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        q += (try! DNSName(name)).wire
        q += [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        return q
    }

    static func sockaddrIn(port: Int, host: String = "127.0.0.1") -> sockaddr_in {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = in_port_t(UInt16(port).bigEndian)
        sin.sin_addr.s_addr = inet_addr(host)
        return sin
    }

    /// A UDP socket connected to 127.0.0.1:port with a receive timeout.
    static func udpSocket(port: Int, timeoutMS: Int = 1000, host: String = "127.0.0.1") -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var tv = timeval(tv_sec: timeoutMS / 1000, tv_usec: (timeoutMS % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sin = sockaddrIn(port: port, host: host)
        _ = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return fd
    }

    /// Sends one datagram and waits for the reply with the same ID (nil on timeout).
    static func udp(_ message: [UInt8], fd: Int32) -> TestResponse? {
        _ = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var buf = [UInt8](repeating: 0, count: 65535)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return nil }
            let r = TestResponse(bytes: Array(buf[0..<n]))
            if r.id == (UInt16(message[0]) << 8 | UInt16(message[1])) { return r }
        }
    }

    static func udp(_ message: [UInt8], port: Int, timeoutMS: Int = 1000) -> TestResponse? {
        let fd = udpSocket(port: port, timeoutMS: timeoutMS)
        defer { close(fd) }
        return udp(message, fd: fd)
    }

    /// A connected TCP socket with a receive timeout.
    static func tcpSocket(port: Int, timeoutMS: Int = 2000) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeoutMS / 1000, tv_usec: (timeoutMS % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sin = sockaddrIn(port: port)
        let rc = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(rc == 0, "connect failed: \(errno)")
        return fd
    }

    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    static func sendAll(_ bytes: [UInt8], fd: Int32) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            sent += n
        }
    }

    /// Reads exactly n bytes; nil on timeout or close.
    static func readExactly(_ n: Int, fd: Int32) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
            guard r > 0 else { return nil }
            got += r
        }
        return out
    }

    static func readFramed(fd: Int32) -> TestResponse? {
        guard let len = readExactly(2, fd: fd) else { return nil }
        guard let body = readExactly(Int(len[0]) << 8 | Int(len[1]), fd: fd) else { return nil }
        return TestResponse(bytes: body)
    }
}

func ipv4(_ text: String) -> [UInt8] {
    text.split(separator: ".").map { UInt8($0)! }
}
