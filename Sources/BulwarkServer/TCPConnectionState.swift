// What changes on one TCP connection (DNSTCPHandler) as one value, swift-nio style: an
// enum whose mutating transitions the handler calls from its events, acting on what they
// return (write this, schedule that, read now). No channel here: every rule of framing,
// pipelining, the in-flight cap and the two clocks is tested without a socket.
import BulwarkPipeline
import NIOCore

enum TCPConnectionState {
    /// Queries are read and answered as they come.
    case answering(Connection)
    /// A multi-message answer (zone transfer) is being written: no other query is
    /// answered until it ends, so its messages are never interleaved with other answers
    /// (answers stay in order, which RFC 7766 §7 allows).
    case streaming(Connection, Stream)
    /// The channel has gone: nothing more is read, answered or written.
    case closed
    /// Only while a transition changes the payload in place (no copy of its buffers).
    case modifying

    /// The bookkeeping of an open connection.
    struct Connection {
        /// Octets read and not yet taken as queries.
        var cumulation: ByteBuffer?
        /// The connection's one timer (idle and I/O timeouts) and when it fires.
        var timer: Scheduled<Void>?
        var timerDeadline = NIODeadline.distantFuture
        /// When the last complete query arrived (or a stream message was written).
        var lastQuery: NIODeadline
        /// When the first octet of the query being received arrived; nil between queries.
        var partialSince: NIODeadline?
        /// The pipeline asked to read while reading was paused.
        var readPending = false
        /// Answers written to the channel whose write has not completed, plus `held`.
        var inflight = 0
        /// The latest answer, written at the next flush with the promise that tells when
        /// the whole batch has gone (one promise per batch, not per answer).
        var held: ByteBuffer?
        var heldCount = 0
        /// The activity last told to the connection table.
        var reported: TCPConnectionLimiter.Activity = .idle

        init(now: NIODeadline) {
            lastQuery = now
        }

        /// Octets of a query that has not fully arrived (complete queries held back by the
        /// in-flight cap do not count: the wait is ours, not the client's).
        var hasPartialQuery: Bool {
            guard let c = cumulation, c.readableBytes > 0 else { return false }
            guard let length = c.getInteger(at: c.readerIndex, as: UInt16.self) else { return true }
            return c.readableBytes < 2 + Int(length)
        }
    }

    /// A multi-message answer being written.
    struct Stream {
        let response: any ResponseStream
        /// Its continuation is scheduled on the event loop.
        var continuationScheduled = false
    }

    /// What the connection's timer found when it fired.
    enum Expiry: Equatable {
        /// RFC 7766 §6.2.3 / slowloris: a query began `ioTimeout` ago and is not complete.
        case ioTimeout
        /// No complete query for `idleTimeout`.
        case idle
        /// Neither yet: fire again then.
        case rearm(NIODeadline)
        /// The connection is closed already.
        case none
    }

    init(now: NIODeadline) {
        self = .answering(Connection(now: now))
    }

    /// Changes the open connection's bookkeeping in place; nil when closed.
    @discardableResult
    mutating func update<Result>(_ body: (inout Connection) -> Result) -> Result? {
        switch self {
        case .answering(var c):
            self = .modifying
            defer { self = .answering(c) }
            return body(&c)
        case .streaming(var c, let s):
            self = .modifying
            defer { self = .streaming(c, s) }
            return body(&c)
        case .closed:
            return nil
        case .modifying:
            preconditionFailure("TCPConnectionState changed re-entrantly")
        }
    }

    var connection: Connection? {
        switch self {
        case .answering(let c), .streaming(let c, _): return c
        case .closed, .modifying: return nil
        }
    }

    var isStreaming: Bool {
        if case .streaming = self { return true }
        return false
    }

    // MARK: the channel

    /// The channel went inactive: returns the timer to cancel.
    mutating func closed() -> Scheduled<Void>? {
        let timer = connection?.timer
        self = .closed
        return timer
    }

    // MARK: reading and framing

    /// Octets arrived.
    mutating func received(_ incoming: inout ByteBuffer) {
        update { c in
            if c.cumulation == nil {
                c.cumulation = incoming
            } else {
                c.cumulation!.writeBuffer(&incoming)
            }
        }
    }

    /// The next complete query to answer: none while a stream is being written, at the
    /// in-flight cap, or when no whole message is buffered. RFC 1035 §4.2.2: two octets
    /// of length, then the message.
    mutating func nextQuery(maxInflight: Int) -> ByteBuffer? {
        guard case .answering = self else { return nil }
        return update { c -> ByteBuffer? in
            guard c.inflight < maxInflight, var buffer = c.cumulation,
                  let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
                  buffer.readableBytes >= 2 + Int(length) else { return nil }
            c.cumulation = nil  // one reference to the storage while it is sliced
            buffer.moveReaderIndex(forwardBy: 2)
            let frame = buffer.readSlice(length: Int(length))
            c.cumulation = buffer
            return frame
        } ?? nil
    }

    /// A batch of queries was taken: drops the octets consumed; `answered` complete queries
    /// restart the idle clock. Returns an earlier deadline for the timer when a partial
    /// query has just begun (RFC 7766 §6.2.3 / slowloris: the rest of it has `ioTimeout`).
    mutating func batchDone(answered: Int, now: NIODeadline, ioTimeout: TimeAmount) -> NIODeadline? {
        update { c -> NIODeadline? in
            if let buffer = c.cumulation, buffer.readableBytes == 0 {
                c.cumulation = nil
            } else if c.cumulation != nil {
                var buffer = c.cumulation!
                c.cumulation = nil
                buffer.discardReadBytes()
                c.cumulation = buffer
            }
            if answered > 0 { c.lastQuery = now }
            guard c.hasPartialQuery else {
                c.partialSince = nil
                return nil
            }
            guard c.partialSince == nil else { return nil }
            c.partialSince = now
            return now + ioTimeout < c.timerDeadline ? now + ioTimeout : nil
        } ?? nil
    }

    /// Reading may go on: below the in-flight cap and no stream being written.
    func mayRead(maxInflight: Int) -> Bool {
        guard case .answering(let c) = self else { return false }
        return c.inflight < maxInflight
    }

    /// The pipeline asks to read: true to read now, else it is remembered for later.
    mutating func readRequested(writable: Bool, maxInflight: Int) -> Bool {
        if writable && mayRead(maxInflight: maxInflight) { return true }
        update { $0.readPending = true }
        return false
    }

    /// True when a read asked for earlier may go ahead now.
    mutating func resumeReading(writable: Bool, maxInflight: Int) -> Bool {
        guard writable, mayRead(maxInflight: maxInflight), connection?.readPending == true else { return false }
        update { $0.readPending = false }
        return true
    }

    // MARK: answers

    /// An answer is ready: it is held for the next flush; returns the answer held before,
    /// to write now (without a flush).
    mutating func hold(_ response: ByteBuffer) -> ByteBuffer? {
        update { c -> ByteBuffer? in
            let previous = c.held
            c.held = response
            c.heldCount += 1
            c.inflight += 1
            return previous
        } ?? nil
    }

    /// The held answer and how many answers its write completes, to write and flush.
    mutating func takeHeld() -> (last: ByteBuffer, count: Int)? {
        update { c -> (last: ByteBuffer, count: Int)? in
            guard let last = c.held else { return nil }
            let count = c.heldCount
            c.held = nil
            c.heldCount = 0
            return (last, count)
        } ?? nil
    }

    /// A batch of `count` answers has gone to the socket.
    mutating func written(_ count: Int) {
        update { $0.inflight -= count }
    }

    // MARK: multi-message answers

    /// A stream begins (after the held answers are flushed); it counts as one answer in
    /// flight until its end.
    mutating func startStream(_ response: any ResponseStream) {
        guard case .answering(var c) = self else { return }
        self = .modifying
        c.inflight += 1
        self = .streaming(c, Stream(response: response))
    }

    /// The stream's next message; nil when it has ended (the state is answering again).
    mutating func nextStreamMessage(now: NIODeadline) -> [UInt8]? {
        guard case .streaming(var c, let s) = self else { return nil }
        self = .modifying
        guard let message = s.response.next() else {
            c.inflight -= 1
            self = .answering(c)
            return nil
        }
        // Each message written counts as activity: a long transfer is not idle.
        c.lastQuery = now
        self = .streaming(c, s)
        return message
    }

    /// Schedules the stream's continuation unless one is already: true to schedule it.
    mutating func scheduleStreamContinuation() -> Bool {
        guard case .streaming(let c, var s) = self, !s.continuationScheduled else { return false }
        s.continuationScheduled = true
        self = .streaming(c, s)
        return true
    }

    /// The scheduled continuation runs.
    mutating func streamContinuationRuns() {
        guard case .streaming(let c, var s) = self else { return }
        s.continuationScheduled = false
        self = .streaming(c, s)
    }

    // MARK: activity and timers

    /// What the connection is doing, when it changed since last told.
    mutating func activityChange() -> TCPConnectionLimiter.Activity? {
        update { c -> TCPConnectionLimiter.Activity? in
            let now: TCPConnectionLimiter.Activity
            if c.partialSince != nil {
                now = .receiving
            } else if c.inflight > 0 || (c.cumulation?.readableBytes ?? 0) > 0 {
                now = .busy
            } else {
                now = .idle
            }
            guard now != c.reported else { return nil }
            c.reported = now
            return now
        } ?? nil
    }

    /// When the timer must fire next: the idle timeout, or sooner the I/O timeout of a
    /// partial query.
    func nextDeadline(idleTimeout: TimeAmount, ioTimeout: TimeAmount) -> NIODeadline? {
        guard let c = connection else { return nil }
        let idle = c.lastQuery + idleTimeout
        guard let since = c.partialSince else { return idle }
        return min(idle, since + ioTimeout)
    }

    /// The timer was (re)armed for `deadline`; returns the one it replaces, to cancel.
    mutating func timerArmed(_ timer: Scheduled<Void>, at deadline: NIODeadline) -> Scheduled<Void>? {
        update { c -> Scheduled<Void>? in
            let old = c.timer
            c.timer = timer
            c.timerDeadline = deadline
            return old
        } ?? nil
    }

    /// Whether the timer is armed (the idle clock needs only one).
    var timerIsArmed: Bool { connection?.timer != nil }

    /// The timer fired at `now`: what it finds.
    mutating func timerFired(now: NIODeadline, idleTimeout: TimeAmount, ioTimeout: TimeAmount) -> Expiry {
        update { c -> Expiry in
            c.timer = nil
            c.timerDeadline = .distantFuture
            if let since = c.partialSince, since + ioTimeout <= now { return .ioTimeout }
            if c.lastQuery + idleTimeout <= now { return .idle }
            let idle = c.lastQuery + idleTimeout
            return .rearm(c.partialSince.map { min(idle, $0 + ioTimeout) } ?? idle)
        } ?? Expiry.none
    }
}
