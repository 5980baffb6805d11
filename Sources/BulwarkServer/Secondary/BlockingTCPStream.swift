// A TCP connection to a primary for transfers in: plain blocking-style I/O with poll()
// deadlines, used only on the secondary manager's own threads (never an event loop).
import BulwarkSettings
import BulwarkTransfer
#if canImport(Glibc)
import Glibc
#endif
import Foundation

public final class BlockingTCPStream: DNSMessageStream {
    private var fd: Int32 = -1
    /// Seconds one read or write may wait for the socket.
    let ioTimeout: Double
    /// The whole exchange must end by then.
    let deadline: Date
    public let peer: String

    /// Connects to `host` (numeric IPv4 or IPv6) on `port` within `connectTimeout` seconds.
    public init(host: String, port: Int, connectTimeout: Double, ioTimeout: Double,
                totalTimeout: Double) throws(TransferError) {
        self.ioTimeout = ioTimeout
        self.deadline = Date().addingTimeInterval(totalTimeout)
        self.peer = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let address: ListenAddress
        do {
            address = try ListenAddress(host: host, port: port)
        } catch {
            throw TransferError(.connect, error.message)
        }
        var storage = sockaddr_storage()
        let length = POSIXSocket.sockaddr(address, port: port, into: &storage)
        let family = address.family == .v6 ? AF_INET6 : AF_INET
        fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransferError(.connect, "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        if rc != 0 {
            guard errno == EINPROGRESS else {
                let e = errno
                close()
                throw TransferError(.connect, "connect to \(peer): \(String(cString: strerror(e)))")
            }
            do {
                try wait(for: Int16(POLLOUT), timeout: min(connectTimeout, ioTimeout), what: "connect to \(peer)")
            } catch {
                close()
                throw TransferError(.connect, error.message)
            }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 {
                close()
                throw TransferError(.connect, "connect to \(peer): \(String(cString: strerror(err)))")
            }
        }
    }

    deinit { close() }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    private func wait(for events: Int16, timeout: Double, what: String) throws(TransferError) {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { throw TransferError(.timeout, "\(what): the transfer time limit passed") }
        let limit = min(timeout, remaining)
        let end = Date().addingTimeInterval(limit)
        while true {
            var p = pollfd(fd: fd, events: events, revents: 0)
            let ms = Int32(max(0, end.timeIntervalSinceNow) * 1000)
            let n = poll(&p, 1, ms)
            if n > 0 { return }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw TransferError(.closed, "\(what): poll: \(String(cString: strerror(errno)))") }
            throw TransferError(.timeout, "\(what): no progress within \(limit < timeout ? "the transfer time limit" : "\(Int(timeout)) s")")
        }
    }

    public func send(_ message: [UInt8]) throws(TransferError) {
        guard fd >= 0 else { throw TransferError(.closed, "connection to \(peer) is closed") }
        guard message.count <= 65535 else { throw TransferError(.malformed, "query longer than 65535 octets") }
        var framed = [UInt8(message.count >> 8), UInt8(message.count & 0xFF)]
        framed += message
        var sent = 0
        while sent < framed.count {
            let n = framed.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                try wait(for: Int16(POLLOUT), timeout: ioTimeout, what: "sending to \(peer)")
                continue
            }
            throw TransferError(.closed, "sending to \(peer): \(String(cString: strerror(errno)))")
        }
    }

    private func read(_ count: Int, what: String) throws(TransferError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
            if n > 0 { got += n; continue }
            if n == 0 {
                throw TransferError(.closed, "\(peer) closed the connection \(got == 0 && what == "length" ? "" : "in the middle of a message ")before the transfer ended")
            }
            if errno == EAGAIN || errno == EINTR {
                try wait(for: Int16(POLLIN), timeout: ioTimeout, what: "reading from \(peer)")
                continue
            }
            throw TransferError(.closed, "reading from \(peer): \(String(cString: strerror(errno)))")
        }
        return out
    }

    public func receive() throws(TransferError) -> [UInt8] {
        guard fd >= 0 else { throw TransferError(.closed, "connection to \(peer) is closed") }
        let prefix = try read(2, what: "length")
        let length = Int(prefix[0]) << 8 | Int(prefix[1])
        guard length >= 12 else { throw TransferError(.malformed, "a \(length)-octet message from \(peer)") }
        return try read(length, what: "message")
    }
}
