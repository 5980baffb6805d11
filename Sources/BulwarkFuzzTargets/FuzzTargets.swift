// What the fuzzer drives: each target takes arbitrary bytes, runs one part of Bulwark
// that reads untrusted input, and checks what must hold whatever the input. A broken
// invariant is a crash (`fuzzCheck`), which libFuzzer reports with the input. The same
// targets replay the committed corpora in the unit tests (Tests/BulwarkFuzzTargetsTests).
import BulwarkAuthority
import BulwarkDefences
import BulwarkPipeline
import BulwarkTransfer
import BulwarkWire
import BulwarkZone
import BulwarkZoneFile
import Foundation

public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The query parser (header, question, OPT).
    case query
    /// The whole query path over zones with DNSSEC data (NSEC, NSEC3 with opt-out,
    /// unsigned; delegations, wildcards, CNAME and DNAME, SVCB), over UDP and TCP.
    case respond
    /// The zone-file reader, the checker and the zone builder.
    case zonefile
    /// TSIG verification of a request.
    case tsig
    /// The AXFR/IXFR-in response parser, the record-sequence state machine and the
    /// application of an IXFR's differences to a zone.
    case xfr

    /// Runs the target on one input.
    public func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .query: FuzzQuery.run(input)
        case .respond: FuzzRespond.shared.run(input)
        case .zonefile: FuzzZoneFile.run(input)
        case .tsig: FuzzTSIG.shared.run(input)
        case .xfr: FuzzTransfer.shared.run(input)
        }
    }
}

/// Stops the process with a message when an invariant fails (libFuzzer saves the input).
@inline(never)
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("fuzz invariant broken: \(message())", file: file, line: line) }
}

/// The zones the targets answer from, read once from Zones/ beside this source.
public enum FuzzZones {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Zones").path

    public static let all: [Zone] = ["nsec.fuzz.test.", "nsec3.fuzz.test.", "plain.fuzz.test."].map { name in
        let origin = try! DNSName(name)
        let parsed = try! ZoneFileReader(origin: origin).read(path: "\(directory)/\(name)zone")
        return try! Zone(origin: origin, records: parsed.records)
    }
}

enum FuzzQuery {
    static func run(_ input: UnsafeRawBufferPointer) {
        switch QueryParser.parse(input) {
        case .query(let q):
            fuzzCheck(input.count >= q.questionEnd, "question past the end: \(q.questionEnd) > \(input.count)")
            fuzzCheck(q.qnameLength >= 1 && q.qnameLength <= 255, "qname length \(q.qnameLength)")
        case .error(_, _, _, let qnameLength, _):
            fuzzCheck(qnameLength >= 0 && 12 + qnameLength <= max(12, input.count), "error qname length \(qnameLength)")
        case .drop:
            break
        }
    }
}

final class FuzzRespond: @unchecked Sendable {
    static let shared = FuzzRespond()
    let responder: QueryResponder
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65535, alignment: 8)
    static let maxUDPSize = 1232

    init() {
        responder = QueryResponder(store: ZoneStore(ZoneSet(zones: FuzzZones.all)), maxUDPSize: Self.maxUDPSize)
    }

    func run(_ input: UnsafeRawBufferPointer) {
        let parsed: ParsedQuery?
        if case .query(let q) = QueryParser.parse(input) { parsed = q } else { parsed = nil }
        for transport in [Transport.udp, .tcp] {
            let length = responder.respond(to: input, transport: transport, client: ClientAddress(ipv4: 0x7F00_0001),
                                           into: buffer)
            guard length > 0 else { continue }
            let response = UnsafeRawBufferPointer(rebasing: buffer[..<length])
            check(response, query: input, parsed: parsed, transport: transport)
        }
    }

    /// What every response must be: a whole message whose counts match its records, the
    /// query's ID and (when there was one) its question, within the size allowed.
    func check(_ r: UnsafeRawBufferPointer, query: UnsafeRawBufferPointer, parsed: ParsedQuery?, transport: Transport) {
        fuzzCheck(r.count >= 12, "response of \(r.count) octets")
        fuzzCheck(r[2] & 0x80 != 0, "QR clear in a response")
        if query.count >= 2 { fuzzCheck(r[0] == query[0] && r[1] == query[1], "ID not echoed") }
        let counts = (0..<4).map { Int(r[4 + 2 * $0]) << 8 | Int(r[5 + 2 * $0]) }
        var reader = MessageWalker(r)
        let end = reader.walk(questions: counts[0], records: counts[1] + counts[2] + counts[3])
        fuzzCheck(end == r.count, "counts \(counts) do not match the message (walked to \(end.map(String.init) ?? "an error") of \(r.count))")
        if let q = parsed, counts[0] == 1 {
            // RFC 1035 §4.1.2: the question as asked, octet for octet.
            fuzzCheck(memcmp(r.baseAddress! + 12, query.baseAddress! + 12, q.qnameLength + 4) == 0, "question not echoed")
        }
        if transport == .udp {
            // RFC 6891 §6.2.5: at most the requester's payload size (512 without EDNS, and
            // never below 512), and never above ours.
            let asked = parsed?.edns.map { Int($0.udpPayloadSize) } ?? 512
            let limit = max(512, min(asked, Self.maxUDPSize))
            fuzzCheck(r.count <= limit, "UDP response of \(r.count) octets over the limit \(limit)")
        }
    }
}

/// Walks a DNS message: questions, then resource records, names with compression
/// pointers (only backwards, so a loop cannot go on). Independent of Bulwark's readers.
struct MessageWalker {
    let m: UnsafeRawBufferPointer
    var at = 12

    init(_ m: UnsafeRawBufferPointer) { self.m = m }

    /// The offset where the message ends, or nil when it cannot be read that way.
    mutating func walk(questions: Int, records: Int) -> Int? {
        for _ in 0..<questions {
            guard name(), at + 4 <= m.count else { return nil }
            at += 4
        }
        for _ in 0..<records {
            guard name(), at + 10 <= m.count else { return nil }
            let rdlength = Int(m[at + 8]) << 8 | Int(m[at + 9])
            at += 10
            guard at + rdlength <= m.count else { return nil }
            at += rdlength
        }
        return at
    }

    mutating func name() -> Bool {
        var p = at
        var followed = false
        var octets = 0
        while p < m.count {
            let len = Int(m[p])
            if len == 0 {
                if !followed { at = p + 1 }
                return octets + 1 <= 255
            }
            if len & 0xC0 == 0xC0 {
                guard p + 1 < m.count else { return false }
                let target = (len & 0x3F) << 8 | Int(m[p + 1])
                guard target < p else { return false }
                if !followed { at = p + 2 }
                followed = true
                p = target
                continue
            }
            guard len & 0xC0 == 0 else { return false }
            octets += len + 1
            p += len + 1
        }
        return false
    }
}

enum FuzzZoneFile {
    static let origin = try! DNSName("fuzz.test.")

    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        guard let parsed = try? ZoneFileReader(origin: origin, allowInclude: false, maxErrors: 5).read(bytes: bytes) else { return }
        let issues = ZoneChecker.check(parsed)
        guard !issues.contains(where: \.isError), let zone = try? Zone(origin: origin, records: parsed.records) else { return }
        // What was built reads back: every record of the zone is one the text gave.
        fuzzCheck(zone.recordCount <= parsed.records.count, "\(zone.recordCount) records built from \(parsed.records.count)")
        // And the text read in pieces as it arrives reads the same.
        var pieces = ZoneTextPieces(reader: ZoneFileReader(origin: origin, allowInclude: false, maxErrors: 5), pieceSize: 64)
        pieces.feed(input)
        let again = try? pieces.finish()
        fuzzCheck(again?.records == parsed.records, "the text read in pieces reads otherwise")
    }
}

final class FuzzTSIG: @unchecked Sendable {
    static let shared = FuzzTSIG()
    let keyring = TSIGKeyring([TSIGKey(name: try! DNSName("fuzz-key."), algorithm: .hmacSHA256, secret: Array(repeating: 7, count: 32))])

    func run(_ input: UnsafeRawBufferPointer) {
        let verdict = TSIGServer.verify(request: Array(input), keyring: keyring, now: 1_800_000_000)
        if case .rejected(let rejection) = verdict, let request = rejection.request {
            fuzzCheck(request.mac.count <= input.count, "a MAC longer than the request")
            // The error response to it is a message that can be sent.
            let response = rejection.response(to: Array(input))
            fuzzCheck(response.isEmpty || response.count >= 12, "an error response of \(response.count) octets")
        }
    }
}

final class FuzzTransfer: @unchecked Sendable {
    static let shared = FuzzTransfer()
    let zone = FuzzZones.all[2]

    /// The input is a stream of messages, each behind a two-octet length (as over TCP).
    func run(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 1 else { return }
        let ixfr = input[0] & 1 == 1
        var sequence = TransferSequence(zone: zone.origin, kind: ixfr ? .ixfr(currentSerial: zone.serial) : .axfr)
        var at = 1
        var first = true
        while at + 2 <= input.count, !sequence.isComplete {
            let length = Int(input[at]) << 8 | Int(input[at + 1])
            at += 2
            guard at + length <= input.count else { return }
            let message = Array(input[at..<(at + length)])
            at += length
            let id = message.count >= 2 ? UInt16(message[0]) << 8 | UInt16(message[1]) : 0
            guard let response = try? TransferResponse(parsing: message, id: id, zone: zone.origin,
                                                       qtype: ixfr ? .ixfr : .axfr, first: first) else { return }
            first = false
            do { try sequence.consume(response.answers) } catch { return }
        }
        guard let outcome = sequence.outcome else { return }
        switch outcome {
        case .full(let soa, let records):
            fuzzCheck(soa.type == .soa, "a whole transfer without its SOA")
            _ = try? Zone(origin: zone.origin, records: records)
        case .incremental(let soa, let deltas):
            fuzzCheck(soa.type == .soa && !deltas.isEmpty, "an IXFR without differences")
            if let applied = try? ZoneDeltaApplier.apply(deltas, to: zone) {
                fuzzCheck(applied.serial == deltas.last!.toSOA.rdata.serialOfSOA, "applied to another serial")
            }
        case .upToDate:
            break
        }
    }
}

extension Array where Element == UInt8 {
    /// The serial of SOA record data (RFC 1035 §3.3.13: after the two names, the first
    /// of five 32-bit fields).
    var serialOfSOA: UInt32 {
        guard count >= 20 else { return 0 }
        let s = count - 20
        return UInt32(self[s]) << 24 | UInt32(self[s + 1]) << 16 | UInt32(self[s + 2]) << 8 | UInt32(self[s + 3])
    }
}
