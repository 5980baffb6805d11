import BulwarkDefences
import BulwarkTestSupport
import BulwarkZone
import Logging
import NIOCore
import NIOEmbedded
import XCTest
@testable import BulwarkServer

/// DNSTCPHandler on an EmbeddedChannel (virtual time, no sockets): the I/O timeout for
/// half-sent queries, the idle timeout, and pipelining past the in-flight cap.
final class TCPHandlerTests: XCTestCase {
    let client = ClientAddress(ipv4: 0x7F00_000A)

    func makeChannel(_ settings: TCPSettings) throws -> (EmbeddedChannel, EmbeddedEventLoop, TCPConnectionTable) {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let table = TCPConnectionTable(maxConnections: 10, maxPerClient: 10)
        guard case .accept(let id, _) = table.admit(channel, client: client) else {
            XCTFail("not admitted")
            throw CancellationError()
        }
        // An empty zone set: every query is answered REFUSED, which is all these tests need.
        let workspace = TCPWorkspace(store: ZoneStore(ZoneSet(zones: [])), maxUDPSize: 1232,
                                     defences: DefenceSettings(), logger: Logger(label: "test"))
        try channel.pipeline.syncOperations.addHandler(
            DNSTCPHandler(workspace: workspace, client: .unknown, settings: settings, table: table, id: id))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 53)).wait()
        return (channel, loop, table)
    }

    func frame(id: UInt16) -> [UInt8] { TestClient.framed(TestClient.query("www.test.", id: id)) }

    func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    /// The IDs of the framed answers written so far.
    func answers(_ channel: EmbeddedChannel) throws -> [UInt16] {
        var ids: [UInt16] = []
        while var out = try channel.readOutbound(as: ByteBuffer.self) {
            while out.readableBytes >= 4 {
                let length = Int(out.readInteger(as: UInt16.self)!)
                let slice = out.readSlice(length: length)!
                ids.append(slice.getInteger(at: slice.readerIndex, as: UInt16.self)!)
            }
        }
        return ids
    }

    func testHalfSentQueryIsClosedAfterTheIOTimeout() throws {
        let (channel, loop, table) = try makeChannel(TCPSettings(idleTimeout: .seconds(30), ioTimeout: .seconds(2)))
        try channel.writeInbound(buffer([0]))  // one octet of the length prefix
        loop.advanceTime(by: .milliseconds(1900))
        XCTAssertTrue(channel.isActive, "still within the I/O timeout")
        try channel.writeInbound(buffer([40, 0, 1]))  // more octets: the clock still runs from the first
        loop.advanceTime(by: .milliseconds(200))
        XCTAssertFalse(channel.isActive, "closed 2 s after the query's first octet")
        XCTAssertEqual(table.ioTimeouts.load(ordering: .relaxed), 1)
    }

    func testCompleteQueriesRestartTheClocks() throws {
        let (channel, loop, _) = try makeChannel(TCPSettings(idleTimeout: .seconds(5), ioTimeout: .seconds(2)))
        let f = frame(id: 7)
        try channel.writeInbound(buffer(Array(f.prefix(5))))
        loop.advanceTime(by: .milliseconds(1500))
        try channel.writeInbound(buffer(Array(f.dropFirst(5))))
        XCTAssertEqual(try answers(channel), [7])
        loop.advanceTime(by: .seconds(3))
        XCTAssertTrue(channel.isActive, "no query in progress: only the idle timeout applies")
        loop.advanceTime(by: .milliseconds(2100))
        XCTAssertFalse(channel.isActive, "idle for 5 s after the last complete query")
    }

    func testPipelinePastTheInflightCapIsAnsweredInOrder() throws {
        let (channel, _, _) = try makeChannel(TCPSettings(maxInflight: 2))
        var all: [UInt8] = []
        for i in 0..<9 { all += frame(id: UInt16(100 + i)) }
        try channel.writeInbound(buffer(all))
        // Two answers per batch; each batch's write completing releases the next.
        XCTAssertEqual(try answers(channel), (0..<9).map { UInt16(100 + $0) })
        XCTAssertTrue(channel.isActive)
    }

    func testActivityIsReportedToTheTable() throws {
        let (channel, _, table) = try makeChannel(TCPSettings())
        try channel.writeInbound(buffer([0, 30, 1]))
        XCTAssertEqual(table.soleActivity, .receiving)
        try channel.writeInbound(buffer(Array(repeating: 0, count: 29)))
        _ = try answers(channel)
        XCTAssertEqual(table.soleActivity, .idle)
    }
}
