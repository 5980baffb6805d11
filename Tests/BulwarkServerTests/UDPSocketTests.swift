import BulwarkSettings
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BulwarkServer

/// The UDP socket options a listener is bound with.
final class UDPSocketTests: XCTestCase {
    func receiveBuffer(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &length)
        return value
    }

    func testReceiveBufferIsTheConfiguredSize() throws {
        let address = try ListenAddress(parsing: "127.0.0.1:0")
        for size in [1 << 18, 1 << 20] {
            let fd = try POSIXSocket.boundUDP(address, port: 0, receiveBuffer: size)
            defer { close(fd) }
            // Linux doubles the value for its own bookkeeping (socket(7)); without
            // CAP_NET_ADMIN it is capped at net.core.rmem_max.
            let got = Int(receiveBuffer(fd))
            let cap = (try? String(contentsOfFile: "/proc/sys/net/core/rmem_max", encoding: .utf8))
                .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? Int.max
            if geteuid() == 0 || size <= cap {
                XCTAssertEqual(got, 2 * size)
            } else {
                XCTAssertEqual(got, 2 * cap)
            }
        }
    }
}
