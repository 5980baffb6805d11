import BulwarkPipeline
import NIOCore
import XCTest
@testable import BulwarkServer

/// The TCP connection's state machine without a channel: framing, the in-flight cap,
/// streams, read pausing and the two clocks.
final class TCPConnectionStateTests: XCTestCase {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func framed(_ message: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message)
    }

    final class Messages: ResponseStream {
        var left: [[UInt8]]
        init(_ m: [[UInt8]]) { left = m }
        func next() -> [UInt8]? { left.isEmpty ? nil : left.removeFirst() }
    }

    func testFramesQueriesAcrossReadsAndNotesAPartialOne() {
        var state = TCPConnectionState(now: t0)
        var bytes = framed([1, 2, 3])
        var second = framed([4, 5])
        bytes.writeBuffer(&second)
        var first = bytes.getSlice(at: 0, length: 4)!
        var rest = bytes.getSlice(at: 4, length: bytes.readableBytes - 4)!
        state.received(&first)
        XCTAssertNil(state.nextQuery(maxInflight: 4), "one octet short")
        // RFC 7766 §6.2.3: the partial query's clock starts, and the timer is moved earlier.
        XCTAssertEqual(state.batchDone(answered: 0, now: t0, ioTimeout: .seconds(2)), t0 + .seconds(2))
        XCTAssertEqual(state.connection?.partialSince, t0)
        XCTAssertEqual(state.activityChange(), .receiving)
        state.received(&rest)
        XCTAssertEqual(state.nextQuery(maxInflight: 4).map { Array($0.readableBytesView) }, [1, 2, 3])
        XCTAssertEqual(state.nextQuery(maxInflight: 4).map { Array($0.readableBytesView) }, [4, 5])
        XCTAssertNil(state.nextQuery(maxInflight: 4))
        _ = state.batchDone(answered: 2, now: t0 + .seconds(1), ioTimeout: .seconds(2))
        XCTAssertNil(state.connection?.partialSince)
        XCTAssertNil(state.connection?.cumulation)
        XCTAssertEqual(state.connection?.lastQuery, t0 + .seconds(1))
        XCTAssertEqual(state.activityChange(), .idle)
        XCTAssertNil(state.activityChange(), "told once")
    }

    func testInflightCapHoldsQueriesAndPausesReading() {
        var state = TCPConnectionState(now: t0)
        var two = framed([1])
        var second = framed([2])
        two.writeBuffer(&second)
        state.received(&two)
        XCTAssertNotNil(state.nextQuery(maxInflight: 1))
        XCTAssertNil(state.hold(ByteBuffer(bytes: [9])))
        XCTAssertNil(state.nextQuery(maxInflight: 1), "at the cap")
        XCTAssertFalse(state.readRequested(writable: true, maxInflight: 1))
        XCTAssertFalse(state.resumeReading(writable: true, maxInflight: 1))
        let held = state.takeHeld()
        XCTAssertEqual(held?.count, 1)
        XCTAssertNil(state.takeHeld())
        state.written(1)
        XCTAssertTrue(state.resumeReading(writable: true, maxInflight: 1))
        XCTAssertFalse(state.resumeReading(writable: true, maxInflight: 1), "resumed once")
        XCTAssertNotNil(state.nextQuery(maxInflight: 1))
        // A complete query held back by the cap is no partial query.
        _ = state.batchDone(answered: 1, now: t0, ioTimeout: .seconds(2))
        XCTAssertNil(state.connection?.partialSince)
    }

    func testAStreamHoldsOtherQueriesUntilItEnds() {
        var state = TCPConnectionState(now: t0)
        var q = framed([7])
        state.received(&q)
        state.startStream(Messages([[1], [2]]))
        XCTAssertTrue(state.isStreaming)
        XCTAssertNil(state.nextQuery(maxInflight: 8), "no other answer while streaming")
        XCTAssertFalse(state.mayRead(maxInflight: 8))
        XCTAssertTrue(state.scheduleStreamContinuation())
        XCTAssertFalse(state.scheduleStreamContinuation(), "scheduled once")
        state.streamContinuationRuns()
        XCTAssertEqual(state.nextStreamMessage(now: t0 + .seconds(3)), [1])
        XCTAssertEqual(state.connection?.lastQuery, t0 + .seconds(3), "a long transfer is not idle")
        XCTAssertEqual(state.nextStreamMessage(now: t0), [2])
        XCTAssertNil(state.nextStreamMessage(now: t0))
        XCTAssertFalse(state.isStreaming)
        XCTAssertEqual(state.connection?.inflight, 0)
        XCTAssertNotNil(state.nextQuery(maxInflight: 8))
    }

    func testTimerFindsTheIOTimeoutThenTheIdleTimeout() {
        let idle = TimeAmount.seconds(10), io = TimeAmount.seconds(2)
        var state = TCPConnectionState(now: t0)
        XCTAssertEqual(state.nextDeadline(idleTimeout: idle, ioTimeout: io), t0 + idle)
        var partial = ByteBuffer(bytes: [0])
        state.received(&partial)
        XCTAssertEqual(state.batchDone(answered: 0, now: t0 + .seconds(1), ioTimeout: io), t0 + .seconds(3))
        XCTAssertEqual(state.nextDeadline(idleTimeout: idle, ioTimeout: io), t0 + .seconds(3))
        XCTAssertEqual(state.timerFired(now: t0 + .seconds(2), idleTimeout: idle, ioTimeout: io), .rearm(t0 + .seconds(3)))
        XCTAssertEqual(state.timerFired(now: t0 + .seconds(3), idleTimeout: idle, ioTimeout: io), .ioTimeout)
        var fresh = TCPConnectionState(now: t0)
        XCTAssertEqual(fresh.timerFired(now: t0 + idle, idleTimeout: idle, ioTimeout: io), .idle)
        _ = fresh.closed()
        XCTAssertEqual(fresh.timerFired(now: t0 + idle, idleTimeout: idle, ioTimeout: io), .none)
        XCTAssertNil(fresh.nextQuery(maxInflight: 1))
    }
}
