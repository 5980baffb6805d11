// Micro-benchmarks of the query path over a 100,000-name zone shaped like
// shared/bench/genzone.py's: parse, lookup, encode apart, then the whole responder.
// Every benchmark also reports malloc counts: the contract is zero per query
// (Tests/BulwarkServerTests/AllocationTests.swift holds it in `swift test`).
import Benchmark
@_spi(Benchmarks) import BulwarkAuthority
import BulwarkDefences
import BulwarkPipeline
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile

/// The zone, the responder and the queries, built once.
final class Fixture {
    static let names = 100_000
    let set: ZoneSet
    let responder: QueryResponder
    var scratch = AnswerScratch()
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 65535, alignment: 64)
    /// Query messages by kind, each in its own raw buffer.
    let queries: [String: [UnsafeRawBufferPointer]]

    init() {
        var text = "$ORIGIN bench.test.\n$TTL 3600\n"
        text += "@ IN SOA ns1 hostmaster 2026112401 7200 3600 1209600 300\n@ IN NS ns1\n@ IN NS ns2\n"
        text += "ns1 IN A 192.0.2.1\nns2 IN A 192.0.2.2\n@ IN MX 10 mail\nmail IN A 192.0.2.25\n"
        text += "*.wild IN A 192.0.2.99\n"
        for i in 0..<Self.names {
            text += "h\(i) IN A 10.\((i >> 16) & 255).\((i >> 8) & 255).\(i & 255)\n"
            text += "h\(i) IN AAAA 2001:db8::\(String(i >> 16, radix: 16)):\(String(i & 0xFFFF, radix: 16))\n"
            if i % 10 == 0 { text += "h\(i) IN MX 10 mail\n" }
        }
        for i in 0..<(Self.names / 10) { text += "c\(i) IN CNAME h\((i &* 7919) % Self.names)\n" }
        for i in 0..<(Self.names / 100) { text += "d\(i) IN NS ns.d\(i)\nns.d\(i) IN A 198.51.100.\(i % 250 + 1)\n" }
        let origin = try! DNSName("bench.test.")
        let parsed = try! ZoneFileReader(origin: origin).read(text: text)
        let zone = try! Zone(origin: origin, records: parsed.records)
        set = ZoneSet(zones: [zone])
        responder = QueryResponder(store: ZoneStore(set))

        var rng = SplitMix(seed: 1)
        func message(_ name: String, _ type: UInt16, edns: Bool) -> UnsafeRawBufferPointer {
            var m: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0]
            m += try! DNSName(name).wire
            m += [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
            if edns { m += [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0] }
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: m.count, alignment: 8)
            b.copyBytes(from: m)
            return UnsafeRawBufferPointer(b)
        }
        func make(_ n: Int, _ f: (inout SplitMix) -> (String, UInt16)) -> [UnsafeRawBufferPointer] {
            (0..<n).map { i in let (name, t) = f(&rng); return message(name, t, edns: i % 2 == 0) }
        }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        queries = [
            "hit": make(1024) { r in ("h\(r.next(Self.names)).bench.test.", r.next(2) == 0 ? 1 : 28) },
            "nxdomain": make(1024) { r in
                (String((0..<(8 + r.next(8))).map { _ in alphabet[r.next(alphabet.count)] }) + ".bench.test.", 1)
            },
            "referral": make(1024) { r in ("www.d\(r.next(Self.names / 100)).bench.test.", 1) },
            "wildcard": make(1024) { r in ("x\(r.next(1_000_000)).wild.bench.test.", 1) },
            "cname": make(1024) { r in ("c\(r.next(Self.names / 10)).bench.test.", 1) },
            "mx": make(1024) { r in ("h\(r.next(Self.names / 10) * 10).bench.test.", 15) },
        ]
        // Warm up: the scratch buffers and the compression table grow once.
        for list in queries.values { for q in list { _ = responder.respond(to: q, transport: .udp, client: .unknown, into: out) } }
    }
}

/// A small deterministic generator (the benchmark must not depend on the system RNG).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

nonisolated(unsafe) var fixtureStorage: Fixture?
func fixture() -> Fixture {
    if let f = fixtureStorage { return f }
    let f = Fixture()
    fixtureStorage = f
    return f
}

let kinds = ["hit", "nxdomain", "referral", "wildcard", "cname", "mx"]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    for kind in kinds {
        Benchmark("parse/\(kind)") { benchmark in
            let qs = fixture().queries[kind]!
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                blackHole(QueryParser.parse(qs[i & 1023]))
            }
        }

        Benchmark("lookup/\(kind)") { benchmark in
            let f = fixture()
            let qs = f.queries[kind]!
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                let q = qs[i & 1023]
                guard case .query(let p) = QueryParser.parse(q) else { fatalError("query did not parse") }
                let name = UnsafeRawBufferPointer(rebasing: q[12..<(12 + p.qnameLength)])
                blackHole(f.set.benchmarkLookup(qname: name, qtype: p.qtype.rawValue, scratch: &f.scratch))
            }
        }

        Benchmark("encode/\(kind)") { benchmark in
            let f = fixture()
            let q = f.queries[kind]![0]
            guard case .query(let p) = QueryParser.parse(q) else { fatalError("query did not parse") }
            _ = f.set.benchmarkLookup(qname: UnsafeRawBufferPointer(rebasing: q[12..<(12 + p.qnameLength)]),
                                      qtype: p.qtype.rawValue, scratch: &f.scratch)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(f.set.benchmarkEncode(query: p, message: q, into: f.out, scratch: &f.scratch))
            }
        }

        Benchmark("respond/\(kind)") { benchmark in
            let f = fixture()
            let qs = f.queries[kind]!
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                blackHole(f.responder.respond(to: qs[i & 1023], transport: .udp, client: .unknown, into: f.out))
            }
        }
    }
}
