// The TCP transport (RFC 7766) on SwiftNIO: two-octet length framing (RFC 1035 §4.2.2),
// pipelined queries all answered in order, an idle timeout, an I/O timeout for half-sent
// queries, connection limits overall and per client (TCPConnectionLimiter), a cap on
// answers in flight per connection, and one QueryResponder per event loop.
import Atomics
import BulwarkDefences
import BulwarkOps
import BulwarkPipeline
import BulwarkSettings
import BulwarkZone
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// What one event-loop thread needs to answer: its responder and the response buffer
/// it writes into. Only ever touched on its own thread.
final class TCPWorkspace: @unchecked Sendable {
    let responder: QueryResponder
    /// Two octets of length prefix, then up to 65535 of response.
    let buffer: UnsafeMutableRawBufferPointer

    init(store: ZoneStore, maxUDPSize: Int, defences: DefenceSettings, slowPath: SlowPathRouter? = nil, logger: Logger,
         counters: QueryCounters? = nil) {
        responder = QueryResponder(store: store, maxUDPSize: maxUDPSize, defences: defences, slowPath: slowPath,
                                   logger: logger, observer: counters)
        buffer = .allocate(byteCount: 2 + 65535, alignment: 16)
    }

    deinit { buffer.deallocate() }
}

/// Settings of the TCP transport.
public struct TCPSettings: Sendable {
    /// RFC 7766 §6.2.3: a connection with no complete query for this long is closed.
    public var idleTimeout: TimeAmount
    public var maxConnections: Int
    /// Connections one client address may hold at once.
    public var maxConnectionsPerClient: Int
    /// A query whose first octet has arrived must be complete within this (slowloris;
    /// Knot's tcp-io-timeout), else the connection is closed.
    public var ioTimeout: TimeAmount
    /// Answers waiting to be written on one connection; at the cap, reading stops until
    /// they are written (RFC 7766 §6.2.1.1 lets a server bound pipelining).
    public var maxInflight: Int

    public init(idleTimeout: TimeAmount = .seconds(10), maxConnections: Int = 1000,
                maxConnectionsPerClient: Int = 10, ioTimeout: TimeAmount = .seconds(2),
                maxInflight: Int = 64) {
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.ioTimeout = ioTimeout
        self.maxInflight = maxInflight
    }
}

/// Frames, answers and writes back DNS messages on one connection.
///
/// Three clocks close a connection: the idle timeout restarts only when a complete query
/// arrives, so a client trickling bytes cannot hold a connection open with it; the I/O
/// timeout runs from the first octet of a query to its last, so a slowloris is closed
/// within `ioTimeout`; and the connection table may evict it when idle (see
/// `TCPConnectionLimiter`). Reading pauses while the socket cannot take more output or
/// `maxInflight` answers wait to be written (a client that sends but never reads gets no
/// more service).
final class DNSTCPHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let workspace: TCPWorkspace
    private let settings: TCPSettings
    private let table: TCPConnectionTable
    private let id: TCPConnectionLimiter.ConnectionID
    /// The peer, read once when the connection is set up.
    private let client: ClientAddress
    /// Everything that changes on the connection (TCPConnectionState.swift).
    private var state = TCPConnectionState(now: .now())
    /// Messages written per turn of the event loop before yielding to other connections.
    static let messagesPerTurn = 8

    init(workspace: TCPWorkspace, client: ClientAddress, settings: TCPSettings, table: TCPConnectionTable,
         id: TCPConnectionLimiter.ConnectionID) {
        self.workspace = workspace
        self.client = client
        self.settings = settings
        self.table = table
        self.id = id
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armIdleTimer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.closed()?.cancel()
        context.fireChannelInactive()
    }

    // MARK: timers

    /// One timer per connection, re-armed from its own expiry rather than per query
    /// (re-scheduling allocates); it is moved earlier only when a partial query starts.
    private func armIdleTimer(_ context: ChannelHandlerContext) {
        let now = context.eventLoop.now
        state.update { $0.lastQuery = now }
        if !state.timerIsArmed, let deadline = state.nextDeadline(idleTimeout: settings.idleTimeout, ioTimeout: settings.ioTimeout) {
            schedule(context, at: deadline)
        }
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timerFired(context)
        }
        state.timerArmed(timer, at: deadline)?.cancel()
    }

    private func timerFired(_ context: ChannelHandlerContext) {
        switch state.timerFired(now: context.eventLoop.now, idleTimeout: settings.idleTimeout, ioTimeout: settings.ioTimeout) {
        case .ioTimeout:
            table.countIOTimeout()
            abort(context.channel)
        case .idle:
            context.close(promise: nil)
        case .rearm(let deadline):
            if context.channel.isActive { schedule(context, at: deadline) }
        case .none:
            break
        }
    }

    // MARK: reading and answering

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        state.received(&incoming)
        answerBuffered(context)
    }

    /// Answers the complete queries buffered, up to the in-flight cap, then notes what
    /// the connection is doing.
    private func answerBuffered(_ context: ChannelHandlerContext) {
        var answered = 0
        while let frame = state.nextQuery(maxInflight: settings.maxInflight) {
            answered += 1
            answer(frame, context: context)
        }
        let now = context.eventLoop.now
        if answered > 0 { armIdleTimer(context) }
        if let sooner = state.batchDone(answered: answered, now: now, ioTimeout: settings.ioTimeout) {
            schedule(context, at: sooner)
        }
        report()
    }

    private func report() {
        if let activity = state.activityChange() { table.update(id, to: activity) }
    }

    private func answer(_ frame: ByteBuffer, context: ChannelHandlerContext) {
        let out = workspace.buffer
        let length = frame.withUnsafeReadableBytes { query in
            workspace.responder.respond(to: query, transport: .tcp, client: client,
                                        into: UnsafeMutableRawBufferPointer(rebasing: out[2...]))
        }
        if length == QueryResponder.streamPending, let s = workspace.responder.takeStream() {
            startStream(s, context: context)
            return
        }
        guard length > 0 else { return }
        out.storeU16(UInt16(length), at: 0)
        var response = context.channel.allocator.buffer(capacity: length + 2)
        response.writeBytes(UnsafeRawBufferPointer(rebasing: out[0..<(length + 2)]))
        if let previous = state.hold(response) { context.write(wrapOutboundOut(previous), promise: nil) }
    }

    // MARK: multi-message answers

    private func startStream(_ s: any ResponseStream, context: ChannelHandlerContext) {
        flushHeld(context)  // earlier answers go first
        state.startStream(s)
        pumpStream(context)
    }

    /// Writes the stream's next messages while the socket takes them; resumes when it
    /// becomes writable again.
    private func pumpStream(_ context: ChannelHandlerContext) {
        var written = 0
        while state.isStreaming, context.channel.isActive, context.channel.isWritable {
            if written == Self.messagesPerTurn {
                // A large zone must not hold the event loop: continue on a later turn.
                guard state.scheduleStreamContinuation() else { return }
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.state.streamContinuationRuns()
                    handler.pumpStream(context)
                }
                return
            }
            written += 1
            guard let message = state.nextStreamMessage(now: context.eventLoop.now) else {
                answerBuffered(context)
                flushHeld(context)
                resumeReadingIfPossible(context)
                report()
                return
            }
            guard message.count <= 65535 else { continue }
            var buffer = context.channel.allocator.buffer(capacity: message.count + 2)
            buffer.writeInteger(UInt16(message.count))
            buffer.writeBytes(message)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }

    /// Writes the held answer with a promise and flushes; when that write completes, the
    /// whole batch has gone to the socket and its answers leave the in-flight count.
    private func flushHeld(_ context: ChannelHandlerContext) {
        guard let (last, count) = state.takeHeld() else { return }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.write(wrapOutboundOut(last), promise: promise)
        context.flush()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { _ in
            let (handler, context) = loopBound.value
            handler.written(count, context: context)
        }
    }

    private func written(_ count: Int, context: ChannelHandlerContext) {
        state.written(count)
        guard context.channel.isActive else { return }
        if let inflight = state.connection?.inflight, inflight < settings.maxInflight {
            answerBuffered(context)
            flushHeld(context)
            resumeReadingIfPossible(context)
        }
        report()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushHeld(context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if state.readRequested(writable: context.channel.isWritable, maxInflight: settings.maxInflight) {
            context.read()
        }
    }

    private func resumeReadingIfPossible(_ context: ChannelHandlerContext) {
        if state.resumeReading(writable: context.channel.isWritable, maxInflight: settings.maxInflight) {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if state.isStreaming && context.channel.isWritable { pumpStream(context) }
        resumeReadingIfPossible(context)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Any error ends this connection, never the server.
        context.close(promise: nil)
    }
}

/// The connection table shared by every event loop: the limiter's bookkeeping and the
/// channels it may have to close, under one lock (taken per connection and on a change
/// of activity, never per query in a batch).
final class TCPConnectionTable: @unchecked Sendable {
    private let lock = NIOLock()
    private var limiter: TCPConnectionLimiter
    private var channels: [TCPConnectionLimiter.ConnectionID: Channel] = [:]
    let refusedFull = ManagedAtomic<Int>(0)
    let refusedPerClient = ManagedAtomic<Int>(0)
    let evicted = ManagedAtomic<Int>(0)
    let ioTimeouts = ManagedAtomic<Int>(0)
    let accepted = ManagedAtomic<Int>(0)

    init(maxConnections: Int, maxPerClient: Int) {
        limiter = TCPConnectionLimiter(maxConnections: maxConnections, maxPerClient: maxPerClient)
    }

    var count: Int { lock.withLock { limiter.count } }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// Admits `channel` or says no; an evicted connection is closed here, outside the lock.
    func admit(_ channel: Channel, client: ClientAddress) -> TCPConnectionLimiter.Admission {
        let (admission, victim): (TCPConnectionLimiter.Admission, Channel?) = lock.withLock {
            let a = limiter.open(client: client, now: Self.now())
            guard case .accept(let id, let evicting) = a else { return (a, nil) }
            channels[id] = channel
            return (a, evicting.flatMap { channels.removeValue(forKey: $0) })
        }
        switch admission {
        case .accept: accepted.wrappingIncrement(ordering: .relaxed)
        case .refuseFull: refusedFull.wrappingIncrement(ordering: .relaxed)
        case .refusePerClient: refusedPerClient.wrappingIncrement(ordering: .relaxed)
        }
        if let victim {
            evicted.wrappingIncrement(ordering: .relaxed)
            abort(victim)
        }
        return admission
    }

    func remove(_ id: TCPConnectionLimiter.ConnectionID) {
        lock.withLock {
            limiter.close(id)
            channels[id] = nil
        }
    }

    func update(_ id: TCPConnectionLimiter.ConnectionID, to activity: TCPConnectionLimiter.Activity) {
        lock.withLock { limiter.update(id, to: activity, now: Self.now()) }
    }

    func countIOTimeout() { ioTimeouts.wrappingIncrement(ordering: .relaxed) }

    /// The activity of the only connection in the table (tests).
    var soleActivity: TCPConnectionLimiter.Activity? {
        lock.withLock { limiter.entries.values.first?.activity }
    }
}

struct TooManyConnections: Error {}

/// Closes a connection we are throwing out (refused, evicted, slowloris) with a reset
/// (SO_LINGER 0) rather than a FIN: no FIN exchange and no TIME_WAIT state are left
/// behind, which keeps the cost of a connection flood's churn down.
func abort(_ channel: Channel) {
    resetOnClose(channel).whenComplete { _ in channel.close(promise: nil) }
}

/// Sets SO_LINGER to 0 so that the next close sends a reset.
func resetOnClose(_ channel: Channel) -> EventLoopFuture<Void> {
    guard let provider = channel as? SocketOptionProvider else { return channel.eventLoop.makeSucceededVoidFuture() }
    return provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
}

/// The TCP listeners of a server, sharing one event-loop group.
public final class TCPServer: @unchecked Sendable {
    private let store: ZoneStore
    private let maxUDPSize: Int
    private let defences: DefenceSettings
    private let settings: TCPSettings
    private let logger: Logger
    private let slowPath: SlowPathRouter?
    private let group: MultiThreadedEventLoopGroup
    private let workspaces = ThreadSpecificVariable<TCPWorkspace>()
    private let table: TCPConnectionTable
    private var channels: [Channel] = []
    private let opsHub: OpsHub?

    public init(store: ZoneStore, maxUDPSize: Int, defences: DefenceSettings = DefenceSettings(),
                settings: TCPSettings, threads: Int, slowPath: SlowPathRouter? = nil, logger: Logger,
                opsHub: OpsHub? = nil) {
        self.opsHub = opsHub
        self.store = store
        self.slowPath = slowPath
        self.maxUDPSize = maxUDPSize
        self.defences = defences
        self.settings = settings
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        self.table = TCPConnectionTable(maxConnections: settings.maxConnections,
                                        maxPerClient: settings.maxConnectionsPerClient)
        lowerPriority(of: group)
    }

    /// The TCP threads run at nice +10 so that, when a connection flood makes them busy,
    /// the UDP workers (which carry almost every query) still get the CPU first; TCP keeps
    /// about a tenth of a contested core (scheduler weights 110 vs 1024), some thousands
    /// of queries a second for resolvers retrying after a TC=1 slip. Measured by
    /// scripts/drill.py: UDP latency during the TCP flood phase (p99 0.3-0.6 ms at +10,
    /// 0.15-3.6 ms at +5, 2026-11-29).
    private func lowerPriority(of group: MultiThreadedEventLoopGroup) {
        #if os(Linux)
        for loop in group.makeIterator() {
            loop.execute {
                // On Linux the nice value is per thread: PRIO_PROCESS with who 0 sets the
                // calling thread's only (setpriority(2), NOTES).
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            }
        }
        #endif
    }

    /// The event loops of the transport, shared with the work off the UDP hot path
    /// (secondary refresh and transfers in, NOTIFY out); shut down by `stop`.
    public var eventLoopGroup: any EventLoopGroup { group }

    /// Open connections right now.
    public var connectionCount: Int { table.count }

    /// What the TCP limits did since start (counters, not logs: STYLE.md §10).
    public struct LimitCounters: Sendable, Equatable {
        public var refusedFull, refusedPerClient, evicted, ioTimeouts: Int
    }

    /// Connections accepted since start.
    public var acceptedCount: Int { table.accepted.load(ordering: .relaxed) }

    public var limitCounters: LimitCounters {
        LimitCounters(refusedFull: table.refusedFull.load(ordering: .relaxed),
                      refusedPerClient: table.refusedPerClient.load(ordering: .relaxed),
                      evicted: table.evicted.load(ordering: .relaxed),
                      ioTimeouts: table.ioTimeouts.load(ordering: .relaxed))
    }

    /// The workspace of the calling event-loop thread, created on first use.
    private func workspace() -> TCPWorkspace {
        if let w = workspaces.currentValue { return w }
        let w = TCPWorkspace(store: store, maxUDPSize: maxUDPSize, defences: defences, slowPath: slowPath, logger: logger,
                             counters: opsHub?.makeWorker(.tcp))
        workspaces.currentValue = w
        return w
    }

    /// Listens on the address; returns the bound port.
    public func start(_ address: ListenAddress) async throws -> Int {
        let settings = self.settings
        let table = self.table
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 4)
            // Flow control by hand (see DNSTCPHandler.read): stop reading when output backs up.
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 256 * 1024))
        if address.family == .v6 {
            bootstrap = bootstrap.serverChannelOption(
                ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        bootstrap = bootstrap.childChannelInitializer { [self] channel in
            // Connection limits: overall and per client address; when full, an idle
            // connection is closed to make room (TCPConnectionLimiter), else the newcomer.
            guard case .accept(let id, _) = table.admit(channel, client: ClientAddress(channel.remoteAddress)) else {
                return resetOnClose(channel).flatMapThrowing { throw TooManyConnections() }
            }
            channel.closeFuture.whenComplete { _ in table.remove(id) }
            do {
                try channel.pipeline.syncOperations.addHandler(
                    DNSTCPHandler(workspace: self.workspace(), client: ClientAddress(channel.remoteAddress),
                                  settings: settings, table: table, id: id))
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        let channel: Channel
        do {
            channel = try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch let error as IOError {
            throw SocketError(call: "TCP bind", address: address.description, errnoValue: error.errnoCode)
        }
        channels.append(channel)
        return channel.localAddress?.port ?? address.port
    }

    /// Closes the listener on `port` (used when the port UDP needs turns out to be taken).
    func closeListener(port: Int) async {
        guard let i = channels.firstIndex(where: { $0.localAddress?.port == port }) else { return }
        let channel = channels.remove(at: i)
        try? await channel.close()
    }

    /// Closes the listeners and every connection.
    public func stop() async {
        for channel in channels {
            try? await channel.close()
        }
        channels = []
        try? await group.shutdownGracefully()
    }
}
