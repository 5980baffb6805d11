import BulwarkSettings
import BulwarkTestSupport
import BulwarkTransfer
import BulwarkWire
import Foundation
import Logging
import XCTest
@testable import BulwarkServer
#if canImport(Glibc)
import Glibc
#endif

/// NOTIFY out (RFC 1996 §3): signed, retried with a doubling timeout, superseded.
final class NotifySenderTests: XCTestCase {
    let key = try! TSIGKey(name: "notify-key", algorithm: "hmac-sha512", secret: "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=")
    let quiet: Logger = {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }()

    func soa() throws -> ResourceRecord {
        ResourceRecord(owner: try DNSName("n.test."), type: .soa, ttl: 300,
                       rdata: [0, 0, 0, 0, 0, 7] + [UInt8](repeating: 0, count: 16))
    }

    /// A UDP socket on 127.0.0.1 and its port.
    func boundSocket() -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var sin = TestClient.sockaddrIn(port: 0)
        _ = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return (fd, POSIXSocket.localPort(fd))
    }

    func testRetriesUntilAnsweredAndVerifiesTheSignedAnswer() async throws {
        let (fd, port) = boundSocket()
        defer { close(fd) }
        let ring = TSIGKeyring([key])
        let received = DispatchSemaphore(value: 0)
        final class Seen: @unchecked Sendable {  // written by the responder thread under `lock`
            let lock = NSLock()
            var requests: [[UInt8]] = []
        }
        let seen = Seen()
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            for round in 0..<2 {
                var from = sockaddr_storage()
                var fromLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = buffer.withUnsafeMutableBytes { b in
                    withUnsafeMutablePointer(to: &from) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &fromLength) }
                    }
                }
                guard n > 0 else { break }
                let request = Array(buffer[0..<n])
                seen.lock.withLock { seen.requests.append(request) }
                if round == 0 { continue }  // the first one is "lost"
                guard case .verified(var signer) = TSIGServer.verify(request: request, keyring: ring) else { break }
                let flags = HeaderFlags.qr | HeaderFlags.aa | UInt16(Opcode.notify.rawValue) << 11
                let reply = signer.sign(MessageWriter(id: UInt16(request[0]) << 8 | UInt16(request[1]), flags: flags,
                                                      question: (try! DNSName("n.test."), .soa, .in)).bytes)
                _ = reply.withUnsafeBytes { b in
                    withUnsafePointer(to: &from) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, fromLength) }
                    }
                }
            }
            received.signal()
        }
        let sender = NotifySender(keyring: ring, logger: quiet, attempts: 3, firstTimeout: 0.3)
        let target = NotifyTarget(address: try ListenAddress(host: "127.0.0.1", port: port), key: key.name)
        let zone = try DNSName("n.test.")
        let started = Date()
        let outcome = await sender.send(zone: zone, soa: try soa(), serial: 7, to: target, generation: sender.begin(zone, target))
        XCTAssertEqual(outcome, .acknowledged(attempt: 2))
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.3)  // waited out the first timeout
        await withCheckedContinuation { done in DispatchQueue.global().async { received.wait(); done.resume() } }
        let first = try XCTUnwrap(seen.lock.withLock { seen.requests.first })
        XCTAssertEqual((first[2] >> 3) & 0x0F, Opcode.notify.rawValue)
        XCTAssertEqual(first[2] & 0x04, 0x04)  // AA (RFC 1996 §3.7)
        XCTAssertEqual(first[7], 1)  // the SOA in the answer section
        XCTAssertNotNil(try TSIG.find(in: first))
    }

    func testUnansweredAfterAttemptsAndSupersededByANewerChange() async throws {
        let (fd, port) = boundSocket()  // bound, never read: no answer, no ICMP
        defer { close(fd) }
        let sender = NotifySender(keyring: TSIGKeyring(), logger: quiet, attempts: 2, firstTimeout: 0.1)
        let target = NotifyTarget(address: try ListenAddress(host: "127.0.0.1", port: port), key: nil)
        let zone = try DNSName("n.test.")
        let started = Date()
        let unanswered = await sender.send(zone: zone, soa: try soa(), serial: 7, to: target, generation: sender.begin(zone, target))
        XCTAssertEqual(unanswered, .unanswered)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.29)  // 0.1 then 0.2
        let old = sender.begin(zone, target)
        _ = sender.begin(zone, target)
        let superseded = await sender.send(zone: zone, soa: try soa(), serial: 7, to: target, generation: old)
        XCTAssertEqual(superseded, .superseded)
    }
}
