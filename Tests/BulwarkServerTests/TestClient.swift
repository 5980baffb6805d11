// A minimal blocking DNS client for tests: builds queries (with or without EDNS), sends
// them over UDP or TCP, reads the header, the records and the OPT options of responses.
import BulwarkWire
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
    var tc: Bool { flags & 0x0200 != 0 }
    var qdcount: Int { Int(bytes[4]) << 8 | Int(bytes[5]) }
    var ancount: Int { Int(bytes[6]) << 8 | Int(bytes[7]) }
    var nscount: Int { Int(bytes[8]) << 8 | Int(bytes[9]) }
    var arcount: Int { Int(bytes[10]) << 8 | Int(bytes[11]) }

    /// One resource record as it stands in the message (its owner name skipped).
    struct Record {
        enum Section { case answer, authority, additional }
        var section: Section
        var type: UInt16
        /// The TTL field's first octet: for OPT, the extended rcode (RFC 6891 §6.1.3).
        var ttlHigh: UInt8
        var rdata: [UInt8]
    }

    /// Every record of the answer, authority and additional sections, in order (names
    /// skipped, compression allowed); the walk stops at the first record that does not fit.
    var records: [Record] {
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
        let sections = Array(repeating: Record.Section.answer, count: ancount)
            + Array(repeating: .authority, count: nscount) + Array(repeating: .additional, count: arcount)
        var out: [Record] = []
        for section in sections {
            skipName()
            guard o + 10 <= bytes.count else { break }
            let rdlen = Int(bytes[o + 8]) << 8 | Int(bytes[o + 9])
            guard o + 10 + rdlen <= bytes.count else { break }
            out.append(Record(section: section, type: UInt16(bytes[o]) << 8 | UInt16(bytes[o + 1]), ttlHigh: bytes[o + 4],
                              rdata: Array(bytes[(o + 10)..<(o + 10 + rdlen)])))
            o += 10 + rdlen
        }
        return out
    }

    /// RDATA of every answer record.
    var answerRData: [[UInt8]] { records.filter { $0.section == .answer }.map(\.rdata) }

    /// The type of every answer record.
    var answerTypes: [UInt16] { records.filter { $0.section == .answer }.map(\.type) }

    /// The OPT record's extended rcode octet and options, when the response has one.
    var opt: (extendedRCode: UInt8, options: [UInt16: [UInt8]])? {
        guard let record = records.first(where: { $0.type == 41 }) else { return nil }
        var options: [UInt16: [UInt8]] = [:]
        let r = record.rdata
        var p = 0
        while p + 4 <= r.count {
            let code = UInt16(r[p]) << 8 | UInt16(r[p + 1])
            let len = Int(r[p + 2]) << 8 | Int(r[p + 3])
            options[code] = Array(r[(p + 4)..<(p + 4 + len)])
            p += 4 + len
        }
        return (record.ttlHigh, options)
    }
}

enum TestClient {
    static func query(_ name: String, type: UInt16 = 1, id: UInt16 = 0x1234) -> [UInt8] {
        var q: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        q += (try! DNSName(name)).wire
        q += [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        return q
    }

    /// A query with an OPT record (payload 1232) carrying `options` (code, data).
    static func ednsQuery(_ name: String, type: UInt16 = 1, id: UInt16, options: [(UInt16, [UInt8])] = []) -> [UInt8] {
        var q = query(name, type: type, id: id)
        q[11] = 1  // ARCOUNT
        var rdata: [UInt8] = []
        for (code, data) in options {
            rdata += [UInt8(code >> 8), UInt8(code & 0xFF), UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
        }
        q += [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
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
