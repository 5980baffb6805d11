// Figures for a catalog of many small zones (100,000 unless given): the time to build
// them with Zone(origin:records:) and publish them at once, resident memory per zone,
// one more publish, replace and remove beside them, what a worker's per-zone counters
// do after each, and the cost of a lookup and of a whole answer (parse, lookup, encode)
// with them all held. Release build of the zone modules and the ops counters only:
// swift run -c release ZoneSetFigures [zones]
@_spi(Benchmarks) import BulwarkAuthority
import BulwarkOps
import BulwarkWire
import BulwarkZone
import Foundation

let count = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 100_000

func seconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Resident memory, from /proc/self/statm.
func residentBytes() -> Int {
    let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

/// zoneN.example.: SOA, NS ns1, ns1 A, www A (as the catalog tests' small zones).
func smallZone(_ n: Int, serial: UInt32 = 1) -> Zone {
    let origin = try! DNSName("zone\(n).example.")
    let ns1 = try! DNSName("ns1.zone\(n).example.")
    var soa = ns1.wire + (try! DNSName("hostmaster.zone\(n).example.")).wire
    for v: UInt32 in [serial, 7200, 3600, 1_209_600, 300] { withUnsafeBytes(of: v.bigEndian) { soa += $0 } }
    let address = [10, UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)]
    return try! Zone(origin: origin, records: [
        ResourceRecord(owner: origin, type: .soa, ttl: 3600, rdata: soa),
        ResourceRecord(owner: origin, type: .ns, ttl: 3600, rdata: ns1.wire),
        ResourceRecord(owner: ns1, type: .a, ttl: 3600, rdata: [192, 0, 2, 1]),
        ResourceRecord(owner: try! DNSName("www.zone\(n).example."), type: .a, ttl: 300, rdata: address),
    ])
}

func report(_ what: String, _ value: String) { print(what.padding(toLength: 46, withPad: " ", startingAt: 0), value) }
func ms(_ s: Double) -> String { String(format: "%.3f ms", s * 1000) }

let rss0 = residentBytes()
var t = seconds()
let zones = (0..<count).map { smallZone($0) }
let built = seconds() - t
let store = ZoneStore(ZoneSet(zones: []))
let catalog = ZoneCatalog(store: store)
t = seconds()
catalog.publish(zones, from: .api)
let published = seconds() - t
let rss1 = residentBytes()
report("zones", "\(count)")
report("build (Zone(origin:records:))", String(format: "%.2f s", built))
report("bulk publish", String(format: "%.3f s", published))
report("resident memory per zone", "\((rss1 - rss0) / count) octets")
report("Zone.allocatedBytes per zone", "\(zones.reduce(0) { $0 + $1.allocatedBytes } / count) octets")

// One publish beside all the others, timed 20 times each (median), and what one worker's
// per-zone counters (QueryCounters, when the ops endpoint is on) then do on the worker's
// first query after the swap.
let hub = OpsHub()
let counters = hub.makeWorker(.udp)
t = seconds()
counters.zonesChanged(store.current)
let firstSwap = seconds() - t
func median(_ body: (Int) -> Void) -> (publish: Double, counters: Double) {
    var publish: [Double] = [], swap: [Double] = []
    for i in 0..<20 {
        let start = seconds()
        body(i)
        let published = seconds()
        counters.zonesChanged(store.current)
        swap.append(seconds() - published)
        publish.append(published - start)
    }
    _ = hub.snapshot(zones: false)  // a reader now and then, as /metrics and the insight view
    return (publish.sorted()[10], swap.sorted()[10])
}
func report(_ what: String, _ times: (publish: Double, counters: Double)) {
    report(what, ms(times.publish) + ", ops counters " + ms(times.counters))
}
let extra = (0..<20).map { smallZone(count + $0) }
let replacements = (0..<20).map { smallZone($0 * 97 % count, serial: 2) }
report("publish one more zone (median of 20)", median { try! catalog.publish(extra[$0], from: .api) })
report("replace one zone (median of 20)", median { try! catalog.publish(replacements[$0], from: .api) })
report("remove one zone (median of 20)", median { catalog.remove(extra[$0].origin, from: .api) })
report("ops counters: the first set", ms(firstSwap))
t = seconds()
let snapshot = hub.snapshot()
report("ops counters: a reader's sum (/metrics)", ms(seconds() - t) + " (\(snapshot.zones.count) zones)")

// The query path with every zone held: lookups and whole answers for random names.
let set = store.current
var random = SystemRandomNumberGenerator()
func message(_ name: String) -> [UInt8] {
    [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1] + (try! DNSName(name)).wire + [0, 1, 0, 1]
        + [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]
}
let kinds: [(String, [[UInt8]])] = [
    ("hit", (0..<1024).map { _ in message("www.zone\(Int.random(in: 0..<count, using: &random)).example.") }),
    ("nxdomain", (0..<1024).map { _ in message("nx\(Int.random(in: 0..<1_000_000, using: &random)).zone7.example.") }),
    ("refused", (0..<1024).map { _ in message("www.elsewhere\(Int.random(in: 0..<1_000_000, using: &random)).org.") }),
]
let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 65535, alignment: 16)
var scratch = AnswerScratch()
let rounds = 1_000_000
for (kind, messages) in kinds {
    var sink = 0
    t = seconds()
    for i in 0..<rounds {
        messages[i & 1023].withUnsafeBytes { m in
            let nameLength = m.count - 12 - 4 - 11
            sink &+= set.benchmarkLookup(qname: UnsafeRawBufferPointer(rebasing: m[12..<(12 + nameLength)]), qtype: 1,
                                         scratch: &scratch)
        }
    }
    let lookup = (seconds() - t) / Double(rounds)
    t = seconds()
    for i in 0..<rounds {
        messages[i & 1023].withUnsafeBytes { m in
            guard case .query(let q) = QueryParser.parse(m) else { fatalError("query did not parse") }
            sink &+= set.respond(to: q, message: m, into: out, maxSize: 1232, ourPayloadSize: 1232, scratch: &scratch)
        }
    }
    let answer = (seconds() - t) / Double(rounds)
    report("\(kind): lookup / parse+lookup+encode", String(format: "%.0f ns / %.0f ns (%d)", lookup * 1e9, answer * 1e9, sink & 1))
}
