// Plain POSIX sockets for the UDP fast path (no NIO: its datagram channel allocates per
// packet) and the small helpers they need: sockaddr building, threads, control messages.
// The calls and structs Glibc hides (recvmmsg, struct mmsghdr, CMSG_*) come from CBulwarkLinux.
import BulwarkSettings
import CBulwarkLinux
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A socket-layer failure with the call and errno that caused it.
public struct SocketError: Error, CustomStringConvertible {
    public var call: String
    public var address: String
    public var errnoValue: Int32
    public var description: String { "\(call) on \(address): \(String(cString: strerror(errnoValue)))" }
}

enum POSIXSocket {
    /// Fills a sockaddr_storage for `address` with the given port; returns its length.
    static func sockaddr(_ address: ListenAddress, port: Int, into storage: inout sockaddr_storage) -> socklen_t {
        storage = sockaddr_storage()
        switch address.family {
        case .v4:
            return withUnsafeMutableBytes(of: &storage) { raw in
                let sin = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                sin.pointee.sin_family = sa_family_t(AF_INET)
                sin.pointee.sin_port = in_port_t(UInt16(port).bigEndian)
                _ = inet_pton(AF_INET, address.host, &sin.pointee.sin_addr)
                return socklen_t(MemoryLayout<sockaddr_in>.size)
            }
        case .v6:
            return withUnsafeMutableBytes(of: &storage) { raw in
                let sin6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                sin6.pointee.sin6_family = sa_family_t(AF_INET6)
                sin6.pointee.sin6_port = in_port_t(UInt16(port).bigEndian)
                _ = inet_pton(AF_INET6, address.host, &sin6.pointee.sin6_addr)
                return socklen_t(MemoryLayout<sockaddr_in6>.size)
            }
        }
    }

    static func setInt(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
        var v = value
        return setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    /// A UDP socket bound to `address:port` with SO_REUSEPORT, so that one socket per
    /// worker shares the port and the kernel spreads datagrams among them.
    static func boundUDP(_ address: ListenAddress, port: Int, receiveBuffer: Int = 4 << 20) throws(SocketError) -> Int32 {
        let domain = address.family == .v4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket", address: address.description, errnoValue: errno) }
        func fail(_ call: String) -> SocketError {
            let e = errno
            close(fd)
            return SocketError(call: call, address: "\(address.family == .v6 ? "[\(address.host)]" : address.host):\(port)", errnoValue: e)
        }
        guard setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1) else { throw fail("setsockopt(SO_REUSEPORT)") }
        if address.family == .v6 {
            // v6 sockets serve v6 only; v4 has its own sockets (no mapped addresses).
            guard setInt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) else { throw fail("setsockopt(IPV6_V6ONLY)") }
        }
        if address.isWildcard {
            // A wildcard socket must answer from the address the query was sent to.
            if address.family == .v4 {
                guard setInt(fd, Int32(IPPROTO_IP), IP_PKTINFO, 1) else { throw fail("setsockopt(IP_PKTINFO)") }
            } else {
                guard setInt(fd, Int32(IPPROTO_IPV6), IPV6_RECVPKTINFO, 1) else { throw fail("setsockopt(IPV6_RECVPKTINFO)") }
            }
        }
        // Room for bursts. SO_RCVBUFFORCE (with CAP_NET_ADMIN, as NSD does) passes
        // net.core.rmem_max; without it the kernel caps SO_RCVBUF there (harmless).
        let rcvbuf = Int32(clamping: receiveBuffer)
        if !setInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) { _ = setInt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf) }
        _ = setInt(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20)
        // The receive loop wakes at least this often to see a stop request.
        var tv = timeval(tv_sec: 0, tv_usec: 250_000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var storage = sockaddr_storage()
        let len = sockaddr(address, port: port, into: &storage)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        guard rc == 0 else { throw fail("UDP bind") }
        return fd
    }

    /// The port a socket is bound to (after binding port 0).
    static func localPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return withUnsafeBytes(of: &storage) { raw in
            if raw.load(as: sa_family_t.self) == sa_family_t(AF_INET) {
                return Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
            }
            return Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
        }
    }
}

/// A joinable POSIX thread running a closure.
final class PosixThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
    private var handle = pthread_t()

    init(name: String, _ body: @escaping @Sendable () -> Void) throws(SocketError) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&handle, nil, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SocketError(call: "pthread_create", address: name, errnoValue: rc)
        }
        _ = CBulwarkLinux_pthread_setname_np(handle, name)  // cut to 15 bytes there
    }

    func join() {
        pthread_join(handle, nil)
    }
}

/// Control messages (cmsg(3)), through the CMSG_* macros of CBulwarkLinux.
enum ControlMessage {
    /// Room for one packet-info message of either family.
    static let pktinfoSpace = CBulwarkLinux_CMSG_SPACE(
        max(MemoryLayout<in_pktinfo>.size, MemoryLayout<CBulwarkLinux_in6_pktinfo>.size))

    /// Turns the packet info of a received datagram (the control messages of `received`)
    /// into the control message of its reply, which then leaves from the address the
    /// query was sent to. `reply`'s msg_control must point at `pktinfoSpace` bytes; its
    /// msg_controllen is set to what was written, and msg_control to nil when the query
    /// carried no packet info.
    @inline(__always)
    static func replyPacketInfo(received: UnsafeMutablePointer<msghdr>, reply: UnsafeMutablePointer<msghdr>) {
        reply.pointee.msg_controllen = pktinfoSpace
        let written = packetInfo(of: received, into: reply)
        reply.pointee.msg_controllen = written
        if written == 0 { reply.pointee.msg_control = nil }
    }

    private static func packetInfo(of received: UnsafeMutablePointer<msghdr>, into reply: UnsafeMutablePointer<msghdr>) -> Int {
        guard let control = received.pointee.msg_control else { return 0 }
        let end = UnsafeRawPointer(control) + received.pointee.msg_controllen
        var next = CBulwarkLinux_CMSG_FIRSTHDR(received)
        while let c = next {
            let length = c.pointee.cmsg_len
            // A message cut short (MSG_CTRUNC) is not read past the buffer.
            guard length <= UnsafeRawPointer(c).distance(to: end) else { return 0 }
            let data = UnsafeRawPointer(CBulwarkLinux_CMSG_DATA(c)!)
            if c.pointee.cmsg_level == Int32(IPPROTO_IP) && c.pointee.cmsg_type == IP_PKTINFO
                && length >= CBulwarkLinux_CMSG_LEN(MemoryLayout<in_pktinfo>.size) {
                // ip(7) IP_PKTINFO: on send, ipi_spec_dst is the source address; the
                // query's destination (ipi_addr) becomes the reply's source.
                var info = in_pktinfo()
                info.ipi_spec_dst = data.loadUnaligned(as: in_pktinfo.self).ipi_addr
                return write(into: reply, level: Int32(IPPROTO_IP), type: IP_PKTINFO, info)
            }
            if c.pointee.cmsg_level == Int32(IPPROTO_IPV6) && c.pointee.cmsg_type == IPV6_PKTINFO
                && length >= CBulwarkLinux_CMSG_LEN(MemoryLayout<CBulwarkLinux_in6_pktinfo>.size) {
                // ipv6(7), RFC 3542 §6.1: the received in6_pktinfo, sent back as is,
                // sets the reply's source address and interface.
                return write(into: reply, level: Int32(IPPROTO_IPV6), type: IPV6_PKTINFO,
                             data.loadUnaligned(as: CBulwarkLinux_in6_pktinfo.self))
            }
            next = CBulwarkLinux_CMSG_NXTHDR(received, c)
        }
        return 0
    }

    /// Writes one control message holding `value` as the first of `reply`'s; returns
    /// the control length (CMSG_SPACE).
    @inline(__always)
    private static func write<T>(into reply: UnsafeMutablePointer<msghdr>, level: Int32, type: Int32, _ value: T) -> Int {
        guard let c = CBulwarkLinux_CMSG_FIRSTHDR(reply) else { return 0 }
        let total = CBulwarkLinux_CMSG_SPACE(MemoryLayout<T>.size)
        UnsafeMutableRawPointer(c).initializeMemory(as: UInt8.self, repeating: 0, count: total)
        c.pointee.cmsg_len = CBulwarkLinux_CMSG_LEN(MemoryLayout<T>.size)
        c.pointee.cmsg_level = level
        c.pointee.cmsg_type = type
        UnsafeMutableRawPointer(CBulwarkLinux_CMSG_DATA(c)!).storeBytes(of: value, as: T.self)
        return total
    }
}
