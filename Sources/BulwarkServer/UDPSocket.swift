// Plain POSIX sockets for the UDP fast path (no NIO: its datagram channel allocates per
// packet) and the small helpers they need: sockaddr building, threads, control messages.
import BulwarkSettings
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

/// `struct mmsghdr` (recvmmsg(2)): Glibc hides it, and recvmmsg/sendmmsg, behind
/// _GNU_SOURCE, so they are declared here and looked up once with dlsym.
struct MMsgHdr {
    var msg_hdr: msghdr
    var msg_len: UInt32
}

/// `struct In6PktInfo` (RFC 3542 §6.1), also behind _GNU_SOURCE.
struct In6PktInfo {
    var ipi6_addr: in6_addr
    var ipi6_ifindex: UInt32
}

enum MultiMessage {
    typealias Call = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>?) -> Int32

    private static let recvmmsgCall: Call = symbol("recvmmsg")!
    typealias SendCall = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32
    private static let sendmmsgCall: SendCall = symbol("sendmmsg")!

    @inline(__always)
    static func recvmmsg(_ fd: Int32, _ messages: UnsafeMutablePointer<MMsgHdr>, _ count: UInt32, _ flags: Int32) -> Int32 {
        recvmmsgCall(fd, UnsafeMutableRawPointer(messages), count, flags, nil)
    }

    @inline(__always)
    static func sendmmsg(_ fd: Int32, _ messages: UnsafeMutablePointer<MMsgHdr>, _ count: UInt32, _ flags: Int32) -> Int32 {
        sendmmsgCall(fd, UnsafeMutableRawPointer(messages), count, flags)
    }
    static let setThreadName: SetName? = symbol("pthread_setname_np")
    /// recvmmsg(2): after the first datagram, return what is queued without waiting.
    static let waitForOne = Int32(MSG_WAITFORONE)

    static func symbol<F>(_ name: String) -> F? {
        guard let p = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }  // RTLD_DEFAULT
        return unsafeBitCast(p, to: F.self)
    }
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
        _ = MultiMessage.setThreadName?(handle, String(name.prefix(15)))
    }

    func join() {
        pthread_join(handle, nil)
    }
}

/// Control messages (cmsg) by hand: the CMSG_* macros are not visible from Swift.
/// Linux layout: `struct cmsghdr { size_t len; int level; int type; }` then data, 8-aligned.
enum ControlMessage {
    static let headerSize = MemoryLayout<Int>.size + 2 * MemoryLayout<Int32>.size
    @inline(__always) static func align(_ n: Int) -> Int { (n + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1) }
    static func space(_ dataLength: Int) -> Int { align(headerSize) + align(dataLength) }
    /// Room for one packet-info message of either family.
    static let pktinfoSpace = space(max(MemoryLayout<in_pktinfo>.size, MemoryLayout<In6PktInfo>.size))

    /// Turns the packet info of a received datagram (in `control[0..<length]`) into the
    /// control message of its reply, which then leaves from the address the query was
    /// sent to. Returns the reply's control length, 0 when there was no packet info.
    static func replyPacketInfo(received control: UnsafeMutableRawPointer, length: Int,
                                reply out: UnsafeMutableRawPointer) -> Int {
        var offset = 0
        while offset + headerSize <= length {
            let p = control + offset
            let cmsgLen = p.loadUnaligned(as: Int.self)
            let level = p.loadUnaligned(fromByteOffset: MemoryLayout<Int>.size, as: Int32.self)
            let type = p.loadUnaligned(fromByteOffset: MemoryLayout<Int>.size + 4, as: Int32.self)
            guard cmsgLen >= headerSize, offset + cmsgLen <= length else { return 0 }
            let data = p + align(headerSize)
            if level == Int32(IPPROTO_IP) && type == IP_PKTINFO && cmsgLen >= align(headerSize) + MemoryLayout<in_pktinfo>.size {
                let received = data.loadUnaligned(as: in_pktinfo.self)
                var info = in_pktinfo()
                info.ipi_spec_dst = received.ipi_addr  // source of the reply := destination of the query
                return write(out, level: Int32(IPPROTO_IP), type: IP_PKTINFO, info)
            }
            if level == Int32(IPPROTO_IPV6) && type == IPV6_PKTINFO && cmsgLen >= align(headerSize) + MemoryLayout<In6PktInfo>.size {
                let received = data.loadUnaligned(as: In6PktInfo.self)
                return write(out, level: Int32(IPPROTO_IPV6), type: IPV6_PKTINFO, received)
            }
            offset += align(cmsgLen)
        }
        return 0
    }

    private static func write<T>(_ out: UnsafeMutableRawPointer, level: Int32, type: Int32, _ value: T) -> Int {
        let total = space(MemoryLayout<T>.size)
        out.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        out.storeBytes(of: align(headerSize) + MemoryLayout<T>.size, as: Int.self)
        out.storeBytes(of: level, toByteOffset: MemoryLayout<Int>.size, as: Int32.self)
        out.storeBytes(of: type, toByteOffset: MemoryLayout<Int>.size + 4, as: Int32.self)
        withUnsafeBytes(of: value) { (out + align(headerSize)).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return total
    }
}
