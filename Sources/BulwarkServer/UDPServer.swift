// The UDP transport: per listen address, one SO_REUSEPORT socket and one thread per
// worker, each running a recvmmsg → respond → sendmmsg loop over buffers allocated once.
// Nothing on this path allocates per packet.
import Atomics
import BulwarkDefences
import BulwarkOps
import BulwarkPipeline
import BulwarkSettings
import BulwarkZone
import CBulwarkLinux
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

/// The receive/answer/send loop of one worker. Owns its buffers and its responder;
/// lives on exactly one thread. It reads one socket, or, with fair queues
/// (FairQueues.swift), its first socket while calm and all of them in turn when fair.
final class UDPWorkerLoop {
    /// Datagrams per recvmmsg/sendmmsg call.
    static let batch = 32
    /// Datagrams per socket per round in fair mode: a round over two flooded queues is
    /// then about 16 answers long, which bounds how long a query on a third one waits.
    static let fairBatch = 8
    /// Receive slot: a query larger than this is dropped (MSG_TRUNC). Queries are small;
    /// the largest legitimate one (question + OPT with a cookie and padding) is well below.
    static let receiveSize = 4096
    /// Strides are a cache line past a power of two so slots do not share cache sets.
    static let receiveStride = receiveSize + 64
    /// The responder's contract: a response buffer of at least 65535 bytes. Pages of it
    /// that are never written are never backed by memory.
    static let responseSize = 65535
    static let responseStride = 65536 + 64

    /// This worker's sockets, as poll(2) entries; usually one.
    let sockets: UnsafeMutablePointer<pollfd>
    let socketCount: Int
    /// With several sockets: the group's calm/fair state (FairQueues.swift).
    let fairSwitch: FairQueueSwitch?
    let workerIndex: Int
    /// Consecutive full batches (the queue is not emptying), each mostly from one client
    /// prefix, that make a worker ask for fair queues, once another prefix was among them.
    static let saturatedBatches = 16
    /// Per query of the last batch, its client prefix (for `dominantPrefix`).
    let prefixKeys: UnsafeMutablePointer<UInt64>
    let responder: QueryResponder
    let packetInfo: Bool
    let counters: UDPCounters
    /// This worker's query counters (the responder's observer); nil when counting is off.
    let queryCounters: QueryCounters?

    let receiveBuffers: UnsafeMutableRawPointer
    let responseBuffers: UnsafeMutableRawPointer
    let names: UnsafeMutablePointer<sockaddr_storage>
    let receiveIOV: UnsafeMutablePointer<iovec>
    let sendIOV: UnsafeMutablePointer<iovec>
    let receiveMessages: UnsafeMutablePointer<CBulwarkLinux_mmsghdr>
    let sendMessages: UnsafeMutablePointer<CBulwarkLinux_mmsghdr>
    let receiveControl: UnsafeMutableRawPointer
    let sendControl: UnsafeMutableRawPointer

    init(fds: [Int32], fairSwitch: FairQueueSwitch? = nil, workerIndex: Int = 0, responder: QueryResponder,
         packetInfo: Bool, counters: UDPCounters, queryCounters: QueryCounters? = nil) {
        let n = Self.batch
        self.fairSwitch = fds.count > 1 ? fairSwitch : nil
        self.workerIndex = workerIndex
        prefixKeys = .allocate(capacity: n)
        socketCount = max(1, fds.count)
        sockets = .allocate(capacity: socketCount)
        for (i, fd) in fds.enumerated() { sockets[i] = pollfd(fd: fd, events: Int16(POLLIN), revents: 0) }
        self.responder = responder
        self.packetInfo = packetInfo
        self.counters = counters
        self.queryCounters = queryCounters
        receiveBuffers = .allocate(byteCount: n * Self.receiveStride, alignment: 64)
        responseBuffers = .allocate(byteCount: n * Self.responseStride, alignment: 4096)
        names = .allocate(capacity: n)
        names.initialize(repeating: sockaddr_storage(), count: n)
        receiveIOV = .allocate(capacity: n)
        sendIOV = .allocate(capacity: n)
        receiveMessages = .allocate(capacity: n)
        sendMessages = .allocate(capacity: n)
        let controlSpace = ControlMessage.pktinfoSpace
        // cmsg(3): control buffers aligned as struct cmsghdr.
        receiveControl = .allocate(byteCount: n * controlSpace, alignment: MemoryLayout<cmsghdr>.alignment)
        sendControl = .allocate(byteCount: n * controlSpace, alignment: MemoryLayout<cmsghdr>.alignment)
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
            receiveMessages[i] = CBulwarkLinux_mmsghdr(msg_hdr: header, msg_len: 0)
            var sendHeader = msghdr()
            sendHeader.msg_iov = sendIOV + i
            sendHeader.msg_iovlen = 1
            sendMessages[i] = CBulwarkLinux_mmsghdr(msg_hdr: sendHeader, msg_len: 0)
        }
    }

    deinit {
        sockets.deallocate()
        prefixKeys.deallocate()
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

    /// Runs until `stop` is set (the sockets are also shut down to wake a blocked receive).
    func run(stop: ManagedAtomic<Bool>, logger: Logger) {
        var lastErrorLog: Int32 = 0
        guard let fq = fairSwitch else {
            let fd = sockets[0].fd
            while !stop.load(ordering: .relaxed) {
                // recvmmsg(2) MSG_WAITFORONE: block for the first datagram, then take what is queued.
                guard receiveAndAnswer(fd, flags: Int32(MSG_WAITFORONE), stop: stop, logger: logger,
                                       lastErrorLog: &lastErrorLog) >= 0 else { break }
            }
            return
        }
        var fullStreak = 0
        var streakSawOthers = false
        var batches = 0
        var windowStart = Self.coarseMillis()
        var sawFullBatch = false
        var wasFair = false
        while !stop.load(ordering: .relaxed) {
            if !fq.isFair {
                if wasFair {
                    // Back to calm: answer what the fair program queued on the other sockets.
                    wasFair = false
                    guard sweep(stop: stop, logger: logger, lastErrorLog: &lastErrorLog) else { return }
                }
                // Calm: the first socket only, as with a single socket.
                let got = receiveAndAnswer(sockets[0].fd, flags: Int32(MSG_WAITFORONE), stop: stop, logger: logger,
                                           lastErrorLog: &lastErrorLog)
                if got < 0 { return }
                // Fair queues help when a few prefixes fill the queue while others wait
                // behind them; one busy client alone gains nothing, so it never switches.
                let (dominated, others) = got == Self.batch ? dominantPrefix(got) : (false, false)
                if dominated {
                    fullStreak += 1
                    streakSawOthers = streakSawOthers || others
                    if fullStreak >= Self.saturatedBatches && streakSawOthers {
                        fullStreak = 0
                        streakSawOthers = false
                        fq.requestFair(by: workerIndex)
                    }
                } else {
                    fullStreak = 0
                    streakSawOthers = false
                }
                // Stragglers (a query steered while the program changed): on every idle
                // timeout and every 4096 batches.
                batches &+= 1
                if got == 0 || batches & 4095 == 0 {
                    guard sweep(stop: stop, logger: logger, lastErrorLog: &lastErrorLog) else { return }
                }
                continue
            }
            if !wasFair {
                wasFair = true
                windowStart = Self.coarseMillis()
                sawFullBatch = false
            }
            // Fair: one batch from each socket with queries waiting, in turn, so a prefix
            // flooding its queue waits behind itself while other clients' queries are
            // answered within one round.
            if poll(sockets, nfds_t(socketCount), 250) > 0 {
                for k in 0..<socketCount where sockets[k].revents != 0 {
                    if sockets[k].revents & Int16(POLLNVAL) != 0 { return }  // the socket is gone
                    let got = receiveAndAnswer(sockets[k].fd, flags: Int32(MSG_DONTWAIT), stop: stop, logger: logger,
                                               lastErrorLog: &lastErrorLog, limit: Self.fairBatch)
                    if got < 0 { return }
                    if got == Self.fairBatch { sawFullBatch = true }
                }
            }
            let now = Self.coarseMillis()
            if now &- windowStart >= 1000 {
                fq.vote(calm: !sawFullBatch, by: workerIndex)
                sawFullBatch = false
                windowStart = now
            }
        }
    }

    /// Of the `count` queries just received: whether one client prefix (/24, /56) sent at
    /// least a quarter of them (dominated), and whether any other prefix sent one. Run
    /// on full batches only (32 × 32 comparisons at most, no allocation).
    private func dominantPrefix(_ count: Int) -> (dominated: Bool, others: Bool) {
        guard count > 0 else { return (false, false) }
        for i in 0..<count {
            let a = ClientAddress(socketAddress: names + i)
            prefixKeys[i] = a.high & (a.family == .v4 ? 0xFFFF_FF00_0000_0000 : ~0xFF)
        }
        var best = 0
        for i in 0..<count {
            let key = prefixKeys[i]
            var n = 0
            for j in 0..<count where prefixKeys[j] == key { n += 1 }
            if n == count { return (true, false) }  // one prefix only
            best = max(best, n)
        }
        return (best * 4 >= count, true)
    }

    /// Answers everything waiting on this worker's other sockets. False: a socket is gone.
    private func sweep(stop: ManagedAtomic<Bool>, logger: Logger, lastErrorLog: inout Int32) -> Bool {
        for k in 1..<socketCount {
            while true {
                let got = receiveAndAnswer(sockets[k].fd, flags: Int32(MSG_DONTWAIT), stop: stop, logger: logger,
                                           lastErrorLog: &lastErrorLog)
                if got < 0 { return false }
                if got < Self.batch || stop.load(ordering: .relaxed) { break }
            }
        }
        return true
    }

    static func coarseMillis() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return UInt64(ts.tv_sec) &* 1000 &+ UInt64(ts.tv_nsec) / 1_000_000
    }

    /// One recvmmsg batch from `fd`, answered with one sendmmsg. Returns the number of
    /// queries received (0: none waiting, or a timeout), or -1 when the socket is gone.
    @inline(__always)
    private func receiveAndAnswer(_ fd: Int32, flags: Int32, stop: ManagedAtomic<Bool>, logger: Logger,
                                  lastErrorLog: inout Int32, limit: Int = UDPWorkerLoop.batch) -> Int {
        let n = limit
        let controlSpace = ControlMessage.pktinfoSpace
        for i in 0..<n {
            receiveMessages[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            if packetInfo { receiveMessages[i].msg_hdr.msg_controllen = controlSpace }
        }
        let got = CBulwarkLinux_recvmmsg(fd, receiveMessages, UInt32(n), flags, nil)
        if got <= 0 {
            if got < 0 {
                let e = errno
                if e == EBADF || e == ENOTSOCK || e == EINVAL { return -1 }  // the socket is gone
                if e != EAGAIN && e != EWOULDBLOCK && e != EINTR && e != lastErrorLog && !stop.load(ordering: .relaxed) {
                    logger.warning("recvmmsg failed: \(String(cString: strerror(e)))")
                    lastErrorLog = e
                }
            }
            return 0
        }
        counters.received.wrappingIncrement(by: Int(got), ordering: .relaxed)
        let batchStart = queryCounters != nil ? Self.monotonicNanos() : 0
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
                sendMessages[out].msg_hdr.msg_control = sendControl + out * controlSpace
                ControlMessage.replyPacketInfo(received: &receiveMessages[i].msg_hdr, reply: &sendMessages[out].msg_hdr)
            }
            out += 1
        }
        var done = 0
        while done < out {
            let sent = CBulwarkLinux_sendmmsg(fd, sendMessages + done, UInt32(out - done), 0)
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
        // One latency sample per batch, receive to send.
        queryCounters?.recordBatch(queries: Int(got), nanoseconds: Self.monotonicNanos() &- batchStart)
        return Int(got)
    }

    @inline(__always)
    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// All UDP sockets and threads of a server.
public final class UDPServer: @unchecked Sendable {
    private let store: ZoneStore
    private let maxUDPSize: Int
    private let receiveBuffer: Int
    /// Sockets per worker (fair queues); 1 is the plain one-socket loop.
    private let queues: Int
    private let defences: DefenceSettings
    private let workers: Int
    private let logger: Logger
    private let slowPath: SlowPathRouter?
    private let opsHub: OpsHub?  // per-worker counters when set
    private let stopFlag = ManagedAtomic<Bool>(false)
    private var sockets: [Int32] = []
    private var threads: [PosixThread] = []
    /// One set per socket, so workers never write a shared cache line.
    private var workerCounters: [UDPCounters] = []
    /// One per listen address when `queues` > 1.
    private var fairSwitches: [FairQueueSwitch] = []

    /// Whether any listen address is queuing by client prefix now, and how many times
    /// the fair queues switched on or off (FairQueues.swift).
    public var fairQueues: (active: Bool, transitions: Int) {
        (fairSwitches.contains { $0.isFair }, fairSwitches.reduce(0) { $0 + $1.transitions.load(ordering: .relaxed) })
    }

    /// Totals over all workers: (received, sent, dropped).
    public var totals: (received: Int, sent: Int, dropped: Int) {
        workerCounters.reduce(into: (0, 0, 0)) { t, c in
            t.0 += c.received.load(ordering: .relaxed)
            t.1 += c.sent.load(ordering: .relaxed)
            t.2 += c.dropped.load(ordering: .relaxed)
        }
    }

    /// The policy state (RRL table, cookie secrets) is per worker; `defences` configures it.
    public init(store: ZoneStore, workers: Int, maxUDPSize: Int, receiveBuffer: Int = ServerSettings.defaultUDPReceiveBuffer,
                queues: Int = 1, defences: DefenceSettings = DefenceSettings(),
                slowPath: SlowPathRouter? = nil, logger: Logger, opsHub: OpsHub? = nil) {
        self.opsHub = opsHub
        self.store = store
        self.slowPath = slowPath
        self.workers = max(1, workers)
        self.maxUDPSize = maxUDPSize
        self.receiveBuffer = receiveBuffer
        self.queues = max(1, queues)
        self.defences = defences
        self.logger = logger
    }

    /// Binds `workers` × `queues` sockets on the address (port 0 picks a free port,
    /// shared by all of them) and starts one thread per worker. With more than one
    /// queue, the kernel is told to spread queries over the sockets by client prefix.
    /// Returns the bound port.
    @discardableResult
    public func start(_ address: ListenAddress) throws(SocketError) -> Int {
        var port = address.port
        var fds: [Int32] = []
        var fairSwitch: FairQueueSwitch? = nil
        do {
            for _ in 0..<(workers * queues) {
                let fd = try POSIXSocket.boundUDP(address, port: port, receiveBuffer: receiveBuffer)
                fds.append(fd)
                if port == 0 { port = POSIXSocket.localPort(fd) }
            }
            if queues > 1 {
                let prefixes = defences.rateLimit.map { ($0.ipv4PrefixLength, $0.ipv6PrefixLength) } ?? (24, 56)
                do {
                    fairSwitch = try FairQueueSwitch(
                        groupSocket: fds[0], address: "\(address.host):\(port)", family: address.family,
                        workers: workers, queues: queues, ipv4PrefixLength: prefixes.0, ipv6PrefixLength: prefixes.1,
                        logger: logger)
                } catch {
                    // No steering (an old kernel, a seccomp filter): the kernel would spread
                    // queries over every socket, so fall back to one socket per worker.
                    logger.warning("fair UDP queues are off: \(error)")
                    fds.forEach { close($0) }
                    fds = []
                    for _ in 0..<workers {
                        fds.append(try POSIXSocket.boundUDP(address, port: port, receiveBuffer: receiveBuffer))
                    }
                }
            }
        } catch {
            fds.forEach { close($0) }
            throw error
        }
        sockets += fds
        if let fairSwitch { fairSwitches.append(fairSwitch) }
        let groupSwitch = fairSwitch
        // Socket j of the group is worker j / perWorker's (the group's order is bind order).
        let perWorker = fds.count / workers
        for i in 0..<workers {
            let mine = Array(fds[(i * perWorker)..<((i + 1) * perWorker)])
            let store = self.store, maxUDPSize = self.maxUDPSize, stop = self.stopFlag, defences = self.defences
            let logger = self.logger, counters = UDPCounters(), packetInfo = address.isWildcard, slowPath = self.slowPath
            workerCounters.append(counters)
            let queryCounters = opsHub?.makeWorker(.udp)
            threads.append(try PosixThread(name: "bulwark-udp\(i)") {
                let responder = QueryResponder(store: store, maxUDPSize: maxUDPSize, defences: defences,
                                               slowPath: slowPath, logger: logger, observer: queryCounters)
                UDPWorkerLoop(fds: mine, fairSwitch: groupSwitch, workerIndex: i, responder: responder,
                              packetInfo: packetInfo, counters: counters, queryCounters: queryCounters)
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
