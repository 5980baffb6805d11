// Fair UDP queues: each worker owns several SO_REUSEPORT sockets, and a classic BPF
// program attached to the group (SO_ATTACH_REUSEPORT_CBPF, socket(7)) decides which
// socket a query lands on.
//
// - Calm (the usual state): every query goes to its worker's first socket, which the
//   worker reads with one blocking recvmmsg, exactly as with a single socket.
// - Fair (a worker is saturated): queries are spread over all sockets by client
//   prefix, and each worker reads its sockets in turn, one batch each. A prefix that
//   floods fills its own queue and waits behind itself; a query from any other prefix
//   is read within one round. The random-subdomain flood of 2016 came through a few
//   large resolvers: every other resolver's queries stay fast.
//
// The switch goes to fair after a run of full receive batches on any worker (the queue
// is not emptying) dominated by a few prefixes with others among them (UDPWorkerLoop),
// and back to calm when no worker has seen a full batch for a second.
import Atomics
import BulwarkSettings
import CBulwarkLinux
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension sock_filter {
    /// A classic BPF instruction (linux/filter.h) that does not jump.
    init(code: UInt16, k: UInt32) { self.init(code: code, jt: 0, jf: 0, k: k) }
}

/// A program that picks the socket of a reuseport group a query lands on. The group's
/// sockets are indexed in bind order; worker w owns sockets w × queues ..< (w + 1) × queues.
struct ClientPrefixSteering {
    let instructions: [sock_filter]

    // linux/filter.h, linux/bpf_common.h
    static let networkOffset = UInt32(bitPattern: SKF_NET_OFF)  // loads relative to the IP header
    static let loadWordAbsolute = UInt16(BPF_LD | BPF_W | BPF_ABS)
    static let loadHalfAbsolute = UInt16(BPF_LD | BPF_H | BPF_ABS)
    static let andK = UInt16(BPF_ALU | BPF_AND | BPF_K)
    static let multiplyK = UInt16(BPF_ALU | BPF_MUL | BPF_K)
    static let shiftRightK = UInt16(BPF_ALU | BPF_RSH | BPF_K)
    static let moduloK = UInt16(BPF_ALU | BPF_MOD | BPF_K)
    static let xorX = UInt16(BPF_ALU | BPF_XOR | BPF_X)
    static let storeA = UInt16(BPF_ST)                 // M[k] = A
    static let loadXMemory = UInt16(BPF_LDX | BPF_MEM)  // X = M[k]
    static let returnA = UInt16(BPF_RET | BPF_A)
    static let returnK = UInt16(BPF_RET | BPF_K)
    /// Fibonacci hashing's multiplier (2^32 / φ): spreads neighbouring prefixes apart.
    static let golden: UInt32 = 0x9E37_79B1

    /// The socket index the fair program returns for an IPv4 client (for tests and for
    /// reasoning about which prefixes share a queue).
    static func index(ipv4 address: UInt32, prefixLength: Int, sockets: Int) -> Int {
        Int(((address & mask(prefixLength)) &* golden) >> 16) % sockets
    }

    static func mask(_ bits: Int) -> UInt32 {
        bits <= 0 ? 0 : bits >= 32 ? .max : ~(UInt32.max >> UInt32(bits))
    }

    /// Fair: hash the source prefix (IPv4: the first `ipv4PrefixLength` bits; IPv6: the
    /// first min(64, `ipv6PrefixLength`) bits) modulo the group's size.
    static func fair(family: ListenAddress.Family, sockets: Int, ipv4PrefixLength: Int,
                     ipv6PrefixLength: Int) -> ClientPrefixSteering {
        var p = loadSource(family: family, ipv4PrefixLength: ipv4PrefixLength, ipv6PrefixLength: ipv6PrefixLength)
        p += hashModulo(UInt32(max(1, sockets)))
        p.append(.init(code: returnA, k: 0))
        return ClientPrefixSteering(instructions: p)
    }

    /// Calm: each worker's first socket. One worker: socket 0. Several: a hash of the
    /// source address and port picks the worker (as the kernel's own reuseport hash does).
    static func calm(family: ListenAddress.Family, workers: Int, queues: Int) -> ClientPrefixSteering {
        guard workers > 1 else { return ClientPrefixSteering(instructions: [.init(code: returnK, k: 0)]) }
        var p = loadSource(family: family, ipv4PrefixLength: 32, ipv6PrefixLength: 64)
        p.append(.init(code: storeA, k: 1))
        // The UDP source port, assuming no IPv4 options or IPv6 extension headers (a
        // packet with them still lands on one worker, just another one).
        p.append(.init(code: loadHalfAbsolute, k: networkOffset &+ (family == .v4 ? 20 : 40)))
        p.append(.init(code: loadXMemory, k: 1))
        p.append(.init(code: xorX, k: 0))
        p += hashModulo(UInt32(workers))
        p.append(.init(code: multiplyK, k: UInt32(queues)))
        p.append(.init(code: returnA, k: 0))
        return ClientPrefixSteering(instructions: p)
    }

    /// A = the source address, masked to the prefix (IPv6: its first two words XORed).
    private static func loadSource(family: ListenAddress.Family, ipv4PrefixLength: Int,
                                   ipv6PrefixLength: Int) -> [sock_filter] {
        switch family {
        case .v4:
            // IPv4 source address: octets 12-15 of the header.
            return [.init(code: loadWordAbsolute, k: networkOffset &+ 12),
                    .init(code: andK, k: mask(ipv4PrefixLength))]
        case .v6:
            // IPv6 source address: octets 8-23; its first 64 bits, masked to the prefix.
            let bits = min(64, max(0, ipv6PrefixLength))
            return [.init(code: loadWordAbsolute, k: networkOffset &+ 8),
                    .init(code: andK, k: mask(bits)),
                    .init(code: storeA, k: 0),
                    .init(code: loadWordAbsolute, k: networkOffset &+ 12),
                    .init(code: andK, k: mask(bits - 32)),
                    .init(code: loadXMemory, k: 0),
                    .init(code: xorX, k: 0)]
        }
    }

    private static func hashModulo(_ n: UInt32) -> [sock_filter] {
        [.init(code: multiplyK, k: golden), .init(code: shiftRightK, k: 16), .init(code: moduloK, k: n)]
    }

    /// Attaches the program to the reuseport group of `fd` (socket(7)
    /// SO_ATTACH_REUSEPORT_CBPF), replacing the group's previous one (every socket of the
    /// group must be bound already).
    func attach(to fd: Int32, address: String) throws(SocketError) {
        var copy = instructions
        let rc = copy.withUnsafeMutableBufferPointer { buffer in
            CBulwarkLinux_attach_reuseport_cbpf(fd, buffer.baseAddress, UInt16(buffer.count))
        }
        guard rc == 0 else { throw SocketError(call: "setsockopt(SO_ATTACH_REUSEPORT_CBPF)", address: address, errnoValue: errno) }
    }
}

/// The calm/fair state of one reuseport group (one listen address), shared by its
/// workers. Workers read `isFair` once per batch (a relaxed load); transitions are rare
/// and serialized by a lock, never taken on the query path.
final class FairQueueSwitch: @unchecked Sendable {
    let workers: Int
    let queues: Int
    private let groupSocket: Int32
    private let address: String
    private let calm: ClientPrefixSteering
    private let fair: ClientPrefixSteering
    private let fairFlag = ManagedAtomic<Bool>(false)
    /// Per worker: it has seen no full batch for a second while fair.
    private let calmVotes: [ManagedAtomic<Bool>]
    private let lock = NSLock()
    private let logger: Logger
    /// Transitions so far (tests, status).
    let transitions = ManagedAtomic<Int>(0)

    init(groupSocket: Int32, address: String, family: ListenAddress.Family, workers: Int, queues: Int,
         ipv4PrefixLength: Int, ipv6PrefixLength: Int, logger: Logger) throws(SocketError) {
        self.groupSocket = groupSocket
        self.address = address
        self.workers = workers
        self.queues = queues
        self.logger = logger
        calm = .calm(family: family, workers: workers, queues: queues)
        fair = .fair(family: family, sockets: workers * queues, ipv4PrefixLength: ipv4PrefixLength,
                     ipv6PrefixLength: ipv6PrefixLength)
        calmVotes = (0..<workers).map { _ in ManagedAtomic<Bool>(false) }
        try calm.attach(to: groupSocket, address: address)
    }

    @inline(__always)
    var isFair: Bool { fairFlag.load(ordering: .relaxed) }

    /// A worker is saturated: spread queries by client prefix.
    func requestFair(by worker: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard !fairFlag.load(ordering: .relaxed) else { return }
        do {
            try fair.attach(to: groupSocket, address: address)
        } catch {
            logger.warning("fair UDP queues: \(error)")
            return
        }
        for v in calmVotes { v.store(false, ordering: .relaxed) }
        fairFlag.store(true, ordering: .releasing)
        transitions.wrappingIncrement(ordering: .relaxed)
        logger.notice("UDP worker \(worker) on \(address) is saturated: queries are now queued by client prefix and read in turn")
    }

    /// A worker saw no full batch for a second (true) or did (false). When every worker
    /// is calm, queries go back to each worker's first socket.
    func vote(calm: Bool, by worker: Int) {
        calmVotes[worker].store(calm, ordering: .relaxed)
        guard calm, calmVotes.allSatisfy({ $0.load(ordering: .relaxed) }) else { return }
        lock.lock()
        defer { lock.unlock() }
        guard fairFlag.load(ordering: .relaxed), calmVotes.allSatisfy({ $0.load(ordering: .relaxed) }) else { return }
        do {
            try self.calm.attach(to: groupSocket, address: address)
        } catch {
            logger.warning("fair UDP queues: \(error)")
            return
        }
        fairFlag.store(false, ordering: .releasing)
        transitions.wrappingIncrement(ordering: .relaxed)
        logger.notice("UDP on \(address) is calm again: each worker reads its first socket")
    }
}
