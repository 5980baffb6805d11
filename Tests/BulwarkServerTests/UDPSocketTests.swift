import BulwarkSettings
import CBulwarkLinux
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BulwarkServer

/// The UDP socket options a listener is bound with.
final class UDPSocketTests: XCTestCase {
    func receiveBuffer(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &length)
        return value
    }

    func testReceiveBufferIsTheConfiguredSize() throws {
        let address = try ListenAddress(parsing: "127.0.0.1:0")
        for size in [1 << 18, 1 << 20] {
            let fd = try POSIXSocket.boundUDP(address, port: 0, receiveBuffer: size)
            defer { close(fd) }
            // Linux doubles the value for its own bookkeeping (socket(7)); without
            // CAP_NET_ADMIN it is capped at net.core.rmem_max.
            let got = Int(receiveBuffer(fd))
            let cap = (try? String(contentsOfFile: "/proc/sys/net/core/rmem_max", encoding: .utf8))
                .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? Int.max
            if geteuid() == 0 || size <= cap {
                XCTAssertEqual(got, 2 * size)
            } else {
                XCTAssertEqual(got, 2 * cap)
            }
        }
    }

    /// One datagram sent from `client` to `server` (both "host:port" with port 0 here),
    /// received on `fd` with room for packet info; returns the reply's control message
    /// as ControlMessage builds it: (level, type, data), or nil when it built none.
    func replyControl(fd: Int32, port: Int, from client: String) throws -> (Int32, Int32, [UInt8])? {
        let to = try ListenAddress(parsing: client)
        var target = sockaddr_storage()
        let targetLength = POSIXSocket.sockaddr(to, port: port, into: &target)
        let sender = socket(to.family == .v4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(sender) }
        let payload: [UInt8] = [1, 2, 3]
        let sent = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(sender, payload, payload.count, 0, $0, targetLength) }
        }
        XCTAssertEqual(sent, payload.count, client)

        let space = ControlMessage.pktinfoSpace
        let alignment = MemoryLayout<cmsghdr>.alignment
        let receiveControl = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: alignment)
        let sendControl = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: alignment)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 8)
        let iov = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
        let name = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)
        defer {
            receiveControl.deallocate(); sendControl.deallocate(); buffer.deallocate(); iov.deallocate(); name.deallocate()
        }
        iov.pointee = iovec(iov_base: buffer, iov_len: 512)
        var received = msghdr()
        received.msg_name = UnsafeMutableRawPointer(name)
        received.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
        received.msg_iov = iov
        received.msg_iovlen = 1
        received.msg_control = receiveControl
        received.msg_controllen = space
        XCTAssertEqual(recvmsg(fd, &received, 0), payload.count, client)
        XCTAssertEqual(received.msg_flags & Int32(MSG_CTRUNC), 0, "pktinfoSpace holds the packet info")

        var reply = msghdr()
        reply.msg_control = sendControl
        ControlMessage.replyPacketInfo(received: &received, reply: &reply)
        guard let c = CBulwarkLinux_CMSG_FIRSTHDR(&reply) else {
            XCTAssertNil(reply.msg_control)
            XCTAssertEqual(reply.msg_controllen, 0)
            return nil
        }
        let dataLength = c.pointee.cmsg_len - CBulwarkLinux_CMSG_LEN(0)
        XCTAssertEqual(reply.msg_controllen, CBulwarkLinux_CMSG_SPACE(dataLength))
        XCTAssertNil(CBulwarkLinux_CMSG_NXTHDR(&reply, c), "one control message")
        let data = UnsafeRawBufferPointer(start: CBulwarkLinux_CMSG_DATA(c), count: dataLength)
        return (c.pointee.cmsg_level, c.pointee.cmsg_type, Array(data))
    }

    /// A wildcard socket answers from the address a query was sent to: the reply's
    /// control message (ip(7) IP_PKTINFO, ipv6(7) IPV6_PKTINFO) names it.
    func testReplyPacketInfoNamesTheQueriedAddress() throws {
        let v4 = try POSIXSocket.boundUDP(try ListenAddress(parsing: "0.0.0.0:0"), port: 0)
        defer { close(v4) }
        let reply4 = try XCTUnwrap(try replyControl(fd: v4, port: POSIXSocket.localPort(v4), from: "127.0.0.2:0"))
        XCTAssertEqual(reply4.0, Int32(IPPROTO_IP))
        XCTAssertEqual(reply4.1, IP_PKTINFO)
        let info4 = reply4.2.withUnsafeBytes { $0.loadUnaligned(as: in_pktinfo.self) }
        XCTAssertEqual(info4.ipi_spec_dst.s_addr, UInt32(0x7F00_0002).bigEndian)
        XCTAssertEqual(info4.ipi_ifindex, 0)
        XCTAssertEqual(info4.ipi_addr.s_addr, 0)

        // Without packet info (a socket on one address), no control message.
        let plain = try POSIXSocket.boundUDP(try ListenAddress(parsing: "127.0.0.1:0"), port: 0)
        defer { close(plain) }
        XCTAssertNil(try replyControl(fd: plain, port: POSIXSocket.localPort(plain), from: "127.0.0.1:0"))

        guard let probe = try? POSIXSocket.boundUDP(try ListenAddress(parsing: "[::1]:0"), port: 0) else {
            throw XCTSkip("no IPv6 loopback here")
        }
        close(probe)
        let v6 = try POSIXSocket.boundUDP(try ListenAddress(parsing: "[::]:0"), port: 0)
        defer { close(v6) }
        let reply6 = try XCTUnwrap(try replyControl(fd: v6, port: POSIXSocket.localPort(v6), from: "[::1]:0"))
        XCTAssertEqual(reply6.0, Int32(IPPROTO_IPV6))
        XCTAssertEqual(reply6.1, IPV6_PKTINFO)
        XCTAssertEqual(reply6.2.count, MemoryLayout<CBulwarkLinux_in6_pktinfo>.size)
        let info6 = reply6.2.withUnsafeBytes { $0.loadUnaligned(as: CBulwarkLinux_in6_pktinfo.self) }
        XCTAssertEqual(withUnsafeBytes(of: info6.ipi6_addr) { Array($0) }, [UInt8](repeating: 0, count: 15) + [1])
        XCTAssertNotEqual(info6.ipi6_ifindex, 0, "the loopback interface")
    }
}
