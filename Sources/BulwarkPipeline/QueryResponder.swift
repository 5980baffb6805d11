import BulwarkAuthority
import BulwarkDefences
import BulwarkTransfer
import BulwarkWire
import BulwarkZone
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The transport a query arrived on: it decides the response size limit.
public enum Transport: Sendable {
    case udp
    case tcp
}

/// The query pipeline of one worker: bytes → parsed query → policy → lookup → encoded
/// answer → bytes. One instance per thread or event loop, never shared: it owns the
/// reusable scratch buffers and its rate-limit table, so answering allocates nothing and
/// takes no lock in the steady state.
///
/// Policy, in order:
/// 1. the query access list: a denied client is dropped or REFUSED, with the Extended
///    DNS Error "Prohibited" (RFC 8914 §4.19, info-code 18) when the query had EDNS;
/// 2. DNS cookies (RFC 7873, RFC 9018): a client cookie is answered with a fresh server
///    cookie; with `require`, a UDP query from a cookie-aware client without a valid
///    server cookie gets BADCOOKIE (RFC 7873 §5.2.3);
/// 3. after the lookup, response rate limiting (UDP only: TCP proves the source), which
///    exempts clients presenting a valid server cookie (RFC 7873 §5.3: the source is
///    proven) and the configured prefixes.
public final class QueryResponder {
    private let store: ZoneStore
    private var zones: ZoneSet
    private var generation: Int
    private var scratch = AnswerScratch()
    /// The largest UDP response we send, also advertised in our OPT (RFC 6891 §6.2.5).
    public let maxUDPSize: Int

    private let queryACL: AccessList
    private let checkACL: Bool
    private let dropDenied: Bool
    private var cookies: ServerCookies
    private let cookiesEnabled: Bool
    private let requireCookie: Bool
    /// This worker's RRL table; nil when rate limiting is off.
    public let rateLimiter: RateLimiter?
    private let logger: Logger
    private var logThrottle = LogThrottle(linesPerSecond: 10)
    /// Where TSIG-signed messages, transfers and NOTIFY go (SlowPath.swift); nil: the
    /// fast path answers them (transfers refused, NOTIFY NOTIMP, TSIG ignored).
    private let slowPath: SlowPathRouter?
    /// The stream the last `respond` started (TCP), for the transport to take.
    private var pendingStream: (any ResponseStream)?
    /// What `respond` returns when the answer is a stream: take it with `takeStream()`.
    public static let streamPending = -1

    /// Told about every query (the ops counters); nil: nothing is counted.
    private let observer: (any QueryObserver)?
    /// What became of the query being answered, for the observer.
    private var outcome = QueryOutcome()

    public init(store: ZoneStore, maxUDPSize: Int = 1232, defences: DefenceSettings = DefenceSettings(),
                slowPath: SlowPathRouter? = nil, logger: Logger = Logger(label: "bulwark.policy"),
                observer: (any QueryObserver)? = nil) {
        self.store = store
        self.slowPath = slowPath
        (zones, generation) = store.snapshot()
        self.maxUDPSize = max(512, min(maxUDPSize, 65535))
        queryACL = defences.queryACL
        checkACL = !defences.queryACL.isEmpty
        dropDenied = defences.denyAction == .drop
        cookiesEnabled = defences.cookies.enabled
        requireCookie = defences.cookies.require
        cookies = ServerCookies(secret: defences.cookies.secret ?? .random(),
                                rotateSeconds: defences.cookies.rotateSeconds)
        rateLimiter = defences.rateLimit.map { RateLimiter(settings: $0) }
        self.logger = logger
        self.observer = observer
        observer?.zonesChanged(zones)
    }

    /// The capacity `respond` needs: the largest DNS message.
    public static let responseCapacity = 65535

    /// Answers one query from `client`: writes the response into `response` (capacity
    /// ≥ `responseCapacity`, checked here once, in every build: the size limits below
    /// are at most that, and every write stays inside them) and returns its length; 0
    /// means send nothing; `streamPending` (TCP only) means the answer is a stream of
    /// messages, to be taken with `takeStream()`. With an observer, then tells it what
    /// became of the query.
    public func respond(to query: UnsafeRawBufferPointer, transport: Transport, client: ClientAddress,
                        into response: UnsafeMutableRawBufferPointer) -> Int {
        precondition(response.count >= Self.responseCapacity, "response buffer under 65535 octets")
        guard let observer else {
            return respondUnobserved(to: query, transport: transport, client: client, into: response)
        }
        outcome = QueryOutcome()
        let length = respondUnobserved(to: query, transport: transport, client: client, into: response)
        // A transfer streamed over TCP (`streamPending`) counts as answered.
        outcome.sentRCode = length >= 12 ? Int(response[3] & 0x0F) : (length == Self.streamPending ? 0 : nil)
        let nameEnd = 12 + outcome.qnameLength
        if outcome.qtype == nil && outcome.qnameLength > 0 && query.count >= nameEnd + 2 {
            outcome.qtype = UInt16(query[nameEnd]) << 8 | UInt16(query[nameEnd + 1])
        }
        observer.handled(outcome, message: query, client: client)
        return length
    }

    @inline(__always)
    private func respondUnobserved(to query: UnsafeRawBufferPointer, transport: Transport, client: ClientAddress,
                                  into response: UnsafeMutableRawBufferPointer) -> Int {
        if store.generation != generation {
            (zones, generation) = store.snapshot()
            observer?.zonesChanged(zones)
        }
        let ourPayload = UInt16(maxUDPSize)
        switch QueryParser.parse(query) {
        case .drop:
            return 0
        case .error(let rcode, let id, let flags, let qnameLength, let edns):
            outcome.qnameLength = qnameLength
            let length: Int
            if slowPath != nil && UInt8((flags & HeaderFlags.opcodeMask) >> 11) == Opcode.notify.rawValue {
                length = notifyToSlowPath(query: query, id: id, flags: flags, qnameLength: qnameLength, edns: edns,
                                          transport: transport, client: client, into: response)
            } else {
                length = ResponseHeader.writeError(
                    into: response, query: query, rcode: rcode, id: id, queryFlags: flags,
                    qnameLength: qnameLength, edns: edns, ourPayloadSize: ourPayload)
            }
            guard transport == .udp, rateLimiter != nil, length > 0 else { return length }
            return rateLimit(length, query: query, qnameLength: qnameLength, qtype: 0, edns: edns,
                             cookie: nil, client: client, keyedByLookup: false, into: response)
        case .query(let q):
            outcome.qnameLength = q.qnameLength
            outcome.qtype = q.qtype.rawValue
            return answer(q, query: query, transport: transport, client: client, into: response)
        }
    }

    @inline(__always)
    private func answer(_ parsed: ParsedQuery, query: UnsafeRawBufferPointer, transport: Transport, client: ClientAddress,
                        into response: UnsafeMutableRawBufferPointer) -> Int {
        let ourPayload = UInt16(maxUDPSize)
        // Policy 1: the access list.
        if checkACL && !queryACL.allows(client) {
            observer?.policyApplied(.aclDenied)
            if dropDenied { return 0 }
            var length = ResponseHeader.writeError(
                into: response, query: query, rcode: .refused, id: parsed.id, queryFlags: parsed.flags,
                qnameLength: parsed.qnameLength, edns: parsed.edns, ourPayloadSize: ourPayload)
            if parsed.edns != nil {
                // RFC 8914 §4.19: Extended DNS Error 18, "Prohibited".
                length = Self.appendExtendedError(18, into: response, length: length)
            }
            guard transport == .udp, rateLimiter != nil else { return length }
            return rateLimit(length, query: query, qnameLength: parsed.qnameLength, qtype: parsed.qtype.rawValue,
                             edns: parsed.edns, cookie: nil, client: client, into: response)
        }
        // TSIG-signed queries and transfers leave the fast path (SlowPath.swift).
        if slowPath != nil && (parsed.hasTSIG || parsed.qtype == .axfr || parsed.qtype == .ixfr) {
            let kind: SlowPathKind = parsed.qtype == .axfr || parsed.qtype == .ixfr ? .transfer : .signedQuery
            let length = toSlowPath(kind, query: query, parsed: parsed, transport: transport, client: client, into: response)
            // Policy 3 holds for the slow path's UDP answers too (IXFR over UDP, TSIG errors,
            // signed answers): a spoofed flood of signed or transfer queries must not reflect
            // unlimited answers. A slipped answer to a signed query is unsigned, as any TC=1
            // error is: the client retries over TCP, where the exchange is signed.
            guard transport == .udp, rateLimiter != nil, length > 0 else { return length }
            return rateLimit(length, query: query, qnameLength: parsed.qnameLength, qtype: parsed.qtype.rawValue,
                             edns: parsed.edns, cookie: nil, client: client, keyedByLookup: false, into: response)
        }
        // Policy 2: cookies (RFC 7873 §5.2). The parser has already answered FORMERR to a
        // COOKIE option of a bad length (§5.2.2).
        var cookie: CookieVerdict? = nil
        var now: UInt32 = 0
        if cookiesEnabled, let e = parsed.edns, e.cookieOffset >= 0 {
            now = Self.wallClockSeconds()
            cookies.advance(to: now)
            let verdict = cookies.check(cookie: query.baseAddress! + e.cookieOffset, length: e.cookieLength,
                                        client: client, now: now)
            cookie = verdict
            if requireCookie && transport == .udp && verdict != .valid {
                observer?.policyApplied(.badCookie)
                var length = ResponseHeader.writeError(
                    into: response, query: query, rcode: .badCookie, id: parsed.id, queryFlags: parsed.flags,
                    qnameLength: parsed.qnameLength, edns: parsed.edns, ourPayloadSize: ourPayload)
                length = appendCookie(query: query, edns: e, client: client, now: now, into: response, length: length)
                guard rateLimiter != nil else { return length }
                return rateLimit(length, query: query, qnameLength: parsed.qnameLength, qtype: parsed.qtype.rawValue,
                                 edns: parsed.edns, cookie: cookie, client: client, into: response)
            }
        }
        // Lookup.
        var limit: Int
        switch transport {
        case .tcp:
            limit = 65535
        case .udp:
            // RFC 1035 §4.2.1: 512 octets without EDNS; RFC 6891 §6.2.5: the requestor's
            // payload size (at least 512), capped by our own maximum.
            if let edns = parsed.edns {
                limit = min(Int(edns.udpPayloadSize), maxUDPSize)
            } else {
                limit = 512
            }
        }
        if cookie != nil { limit -= ServerCookies.optionLength }  // room for our COOKIE option
        var length = zones.respond(to: parsed, message: query, into: response, maxSize: limit,
                                   ourPayloadSize: ourPayload, scratch: &scratch)
        // The zone that answered, for the observer: zones and samples see what the zone
        // answered (a random-subdomain flood is NXDOMAIN even when rate limiting drops most
        // of it). The encoder returns early, before planning, for other classes and
        // transfers: no zone then.
        if observer != nil && (parsed.qclass == .in || parsed.qclass == .any) && parsed.qtype != .axfr && parsed.qtype != .ixfr {
            outcome.zone = scratch.answeringZone
            if length >= 12 { outcome.zoneRCode = Int(response[3] & 0x0F) }
        }
        if cookie != nil, let e = parsed.edns {
            length = appendCookie(query: query, edns: e, client: client, now: now, into: response, length: length)
        }
        // Policy 3: response rate limiting, on what the answer turned out to be.
        guard transport == .udp, rateLimiter != nil, cookie != .valid else { return length }
        return rateLimit(length, query: query, qnameLength: parsed.qnameLength, qtype: parsed.qtype.rawValue,
                         edns: parsed.edns, cookie: cookie, client: client, zone: scratch.answeringZone, into: response)
    }

    // MARK: The slow path (may allocate)

    /// The stream started by the last `respond` that returned `streamPending`.
    public func takeStream() -> (any ResponseStream)? {
        defer { pendingStream = nil }
        return pendingStream
    }

    @inline(never)
    private func notifyToSlowPath(query: UnsafeRawBufferPointer, id: UInt16, flags: UInt16, qnameLength: Int,
                                  edns: EDNSRequest?, transport: Transport, client: ClientAddress,
                                  into response: UnsafeMutableRawBufferPointer) -> Int {
        var parsed: ParsedQuery? = nil
        if qnameLength > 0 && query.count >= 12 + qnameLength + 4 {
            let at = 12 + qnameLength
            parsed = ParsedQuery(id: id, flags: flags, qnameLength: qnameLength,
                                 qtype: RRType(UInt16(query[at]) << 8 | UInt16(query[at + 1])),
                                 qclass: RRClass(UInt16(query[at + 2]) << 8 | UInt16(query[at + 3])), edns: edns)
        }
        return toSlowPath(.notify, query: query, parsed: parsed, transport: transport, client: client, into: response)
    }

    @inline(never)
    private func toSlowPath(_ kind: SlowPathKind, query: UnsafeRawBufferPointer, parsed: ParsedQuery?,
                            transport: Transport, client: ClientAddress,
                            into response: UnsafeMutableRawBufferPointer) -> Int {
        guard let router = slowPath else { return 0 }
        let message = Array(query)
        let verdict = router.verify(message)
        if case .rejected(let rejection) = verdict {
            return Self.copy(rejection.response(to: message), into: response)
        }
        let maxSize: Int
        if transport == .tcp {
            maxSize = 65535
        } else if let e = parsed?.edns {
            maxSize = min(Int(e.udpPayloadSize), maxUDPSize)
        } else {
            maxSize = 512
        }
        let request = SlowPathRequest(kind: kind, message: message, transport: transport, client: client,
                                      query: parsed, tsig: verdict, maxResponseSize: maxSize)
        let reply = router.handler(for: kind)?.handle(request) ?? .notHandled
        switch reply {
        case .drop:
            return 0
        case .message(let m):
            return Self.copy(m, into: response)
        case .stream(let stream):
            if transport == .tcp {
                pendingStream = stream
                return Self.streamPending
            }
            return stream.next().map { Self.copy($0, into: response) } ?? 0
        case .notHandled:
            return answerAsFastPath(request, into: response)
        }
    }

    /// What the fast path answers to the request without its TSIG, signed when the TSIG
    /// verified (RFC 8945 §5.3: the answer to a signed request is signed), with room for
    /// the signature kept out of the size limit.
    private func answerAsFastPath(_ request: SlowPathRequest, into response: UnsafeMutableRawBufferPointer) -> Int {
        let stripped = strippingTSIG(request.message)
        var signer: TSIGResponseSigner? = nil
        if case .verified(let s) = request.tsig { signer = s }
        let limit = request.maxResponseSize - (signer?.reservedLength ?? 0)
        let ourPayload = UInt16(maxUDPSize)
        let length = stripped.withUnsafeBytes { q -> Int in
            switch QueryParser.parse(q) {
            case .drop:
                return 0
            case .error(let rcode, let id, let flags, let qnameLength, let edns):
                return ResponseHeader.writeError(into: response, query: q, rcode: rcode, id: id, queryFlags: flags,
                                                 qnameLength: qnameLength, edns: edns, ourPayloadSize: ourPayload)
            case .query(let pq):
                // RFC 7873 §5.2: a client cookie gets our server cookie here too, added
                // before the answer is signed (the COOKIE option is inside the MAC).
                let cookie = cookiesEnabled ? pq.edns.flatMap { $0.cookieOffset >= 0 ? $0 : nil } : nil
                let n = zones.respond(to: pq, message: q, into: response,
                                      maxSize: limit - (cookie != nil ? ServerCookies.optionLength : 0),
                                      ourPayloadSize: ourPayload, scratch: &scratch)
                guard n > 0, let e = cookie else { return n }
                let now = Self.wallClockSeconds()
                cookies.advance(to: now)
                return appendCookie(query: q, edns: e, client: request.client, now: now, into: response, length: n)
            }
        }
        guard length > 0, var s = signer else { return length }
        return Self.copy(s.sign(Array(UnsafeRawBufferPointer(rebasing: response[0..<length]))), into: response)
    }

    private static func copy(_ message: [UInt8], into response: UnsafeMutableRawBufferPointer) -> Int {
        guard !message.isEmpty, message.count <= response.count else { return 0 }
        message.withUnsafeBytes { response.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: message.count) }
        return message.count
    }

    /// Classifies the response in `response[0..<length]`, accounts it to the client's
    /// prefix and returns what to send: the response, nothing, or an empty TC=1 answer.
    /// `keyedByLookup`: the response came from this query's lookup, so NXDOMAIN and
    /// referrals are keyed by the zone cut it found; otherwise (slow path, parse errors)
    /// every class is keyed by the query name and type.
    @inline(__always)
    private func rateLimit(_ length: Int, query: UnsafeRawBufferPointer, qnameLength: Int, qtype: UInt16,
                           edns: EDNSRequest?, cookie: CookieVerdict?, client: ClientAddress,
                           keyedByLookup: Bool = true, zone: ZoneIndex? = nil,
                           into response: UnsafeMutableRawBufferPointer) -> Int {
        guard let rrl = rateLimiter, length >= 12, !rrl.isExempt(client) else { return length }
        let rcode = response[3] & 0x0F
        let authoritative = response[2] & 0x04 != 0
        let answers = UInt16(response[6]) << 8 | UInt16(response[7])
        let kind: ResponseClass
        let name: UInt64
        if rcode == 0 && (answers > 0 || authoritative) {
            kind = answers > 0 ? .answer : .nodata
            // Answers from a wildcard are keyed by its zone (as Knot does): a flood of random
            // names under `*` must not get a fresh bucket per name.
            let wildcard = keyedByLookup ? scratch.wildcardOwner : 0
            name = wildcard != 0 ? wildcard : Self.questionKey(rrl, query, qnameLength, qtype)
        } else if rcode == 0 && qnameLength > 0 {
            kind = .referral
            name = keyedByLookup ? scratch.authorityOwner : Self.questionKey(rrl, query, qnameLength, qtype)
        } else if rcode == 3 {
            kind = .nxdomain
            name = keyedByLookup ? scratch.authorityOwner : Self.questionKey(rrl, query, qnameLength, qtype)
        } else {
            kind = .error
            name = 0
        }
        let nowMillis = Self.monotonicMillis()
        let outcome = rrl.account(client: client, kind: kind, name: name,
                                  cost: RateLimiter.cost(responseSize: length, qtype: qtype), nowMillis: nowMillis)
        if outcome.started || outcome.ended {
            logTransition(outcome.started, client: client, kind: kind, zone: zone, nowMillis: nowMillis)
        }
        switch outcome.action {
        case .send:
            return length
        case .drop:
            observer?.policyApplied(.rateLimitDropped)
            return 0
        case .slip:
            observer?.policyApplied(.rateLimitSlipped)
            // An empty, truncated answer: a real resolver retries over TCP (BIND's "slip").
            var n = ResponseHeader.writeError(
                into: response, query: query, rcode: .noError, id: response.loadU16(at: 0),
                queryFlags: query.count >= 4 ? UInt16(query[2]) << 8 | UInt16(query[3]) : 0,
                qnameLength: qnameLength, edns: edns, ourPayloadSize: UInt16(maxUDPSize))
            response[2] |= UInt8(HeaderFlags.tc >> 8)
            if cookie != nil, let e = edns {
                n = appendCookie(query: query, edns: e, client: client, now: Self.wallClockSeconds(),
                                 into: response, length: n)
            }
            return n
        }
    }

    /// The bucket key of a response class identified by its question: name and type.
    @inline(__always)
    private static func questionKey(_ rrl: RateLimiter, _ query: UnsafeRawBufferPointer, _ qnameLength: Int,
                                    _ qtype: UInt16) -> UInt64 {
        guard qnameLength > 0, query.count >= 12 + qnameLength else { return UInt64(qtype) }
        return rrl.nameHash(UnsafeRawBufferPointer(rebasing: query[12..<(12 + qnameLength)])) &+ UInt64(qtype)
    }

    /// Logs that limiting of a prefix started or stopped, at most 10 lines a second per
    /// worker (a flood of spoofed prefixes must not become a flood of log lines).
    private func logTransition(_ started: Bool, client: ClientAddress, kind: ResponseClass, zone: ZoneIndex?,
                               nowMillis: UInt64) {
        guard let rrl = rateLimiter else { return }
        let (allowed, suppressed) = logThrottle.allow(nowMillis: nowMillis)
        guard allowed else { return }
        let length = client.family == .v6 ? rrl.ipv6PrefixLength : rrl.ipv4PrefixLength
        let more = suppressed > 0 ? " (\(suppressed) similar lines suppressed)" : ""
        // Structured: the client prefix and, when known, the zone.
        var metadata: Logger.Metadata = ["client": "\(rrl.prefix(of: client))/\(length)", "class": "\(kind)"]
        if let zone, zone.value < zones.count {
            metadata["zone"] = "\(zones[zone: zone].origin)"
        }
        logger.info("rate limiting of \(kind) to \(rrl.prefix(of: client))/\(length) \(started ? "started" : "stopped")\(more)",
                    metadata: metadata)
    }

    /// Appends our COOKIE option (the client cookie and a fresh server cookie, RFC 7873
    /// §5.2.3, RFC 9018) to the response's OPT, which is its last record.
    @inline(__always)
    private func appendCookie(query: UnsafeRawBufferPointer, edns: EDNSRequest, client: ClientAddress, now: UInt32,
                              into out: UnsafeMutableRawBufferPointer, length: Int) -> Int {
        guard let rdlength = Self.optRDLength(out, length) else { return length }
        out.storeU16(EDNSOption.cookie, at: length)
        out.storeU16(UInt16(8 + ServerCookies.serverCookieLength), at: length + 2)
        let clientCookie = query.baseAddress! + edns.cookieOffset
        (out.baseAddress! + length + 4).copyMemory(from: clientCookie, byteCount: 8)
        cookies.write(clientCookie: clientCookie, client: client, now: now, into: out.baseAddress! + length + 12)
        out.storeU16(out.loadU16(at: rdlength) + UInt16(ServerCookies.optionLength), at: rdlength)
        return length + ServerCookies.optionLength
    }

    /// Appends an Extended DNS Error option (RFC 8914 §2) with no text to the OPT.
    static func appendExtendedError(_ infoCode: UInt16, into out: UnsafeMutableRawBufferPointer, length: Int) -> Int {
        guard let rdlength = optRDLength(out, length) else { return length }
        out.storeU16(EDNSOption.extendedError, at: length)
        out.storeU16(2, at: length + 2)
        out.storeU16(infoCode, at: length + 4)
        out.storeU16(out.loadU16(at: rdlength) + 6, at: rdlength)
        return length + 6
    }

    /// The offset of the RDLENGTH of the OPT record that ends the response (ours, with
    /// no option yet), or nil when the response does not end with one.
    @inline(__always)
    static func optRDLength(_ out: UnsafeMutableRawBufferPointer, _ length: Int) -> Int? {
        let start = length - OPTRecord.baseSize
        guard start >= 12, out[start] == 0, out.loadU16(at: start + 1) == RRType.opt.rawValue,
              out.loadU16(at: start + 9) == 0 else { return nil }
        return start + 9
    }

    @inline(__always)
    static func wallClockSeconds() -> UInt32 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &ts)
        return UInt32(truncatingIfNeeded: ts.tv_sec)
    }

    @inline(__always)
    static func monotonicMillis() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return UInt64(ts.tv_sec) &* 1000 &+ UInt64(ts.tv_nsec / 1_000_000)
    }
}

/// At most `linesPerSecond` log lines a second; counts the ones it held back.
struct LogThrottle {
    let linesPerSecond: Int
    var second: UInt64 = .max
    var lines = 0
    var suppressed = 0

    init(linesPerSecond: Int) { self.linesPerSecond = linesPerSecond }

    /// Whether to log now, and how many lines were suppressed since the last one logged.
    mutating func allow(nowMillis: UInt64) -> (Bool, Int) {
        let s = nowMillis / 1000
        if s != second {
            second = s
            lines = 0
        }
        guard lines < linesPerSecond else {
            suppressed += 1
            return (false, 0)
        }
        lines += 1
        defer { suppressed = 0 }
        return (true, suppressed)
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    fileprivate func loadU16(at offset: Int) -> UInt16 { UInt16(self[offset]) << 8 | UInt16(self[offset + 1]) }
}
