import BulwarkTestSupport
import BulwarkWire
import BulwarkZone
import Logging
import XCTest
@testable import BulwarkOps

/// A set of small zones with these origins, in this order (their indices).
func zoneSet(_ origins: [String]) -> ZoneSet {
    ZoneSet(zones: origins.map { smallZone($0) })
}

func smallZone(_ origin: String, serial: UInt32 = 1) -> Zone {
    let name = try! DNSName(origin)
    return try! Zone(origin: name, records: SmallZone.records(name, serial: serial))
}

final class CountersTests: XCTestCase {
    /// Two UDP workers and a TCP one: the snapshot sums them by transport, qtype, rcode and zone.
    func testSnapshotSumsWorkers() {
        let hub = OpsHub()
        let u1 = hub.makeWorker(.udp), u2 = hub.makeWorker(.udp), t = hub.makeWorker(.tcp)
        let set = zoneSet(["a.test.", "b.test."])
        for w in [u1, u2, t] { w.zonesChanged(set) }
        for _ in 0..<10 { u1.count(qtype: 1, rcode: 0, zone: 0) }
        for _ in 0..<5 { u2.count(qtype: 1, rcode: 3, zone: 1) }
        for _ in 0..<2 { t.count(qtype: 28, rcode: 0, zone: 1) }
        u2.count(qtype: nil, rcode: RCodeBucket.none, zone: -1)
        u1.count(.rateLimitSlipped)
        u2.count(.rateLimitDropped)
        u2.count(.rateLimitDropped)
        let s = hub.snapshot()
        XCTAssertEqual(s.queries(), 18)
        XCTAssertEqual(s.queries(.udp), 16)
        XCTAssertEqual(s.queries(.tcp), 2)
        let a = QTypeBucket.index(1), aaaa = QTypeBucket.index(28)
        XCTAssertEqual(s.table[0][a * RCodeBucket.count + 0], 10)
        XCTAssertEqual(s.table[0][a * RCodeBucket.count + 3], 5)
        XCTAssertEqual(s.table[1][aaaa * RCodeBucket.count + 0], 2)
        XCTAssertEqual(s.table[0][QTypeBucket.none * RCodeBucket.count + RCodeBucket.none], 1)
        XCTAssertEqual(s.byRCode[3], 5)
        XCTAssertEqual(s.zones["a.test."], [10, 0, 0, 0])
        XCTAssertEqual(s.zones["b.test."], [2, 5, 0, 0])
        XCTAssertEqual(s.event(.rateLimitSlipped), 1)
        XCTAssertEqual(s.event(.rateLimitDropped), 2)
    }

    /// Publishes renumber zones (a removal moves the last zone into the hole): counts stay
    /// with their zone, a zone no longer served keeps its counts, one that comes back adds
    /// to them, and a new version of a zone keeps counting where the last one was.
    func testZoneCountsFollowTheirZoneAcrossPublishes() throws {
        let hub = OpsHub()
        let w = hub.makeWorker(.udp)
        let store = ZoneStore(ZoneSet(zones: []))
        let catalog = ZoneCatalog(store: store)
        _ = catalog.publish(["a.test.", "b.test.", "c.test."].map { smallZone($0) }, from: .api)
        w.zonesChanged(store.current)
        for _ in 0..<3 { w.count(qtype: 1, rcode: 0, zone: 0) }  // a
        for _ in 0..<2 { w.count(qtype: 1, rcode: 3, zone: 2) }  // c
        XCTAssertEqual(hub.snapshot().zones["a.test."], [3, 0, 0, 0])

        XCTAssertNotNil(catalog.remove(try DNSName("a.test."), from: .api))  // c moves to index 0
        try catalog.publish(smallZone("d.test."), from: .api)                 // d takes index 2
        try catalog.publish(smallZone("b.test.", serial: 2), from: .api)      // b keeps index 1
        w.zonesChanged(store.current)
        w.count(qtype: 1, rcode: 0, zone: 0)  // c
        w.count(qtype: 1, rcode: 0, zone: 1)  // b
        w.count(qtype: 1, rcode: 0, zone: 2)  // d
        w.count(qtype: 1, rcode: 0, zone: 5)  // out of range: ignored, not a crash
        var s = hub.snapshot()
        XCTAssertEqual(s.zones["a.test."], [3, 0, 0, 0])
        XCTAssertEqual(s.zones["b.test."], [1, 0, 0, 0])
        XCTAssertEqual(s.zones["c.test."], [1, 2, 0, 0])
        XCTAssertEqual(s.zones["d.test."], [1, 0, 0, 0])
        s = hub.snapshot()  // reading takes nothing away
        XCTAssertEqual(s.zones["c.test."], [1, 2, 0, 0])

        try catalog.publish(smallZone("a.test.", serial: 2), from: .api)  // back, at index 3
        w.zonesChanged(store.current)
        w.count(qtype: 1, rcode: 0, zone: 3)
        XCTAssertEqual(hub.snapshot().zones["a.test."], [4, 0, 0, 0])
        XCTAssertEqual(hub.snapshot().zones.count, 4)
    }

    /// Workers swap at their own pace: one still on the old set, one on the new, and the
    /// sum is by zone, not by index.
    func testWorkersOnDifferentVersionsSumByZone() throws {
        let hub = OpsHub()
        let late = hub.makeWorker(.udp), early = hub.makeWorker(.tcp)
        let store = ZoneStore(ZoneSet(zones: []))
        let catalog = ZoneCatalog(store: store)
        _ = catalog.publish(["a.test.", "b.test."].map { smallZone($0) }, from: .api)
        late.zonesChanged(store.current)
        early.zonesChanged(store.current)
        _ = catalog.remove(try DNSName("a.test."), from: .api)  // b moves to index 0
        early.zonesChanged(store.current)
        late.count(qtype: 1, rcode: 0, zone: 1)   // b, as the old set numbers it
        early.count(qtype: 1, rcode: 0, zone: 0)  // b, as the new one does
        late.count(qtype: 1, rcode: 0, zone: 0)   // a, still served by the late worker
        let s = hub.snapshot()
        XCTAssertEqual(s.zones["b.test."], [2, 0, 0, 0])
        XCTAssertEqual(s.zones["a.test."], [1, 0, 0, 0])
        XCTAssertEqual(s.queries(), 3)
        late.zonesChanged(store.current)
        XCTAssertEqual(hub.snapshot().zones["a.test."], [1, 0, 0, 0], "kept when the late worker swaps too")
        XCTAssertEqual(hub.snapshot().zones["b.test."], [2, 0, 0, 0])
    }

    /// Beyond one page of cells: a thousand zones, counts at every index, then half of
    /// them removed and others added; every zone keeps its own counts.
    func testCountsFollowZonesAcrossPages() throws {
        let hub = OpsHub()
        let w = hub.makeWorker(.udp)
        let store = ZoneStore(ZoneSet(zones: []))
        let catalog = ZoneCatalog(store: store)
        _ = catalog.publish((0..<1000).map { smallZone("z\($0).test.") }, from: .api)
        w.zonesChanged(store.current)
        func countEach() {
            for (i, zone) in store.current.zones.enumerated() {
                let n = Int(zone.origin.description.dropFirst().prefix { $0 != "." })!
                for _ in 0..<(n % 7) { w.count(qtype: 1, rcode: 0, zone: Int32(i)) }
            }
        }
        countEach()
        for n in stride(from: 0, to: 1000, by: 2) { _ = catalog.remove(try DNSName("z\(n).test."), from: .api) }
        for n in 1000..<1300 { try catalog.publish(smallZone("z\(n).test."), from: .api) }
        w.zonesChanged(store.current)
        countEach()
        let s = hub.snapshot()
        for n in 0..<1300 {
            let expected: UInt64 = n < 1000 && n % 2 == 1 ? 2 * UInt64(n % 7) : UInt64(n % 7)
            XCTAssertEqual(s.zones["z\(n).test."]?[0], expected, "z\(n)")
        }
    }

    func testSamplingRateAndLatencyBuckets() {
        let hub = OpsHub()
        let w = hub.makeWorker(.udp)
        var sampled = 0
        for _ in 0..<160_000 where w.shouldSample() { sampled += 1 }
        XCTAssertEqual(Double(sampled), 10_000, accuracy: 500, "about 1 in 16")
        XCTAssertEqual(LatencyBucket.index(nanoseconds: 500), 0)
        XCTAssertEqual(LatencyBucket.index(nanoseconds: 3_000), 1)   // (2, 4] µs
        XCTAssertEqual(LatencyBucket.index(nanoseconds: 4_000), 1)
        XCTAssertEqual(LatencyBucket.index(nanoseconds: 5_000), 2)   // (4, 8] µs
        XCTAssertEqual(LatencyBucket.index(nanoseconds: 10_000_000_000), LatencyBucket.count - 1)
        w.recordBatch(queries: 4, nanoseconds: 3_000)
        w.recordBatch(queries: 1, nanoseconds: 100_000)
        let s = hub.snapshot()
        XCTAssertEqual(s.latency[1], 4)
        XCTAssertEqual(s.latency[LatencyBucket.count + 1], 5)
        XCTAssertEqual(MetricsExporter.latencyQuantile(s.latency, 0.5), 4e-6)
        XCTAssertEqual(MetricsExporter.latencyQuantile(s.latency, 0.99)!, 128e-6, accuracy: 1e-9)
    }

    /// /metrics: swift-metrics counters in the Prometheus registry, raised to the totals.
    func testExporterPublishesTotals() {
        let hub = OpsHub()
        let w = hub.makeWorker(.udp)
        w.zonesChanged(zoneSet(["a.test."]))
        for _ in 0..<7 { w.count(qtype: 1, rcode: 0, zone: 0) }
        let exporter = MetricsExporter(hub: hub)
        var f = ServerFigures()
        f.zones = [.init(name: "a.test.", serial: 2026112901, provenance: "file")]
        var text = exporter.scrape(f)
        XCTAssertTrue(text.contains(#"bulwark_queries_total{transport="udp",qtype="A",rcode="NOERROR"} 7"#), text)
        XCTAssertTrue(text.contains(#"bulwark_zone_serial{zone="a.test.",provenance="file"} 2026112901"#), text)
        for _ in 0..<3 { w.count(qtype: 1, rcode: 0, zone: 0) }
        hub.events.reloaded(ok: true)
        text = exporter.scrape(ServerFigures())
        XCTAssertTrue(text.contains(#"bulwark_queries_total{transport="udp",qtype="A",rcode="NOERROR"} 10"#), text)
        XCTAssertTrue(text.contains(#"bulwark_reloads_total{result="ok"} 1"#), text)
        XCTAssertFalse(text.contains("bulwark_zone_serial{"), "a zone no longer served keeps no serial")
        XCTAssertTrue(text.contains("bulwark_udp_batch_latency_seconds_count 0"))
    }
}

final class InsightTests: XCTestCase {
    /// A random-subdomain flood on one zone beside normal traffic on another: the attacked
    /// zone leads the NXDOMAIN table, its parent name leads the NXDOMAIN parents, and the
    /// real popular name leads the top names.
    func testRandomSubdomainFloodStandsOut() {
        var settings = CountingSettings()
        settings.sampleEvery = 1
        settings.ringCapacity = 1 << 16
        let hub = OpsHub(settings: settings)
        let w = hub.makeWorker(.udp)
        w.zonesChanged(zoneSet(["victim.test.", "quiet.test."]))
        let now = Date().timeIntervalSince1970
        let insight = QueryInsight(hub: hub, clock: { now })
        func wire(_ labels: [String]) -> [UInt8] {
            var out: [UInt8] = []
            for l in labels { out.append(UInt8(l.utf8.count)); out += Array(l.utf8) }
            return out + [0]
        }
        for i in 0..<20_000 {
            let attack = i % 4 != 0
            let name = attack ? wire(["r\(i)x", "victim", "test"]) : wire(["www", "quiet", "test"])
            let rcode = attack ? 3 : 0
            w.count(qtype: 1, rcode: rcode, zone: attack ? 0 : 1)
            if w.shouldSample() {
                name.withUnsafeBytes {
                    w.sample(name: $0, qtype: 1, rcode: rcode, family: 4,
                             high: UInt64(attack ? 0xC633_6401 : 0xC000_0201) << 32, low: 0)
                }
            }
            if i % 5000 == 4999 { insight.tick() }
        }
        insight.tick()
        let r = insight.report(top: 5)
        XCTAssertEqual(r.zones.first?.zone, "victim.test.")
        XCTAssertEqual(r.zones.first?.nxdomain, 15_000)
        XCTAssertEqual(r.zones.first?.nxdomainRatio ?? 0, 1.0, accuracy: 1e-9)
        XCTAssertEqual(r.zones.last?.nxdomainRatio, 0)
        XCTAssertEqual(r.topNames.first?.key, "www.quiet.test.")
        XCTAssertEqual(r.topNXDomainParents.first?.key, "victim.test.")
        XCTAssertEqual(r.topNXDomainParents.first?.estimate, 15_000)
        XCTAssertEqual(r.topClients.first?.key, "198.51.100.0/24")
        XCTAssertEqual(r.samples, 20_000)
        XCTAssertEqual(QueryInsight.nameText(wire(["a.b", "c"])), "a\\.b.c.")
    }
}

final class LogLimitTests: XCTestCase {
    func testLineBudget() {
        var b = LineBudget(linesPerSecond: 10, burst: 20)
        var allowed = 0
        for _ in 0..<1000 where b.take(now: 100).allowed { allowed += 1 }
        XCTAssertEqual(allowed, 20, "the burst")
        let next = b.take(now: 100.5)  // half a second: 5 more tokens
        XCTAssertTrue(next.allowed)
        XCTAssertEqual(next.suppressedBefore, 980)
        var more = 1
        for _ in 0..<100 where b.take(now: 100.5).allowed { more += 1 }
        XCTAssertEqual(more, 5)
    }

    final class Capture: @unchecked Sendable {
        var lines: [String] = []
        var metadata: [Logger.Metadata] = []
    }
    struct CaptureHandler: LogHandler {
        let capture: Capture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.lines.append("\(event.message)")
            capture.metadata.append(event.metadata ?? [:])
        }
    }

    /// A flood of info lines is cut to the budget; warnings have their own and still pass;
    /// the first line after a suppression says how many were dropped.
    func testRateLimitedHandler() {
        let capture = Capture()
        final class Clock: @unchecked Sendable { var now = 50.0 }
        let clock = Clock()
        let make = RateLimitedLogHandler.factory(linesPerSecond: 5, burst: 10, clock: { clock.now }) { _ in
            CaptureHandler(capture: capture)
        }
        let logger = Logger(label: "t", factory: make)
        for i in 0..<10_000 { logger.info("flood \(i)", metadata: ["zone": "example.", "client": "192.0.2.0/24"]) }
        logger.warning("an error that matters")
        XCTAssertEqual(capture.lines.count, 11)
        XCTAssertEqual(capture.lines.last, "an error that matters")
        XCTAssertEqual(capture.metadata[0]["zone"], "example.")
        clock.now = 52
        logger.info("after")
        XCTAssertEqual(capture.lines.last, "after")
        XCTAssertEqual(capture.metadata.last?["suppressed"], "9990")
    }

    func testQueryLogRateAndRotation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qlog-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var settings = QueryLogSettings(path: dir.appendingPathComponent("q.log").path)
        settings.linesPerSecond = 100
        settings.maxBytes = 4096
        let log = try QueryLog(settings: settings)
        let sample = QuerySample(name: [3, 0x77, 0x77, 0x77, 7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0], qtype: 28,
                                 rcode: 0, family: 4, tcp: false, high: 0xC000_0201 << 32, low: 0)
        var written = 0
        for second in 0..<20 { written += log.write(Array(repeating: sample, count: 1000), now: 1000 + Double(second)) }
        XCTAssertEqual(written, 100 * 20, "at most 100 lines a second")
        log.close()
        let size = try FileManager.default.attributesOfItem(atPath: settings.path)[.size] as! Int
        let rotated = try FileManager.default.attributesOfItem(atPath: settings.path + ".1")[.size] as! Int
        XCTAssertLessThanOrEqual(size, 4096 + 8192)
        XCTAssertLessThanOrEqual(rotated, 4096 + 8192)
        let text = try String(contentsOfFile: settings.path, encoding: .utf8)
        XCTAssertTrue(text.contains("udp 192.0.2.1 www.example. AAAA NOERROR"), text)
    }
}
