// The client address of a query, from the socket address the transport already has.
import BulwarkDefences
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ClientAddress {
    /// From a `sockaddr_storage` filled by recvmmsg: reads the address octets in place,
    /// allocates nothing.
    @inline(__always)
    init(socketAddress p: UnsafePointer<sockaddr_storage>) {
        let raw = UnsafeRawPointer(p)
        switch Int32(p.pointee.ss_family) {
        case AF_INET:
            self.init(ipv4: raw + MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!)
        case AF_INET6:
            self.init(ipv6: raw + MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!)
        default:
            self = .unknown
        }
    }

    /// From a NIO channel's remote address (once per TCP connection).
    init(_ address: SocketAddress?) {
        switch address {
        case .v4(let a):
            var s = a.address
            self = withUnsafeBytes(of: &s.sin_addr) { ClientAddress(ipv4: $0.baseAddress!) }
        case .v6(let a):
            var s = a.address
            self = withUnsafeBytes(of: &s.sin6_addr) { ClientAddress(ipv6: $0.baseAddress!) }
        default:
            self = .unknown
        }
    }
}
