// The UDP transport: per listen address, one SO_REUSEPORT socket and one thread per
// worker, each running a recvmmsg → respond → sendmmsg loop over buffers allocated once.
// Nothing on this path allocates per packet.
import Atomics
import BulwarkDefences
import BulwarkOps
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Counters of one UDP worker, read by tests and (later) metrics.
public final class UDPCounters: Sendable {
    public let received = ManagedAtomic<Int>(0)
    public let sent = ManagedAtomic<Int>(0)
    /// Datagrams larger than the receive buffer, or a response the kernel refused.
    public let dropped = ManagedAtomic<Int>(0)
    public init() {}
}

/// The receive/answer/send loop of one socket. Owns its buffers and its responder;
/// lives on exactly one thread.
final class UDPWorkerLoop {
    /// Datagrams per recvmmsg/sendmmsg call.
    static let batch = 32
    /// Receive slot: a query larger than this is dropped (MSG_TRUNC). Queries are small;
    /// the largest legitimate one (question + OPT with a cookie and padding) is well below.
    static let receiveSize = 4096
    /// Strides are a cache line past a power of two so slots do not share cache sets.
    static let receiveStride = receiveSize + 64
    /// The responder's contract: a response buffer of at least 65535 bytes. Pages of it
    /// that are never written are never backed by memory.
    static let responseSize = 65535
    static let responseStride = 65536 + 64

    let fd: Int32
    let responder: QueryResponder
    let packetInfo: Bool
    let counters: UDPCounters

    let receiveBuffers: UnsafeMutableRawPointer
    let responseBuffers: UnsafeMutableRawPointer
    let names: UnsafeMutablePointer<sockaddr_storage>
    let receiveIOV: UnsafeMutablePointer<iovec>
    let sendIOV: UnsafeMutablePointer<iovec>
    let receiveMessages: UnsafeMutablePointer<MMsgHdr>
    let sendMessages: UnsafeMutablePointer<MMsgHdr>
    let receiveControl: UnsafeMutableRawPointer
    let sendControl: UnsafeMutableRawPointer

    init(fd: Int32, responder: QueryResponder, packetInfo: Bool, counters: UDPCounters) {
        let n = Self.batch
        self.fd = fd
        self.responder = responder
        self.packetInfo = packetInfo
        self.counters = counters
        receiveBuffers = .allocate(byteCount: n * Self.receiveStride, alignment: 64)
        responseBuffers = .allocate(byteCount: n * Self.responseStride, alignment: 4096)
        names = .allocate(capacity: n)
        names.initialize(repeating: sockaddr_storage(), count: n)
        receiveIOV = .allocate(capacity: n)
        sendIOV = .allocate(capacity: n)
        receiveMessages = .allocate(capacity: n)
        sendMessages = .allocate(capacity: n)
        let controlSpace = ControlMessage.pktinfoSpace
        receiveControl = .allocate(byteCount: n * controlSpace, alignment: 8)
        sendControl = .allocate(byteCount: n * controlSpace, alignment: 8)
        for i in 0..<n {
            receiveIOV[i] = iovec(iov_base: receiveBuffers + i * Self.receiveStride, iov_len: Self.receiveSize)
            sendIOV[i] = iovec(iov_base: nil, iov_len: 0)
            var header = msghdr()
            header.msg_name = UnsafeMutableRawPointer(names + i)
            header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            header.msg_iov = receiveIOV + i
            header.msg_iovlen = 1
            if packetInfo {
                header.msg_control = receiveControl + i * controlSpace
                header.msg_controllen = controlSpace
            }
            receiveMessages[i] = MMsgHdr(msg_hdr: header, msg_len: 0)
            var sendHeader = msghdr()
            sendHeader.msg_iov = sendIOV + i
            sendHeader.msg_iovlen = 1
            sendMessages[i] = MMsgHdr(msg_hdr: sendHeader, msg_len: 0)
        }
    }

    deinit {
        receiveBuffers.deallocate()
        responseBuffers.deallocate()
        names.deallocate()
        receiveIOV.deallocate()
        sendIOV.deallocate()
        receiveMessages.deallocate()
        sendMessages.deallocate()
        receiveControl.deallocate()
        sendControl.deallocate()
    }

    /// Runs until `stop` is set (the socket is also shut down to wake a blocked receive).
    func run(stop: ManagedAtomic<Bool>, logger: Logger) {
        let n = Self.batch
        let controlSpace = ControlMessage.pktinfoSpace
        var lastErrorLog: Int32 = 0
        while !stop.load(ordering: .relaxed) {
            for i in 0..<n {
                receiveMessages[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                if packetInfo { receiveMessages[i].msg_hdr.msg_controllen = controlSpace }
            }
            // MSG_WAITFORONE: block for the first datagram, then take what is queued.
            let got = MultiMessage.recvmmsg(fd, receiveMessages, UInt32(n), MultiMessage.waitForOne)
            if got <= 0 {
                if got < 0 {
                    let e = errno
                    if e == EBADF || e == ENOTSOCK || e == EINVAL { break }  // the socket is gone
                    if e != EAGAIN && e != EWOULDBLOCK && e != EINTR && e != lastErrorLog && !stop.load(ordering: .relaxed) {
                        logger.warning("recvmmsg failed: \(String(cString: strerror(e)))")
                        lastErrorLog = e
                    }
                }
                continue
            }
            counters.received.wrappingIncrement(by: Int(got), ordering: .relaxed)
            let batchStart = queryCounters != nil ? Self.monotonicNanos() : 0  // operations (issue 7)
            var out = 0
            for i in 0..<Int(got) {
                let header = receiveMessages[i].msg_hdr
                if header.msg_flags & Int32(MSG_TRUNC) != 0 {
                    counters.dropped.wrappingIncrement(ordering: .relaxed)
                    continue
                }
                let query = UnsafeRawBufferPointer(start: receiveBuffers + i * Self.receiveStride,
                                                   count: Int(receiveMessages[i].msg_len))
                let responseStart = responseBuffers + i * Self.responseStride
                let length = responder.respond(to: query, transport: .udp, client: ClientAddress(socketAddress: names + i),
                                               into: UnsafeMutableRawBufferPointer(start: responseStart, count: Self.responseSize))
                guard length > 0 else { continue }
                sendIOV[out] = iovec(iov_base: responseStart, iov_len: length)
                sendMessages[out].msg_hdr.msg_name = UnsafeMutableRawPointer(names + i)
                sendMessages[out].msg_hdr.msg_namelen = header.msg_namelen
                if packetInfo {
                    let control = sendControl + out * controlSpace
                    let controlLength = ControlMessage.replyPacketInfo(
                        received: receiveControl + i * controlSpace, length: header.msg_controllen, reply: control)
                    sendMessages[out].msg_hdr.msg_control = controlLength > 0 ? control : nil
                    sendMessages[out].msg_hdr.msg_controllen = controlLength
                }
                out += 1
            }
            var done = 0
            while done < out {
                let sent = MultiMessage.sendmmsg(fd, sendMessages + done, UInt32(out - done), 0)
                if sent > 0 {
                    done += Int(sent)
                } else if errno == EINTR {
                    continue
                } else {
                    // The first remaining datagram failed (unreachable client, full buffer): skip it.
                    counters.dropped.wrappingIncrement(ordering: .relaxed)
                    done += 1
                }
            }
            counters.sent.wrappingIncrement(by: out, ordering: .relaxed)
            // operations (issue 7): one latency sample per batch, receive to send.
            queryCounters?.recordBatch(queries: Int(got), nanoseconds: Self.monotonicNanos() &- batchStart)
        }
    }

    // --- operations (issue 7) ---
    var queryCounters: QueryCounters? { responder.counters }

    @inline(__always)
    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
    // --- end operations ---
}

/// All UDP sockets and threads of a server.
public final class UDPServer: @unchecked Sendable {
    private let store: ZoneStore
    private let maxUDPSize: Int
    private let receiveBuffer: Int
    private let defences: DefenceSettings
    private let workers: Int
    private let logger: Logger
    private let slowPath: SlowPathRouter?
    private let opsHub: OpsHub?  // operations (issue 7): per-worker counters when set
    private let stopFlag = ManagedAtomic<Bool>(false)
    private var sockets: [Int32] = []
    private var threads: [PosixThread] = []
    /// One set per socket, so workers never write a shared cache line.
    private var workerCounters: [UDPCounters] = []

    /// Totals over all workers: (received, sent, dropped).
    public var totals: (received: Int, sent: Int, dropped: Int) {
        workerCounters.reduce(into: (0, 0, 0)) { t, c in
            t.0 += c.received.load(ordering: .relaxed)
            t.1 += c.sent.load(ordering: .relaxed)
            t.2 += c.dropped.load(ordering: .relaxed)
        }
    }

    /// The policy state (RRL table, cookie secrets) is per worker; `defences` configures it.
    public init(store: ZoneStore, workers: Int, maxUDPSize: Int, receiveBuffer: Int = ServerConfig.defaultUDPReceiveBuffer,
                defences: DefenceSettings = DefenceSettings(),
                slowPath: SlowPathRouter? = nil, logger: Logger, opsHub: OpsHub? = nil) {
        self.opsHub = opsHub
        self.store = store
        self.slowPath = slowPath
        self.workers = max(1, workers)
        self.maxUDPSize = maxUDPSize
        self.receiveBuffer = receiveBuffer
        self.defences = defences
        self.logger = logger
    }

    /// Binds `workers` sockets on the address (port 0 picks a free port, shared by all
    /// of them) and starts their threads. Returns the bound port.
    @discardableResult
    public func start(_ address: ListenAddress) throws(SocketError) -> Int {
        var port = address.port
        var fds: [Int32] = []
        do {
            for _ in 0..<workers {
                let fd = try POSIXSocket.boundUDP(address, port: port, receiveBuffer: receiveBuffer)
                fds.append(fd)
                if port == 0 { port = POSIXSocket.localPort(fd) }
            }
        } catch {
            fds.forEach { close($0) }
            throw error
        }
        sockets += fds
        for (i, fd) in fds.enumerated() {
            let store = self.store, maxUDPSize = self.maxUDPSize, stop = self.stopFlag, defences = self.defences
            let logger = self.logger, counters = UDPCounters(), packetInfo = address.isWildcard, slowPath = self.slowPath
            workerCounters.append(counters)
            let queryCounters = opsHub?.makeWorker(.udp)  // operations (issue 7)
            threads.append(try PosixThread(name: "bulwark-udp\(i)") {
                let responder = QueryResponder(store: store, maxUDPSize: maxUDPSize, defences: defences,
                                               slowPath: slowPath, logger: logger, counters: queryCounters)
                UDPWorkerLoop(fd: fd, responder: responder, packetInfo: packetInfo, counters: counters)
                    .run(stop: stop, logger: logger)
            })
        }
        return port
    }

    /// Stops every thread and closes the sockets. Queries already received are answered.
    public func stop() {
        stopFlag.store(true, ordering: .relaxed)
        // Wakes a thread blocked in recvmmsg (Linux: recv returns 0); SO_RCVTIMEO is the fallback.
        for fd in sockets { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        for thread in threads { thread.join() }
        for fd in sockets { close(fd) }
        threads = []
        sockets = []
    }
}
