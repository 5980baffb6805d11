// A TCP connection to a primary for transfers in, on SwiftNIO: a ClientBootstrap on the
// server's event-loop group, whole DNS messages framed by their two-octet length
// (RFC 1035 §4.2.2), and the connect, I/O and whole-transfer time limits enforced on
// the event loop. Nothing here blocks a thread.
import BulwarkTransfer
import NIOCore
import NIOPosix

/// Splits a TCP byte stream into DNS messages (RFC 1035 §4.2.2: a two-octet length,
/// then the message).
struct DNSLengthPrefixDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 { throw TruncatedMessage() }
        return .needMoreData
    }
}

/// The peer closed the connection with part of a message sent.
struct TruncatedMessage: Error {}

/// Prefixes each outgoing DNS message with its length (RFC 1035 §4.2.2).
struct DNSLengthPrefixEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(UInt16(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}

/// Why a transfer connection's time ran out (raised into the pipeline, then closed).
struct TransferTimedOut: Error {
    var reason: String
}

/// Closes the connection with `TransferTimedOut` when no octet moves for `ioTimeout`
/// (each read or write may wait that long), or when the whole exchange passes its
/// deadline. One timer, re-armed from its own expiry rather than on every message.
final class TransferDeadlineHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let ioTimeout: TimeAmount
    private let deadline: NIODeadline
    private var lastActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?

    init(ioTimeout: TimeAmount, deadline: NIODeadline) {
        self.ioTimeout = ioTimeout
        self.deadline = deadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = context.eventLoop.now
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = context.eventLoop.now
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        let next = min(lastActivity + ioTimeout, deadline)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: next) {
            let (handler, context) = loopBound.value
            handler.expired(context)
        }
    }

    private func expired(_ context: ChannelHandlerContext) {
        timer = nil
        guard context.channel.isActive else { return }
        let now = context.eventLoop.now
        let reason: String
        if now >= deadline {
            reason = "the transfer time limit passed"
        } else if now >= lastActivity + ioTimeout {
            reason = "no progress within \(ioTimeout.nanoseconds / 1_000_000_000) s"
        } else {
            arm(context)
            return
        }
        context.fireErrorCaught(TransferTimedOut(reason: reason))
        context.close(promise: nil)
    }
}

/// One connection to a primary, open for the duration of `TransferConnection.with`.
final class TransferConnection: AsyncDNSMessageStream {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let peer: String

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, peer: String) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
        self.peer = peer
    }

    /// Seconds as a TimeAmount.
    static func amount(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(max(0, seconds) * 1e9)) }

    /// Connects to `host` (numeric IPv4 or IPv6) on `port` within `connectTimeout`
    /// seconds, runs `body` on the connection and closes it. Each read or write may wait
    /// `ioTimeout` seconds; everything must be over within `totalTimeout`.
    static func with<Result: Sendable>(host: String, port: Int, group: any EventLoopGroup, connectTimeout: Double,
                             ioTimeout: Double, totalTimeout: Double,
                             _ body: (TransferConnection) async throws(TransferError) -> Result) async throws(TransferError) -> Result {
        let peer = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw TransferError(.connect, "'\(host)' is not an IPv4 or IPv6 address")
        }
        let deadline = NIODeadline.now() + amount(totalTimeout)
        let io = amount(ioTimeout)
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(amount(min(connectTimeout, ioTimeout)))
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .connect(to: address) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        // Nearest the socket, the deadlines see every octet move.
                        try sync.addHandler(TransferDeadlineHandler(ioTimeout: io, deadline: deadline))
                        try sync.addHandler(ByteToMessageHandler(DNSLengthPrefixDecoder()))
                        try sync.addHandler(MessageToByteHandler(DNSLengthPrefixEncoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch ChannelError.connectTimeout {
            throw TransferError(.connect, "connect to \(peer): no progress within \(Int(min(connectTimeout, ioTimeout))) s")
        } catch {
            throw TransferError(.connect, "connect to \(peer): \(describe(error))")
        }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                try await body(TransferConnection(inbound: inbound, outbound: outbound, peer: peer))
            }
        } catch let error as TransferError {
            throw error
        } catch {
            throw TransferError(.closed, "\(peer): \(describe(error))")
        }
    }

    func send(_ message: [UInt8]) async throws(TransferError) {
        guard message.count <= 65535 else { throw TransferError(.malformed, "query longer than 65535 octets") }
        do {
            try await outbound.write(ByteBuffer(bytes: message))
        } catch {
            throw Self.failure(error, "sending to \(peer)")
        }
    }

    func receive() async throws(TransferError) -> [UInt8] {
        let next: ByteBuffer?
        do {
            next = try await inbound.next()
        } catch is TruncatedMessage {
            throw TransferError(.closed, "\(peer) closed the connection in the middle of a message before the transfer ended")
        } catch {
            throw Self.failure(error, "reading from \(peer)")
        }
        guard let message = next else {
            throw TransferError(.closed, "\(peer) closed the connection before the transfer ended")
        }
        guard message.readableBytes >= 12 else { throw TransferError(.malformed, "a \(message.readableBytes)-octet message from \(peer)") }
        return Array(message.readableBytesView)
    }

    private static func failure(_ error: any Error, _ what: String) -> TransferError {
        if let timeout = error as? TransferTimedOut { return TransferError(.timeout, "\(what): \(timeout.reason)") }
        if error is CancellationError { return TransferError(.closed, "\(what): cancelled") }
        return TransferError(.closed, "\(what): \(describe(error))")
    }

    private static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return io.description }
        if let c = error as? NIOConnectionError, let first = c.connectionErrors.first { return "\(first.error)" }
        return "\(error)"
    }
}
