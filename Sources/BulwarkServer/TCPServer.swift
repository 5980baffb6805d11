// The TCP transport (RFC 7766) on SwiftNIO: two-octet length framing (RFC 1035 §4.2.2),
// pipelined queries all answered in order, an idle timeout, a connection cap, and one
// QueryResponder per event loop.
import Atomics
import BulwarkDefences
import Logging
import NIOCore
import NIOPosix

/// What one event-loop thread needs to answer: its responder and the response buffer
/// it writes into. Only ever touched on its own thread.
final class TCPWorkspace: @unchecked Sendable {
    let responder: QueryResponder
    /// Two octets of length prefix, then up to 65535 of response.
    let buffer: UnsafeMutableRawBufferPointer

    init(store: ZoneStore, maxUDPSize: Int, defences: DefenceSettings, logger: Logger) {
        responder = QueryResponder(store: store, maxUDPSize: maxUDPSize, defences: defences, logger: logger)
        buffer = .allocate(byteCount: 2 + 65535, alignment: 16)
    }

    deinit { buffer.deallocate() }
}

/// Settings of the TCP transport.
public struct TCPSettings: Sendable {
    /// RFC 7766 §6.2.3: a connection with no complete query for this long is closed.
    public var idleTimeout: TimeAmount
    public var maxConnections: Int
    public init(idleTimeout: TimeAmount = .seconds(10), maxConnections: Int = 1000) {
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}

/// Frames, answers and writes back DNS messages on one connection.
///
/// The idle timer restarts only when a complete query arrives, so a client trickling
/// bytes cannot hold a connection open. Reading pauses while the socket cannot take
/// more output (a client that sends but never reads gets no more service).
final class DNSTCPHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let workspace: TCPWorkspace
    /// The peer, read once when the connection is set up.
    private let client: ClientAddress
    private let idleTimeout: TimeAmount
    private var cumulation: ByteBuffer?
    private var idleTask: Scheduled<Void>?
    private var lastQuery = NIODeadline.now()
    private var readPending = false
    private var answeredSinceFlush = false

    init(workspace: TCPWorkspace, client: ClientAddress, idleTimeout: TimeAmount) {
        self.workspace = workspace
        self.client = client
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armIdleTimer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTask?.cancel()
        idleTask = nil
        cumulation = nil
        context.fireChannelInactive()
    }

    /// One timer per connection, re-armed from its own expiry rather than per query
    /// (re-scheduling allocates): on expiry it closes the connection only if no
    /// complete query arrived within the timeout.
    private func armIdleTimer(_ context: ChannelHandlerContext) {
        lastQuery = .now()
        guard idleTask == nil else { return }
        scheduleIdleCheck(context, at: lastQuery + idleTimeout)
    }

    private func scheduleIdleCheck(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTask = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.idleTask = nil
            let expiry = handler.lastQuery + handler.idleTimeout
            if expiry <= .now() {
                context.close(promise: nil)
            } else if context.channel.isActive {
                handler.scheduleIdleCheck(context, at: expiry)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if cumulation == nil {
            cumulation = incoming
        } else {
            cumulation!.writeBuffer(&incoming)
        }
        var answered = 0
        while let frame = nextFrame() {
            answered += 1
            answer(frame, context: context)
        }
        if let c = cumulation, c.readableBytes == 0 {
            cumulation = nil
        } else {
            cumulation?.discardReadBytes()
        }
        if answered > 0 {
            answeredSinceFlush = true
            armIdleTimer(context)
        }
    }

    /// The next complete message, if the buffer holds one.
    private func nextFrame() -> ByteBuffer? {
        guard var buffer = cumulation, let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 2)
        let frame = buffer.readSlice(length: Int(length))
        cumulation = buffer
        return frame
    }

    private func answer(_ frame: ByteBuffer, context: ChannelHandlerContext) {
        let out = workspace.buffer
        let length = frame.withUnsafeReadableBytes { query in
            workspace.responder.respond(to: query, transport: .tcp, client: client,
                                        into: UnsafeMutableRawBufferPointer(rebasing: out[2...]))
        }
        guard length > 0 else { return }
        out.storeU16(UInt16(length), at: 0)
        var response = context.channel.allocator.buffer(capacity: length + 2)
        response.writeBytes(UnsafeRawBufferPointer(rebasing: out[0..<(length + 2)]))
        context.write(wrapOutboundOut(response), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if answeredSinceFlush {
            answeredSinceFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && readPending {
            readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Any error ends this connection, never the server.
        context.close(promise: nil)
    }
}

struct TooManyConnections: Error {}

/// The TCP listeners of a server, sharing one event-loop group.
public final class TCPServer: @unchecked Sendable {
    private let store: ZoneStore
    private let maxUDPSize: Int
    private let defences: DefenceSettings
    private let settings: TCPSettings
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let workspaces = ThreadSpecificVariable<TCPWorkspace>()
    private let connections = ManagedAtomic<Int>(0)
    private var channels: [Channel] = []

    public init(store: ZoneStore, maxUDPSize: Int, defences: DefenceSettings = DefenceSettings(),
                settings: TCPSettings, threads: Int, logger: Logger) {
        self.store = store
        self.maxUDPSize = maxUDPSize
        self.defences = defences
        self.settings = settings
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    }

    /// Open connections right now.
    public var connectionCount: Int { connections.load(ordering: .relaxed) }

    /// The workspace of the calling event-loop thread, created on first use.
    private func workspace() -> TCPWorkspace {
        if let w = workspaces.currentValue { return w }
        let w = TCPWorkspace(store: store, maxUDPSize: maxUDPSize, defences: defences, logger: logger)
        workspaces.currentValue = w
        return w
    }

    /// Listens on the address; returns the bound port.
    public func start(_ address: ListenAddress) async throws -> Int {
        let settings = self.settings
        let connections = self.connections
        let logger = self.logger
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
            // Connection cap: over it, the new connection is closed at once.
            if connections.loadThenWrappingIncrement(ordering: .relaxed) >= settings.maxConnections {
                connections.wrappingDecrement(ordering: .relaxed)
                logger.debug("TCP connection refused: \(settings.maxConnections) already open")
                return channel.eventLoop.makeFailedFuture(TooManyConnections())
            }
            channel.closeFuture.whenComplete { _ in connections.wrappingDecrement(ordering: .relaxed) }
            do {
                try channel.pipeline.syncOperations.addHandler(
                    DNSTCPHandler(workspace: self.workspace(), client: ClientAddress(channel.remoteAddress),
                                  idleTimeout: settings.idleTimeout))
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
