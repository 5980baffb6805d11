// The sockets of the tests' DNS client: queries sent over UDP or TCP (building them and
// reading responses is in BulwarkTestSupport).
import BulwarkTestSupport
import BulwarkWire
import Foundation
import XCTest
@testable import BulwarkServer
#if canImport(Glibc)
import Glibc
#endif

extension TestClient {
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

    /// Sends one datagram (an empty one too) on a connected socket.
    static func sendDatagram(_ message: [UInt8], fd: Int32) {
        _ = message.withUnsafeBytes { send(fd, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), $0.count, 0) }
    }

    /// The next datagram; nil on timeout (or, with MSG_DONTWAIT, when none is waiting).
    static func receiveDatagram(fd: Int32, flags: Int32 = 0) -> TestResponse? {
        var buf = [UInt8](repeating: 0, count: 65535)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, flags) }
        return n > 0 ? TestResponse(bytes: Array(buf[0..<n])) : nil
    }

    /// Every datagram until none comes within the socket's timeout (with MSG_DONTWAIT:
    /// every one already waiting).
    static func drain(fd: Int32, flags: Int32 = 0) -> [TestResponse] {
        var out: [TestResponse] = []
        while let r = receiveDatagram(fd: fd, flags: flags) { out.append(r) }
        return out
    }

    /// Sends one datagram and waits for the reply with the same ID (nil on timeout).
    static func udp(_ message: [UInt8], fd: Int32) -> TestResponse? {
        sendDatagram(message, fd: fd)
        while let r = receiveDatagram(fd: fd) {
            if r.id == (UInt16(message[0]) << 8 | UInt16(message[1])) { return r }
        }
        return nil
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
