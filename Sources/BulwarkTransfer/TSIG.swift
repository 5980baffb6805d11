// TSIG (RFC 8945): the record, the digests of requests, responses and multi-message
// streams, and the four roles:
//   server: `TSIGServer.verify(request:)` → a `TSIGResponseSigner` (signs every answer
//           message of a stream, RFC 8945 §5.3.1) or a `TSIGRejection` (BADKEY, BADSIG,
//           BADTIME, BADTRUNC, FORMERR: the error response, RFC 8945 §5.2, §5.3.2);
//   client: `TSIGRequestSigner.sign` → the signed request and a `TSIGResponseVerifier`
//           that checks each response message against the prior MAC, allowing up to 99
//           unsigned messages in between (RFC 8945 §5.3.1) and requiring the last signed.
import BulwarkWire
import Foundation

/// TSIG error codes (RFC 8945 §3, IANA "DNS RCODEs"), carried in the TSIG record's
/// Error field.
public struct TSIGError: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let noError = TSIGError(rawValue: 0)
    public static let badSig = TSIGError(rawValue: 16)
    public static let badKey = TSIGError(rawValue: 17)
    public static let badTime = TSIGError(rawValue: 18)
    public static let badTrunc = TSIGError(rawValue: 22)

    public var description: String {
        switch rawValue {
        case 0: return "NOERROR"
        case 16: return "BADSIG"
        case 17: return "BADKEY"
        case 18: return "BADTIME"
        case 22: return "BADTRUNC"
        default: return "TSIGERROR\(rawValue)"
        }
    }
}

/// The TSIG record (RFC 8945 §4.2).
public struct TSIGRecord: Sendable, Equatable {
    public var keyName: DNSName
    public var algorithmName: DNSName
    /// Seconds since the epoch, 48 bits.
    public var timeSigned: UInt64
    public var fudge: UInt16
    public var mac: [UInt8]
    public var originalID: UInt16
    public var error: TSIGError
    public var otherData: [UInt8]

    public init(keyName: DNSName, algorithmName: DNSName, timeSigned: UInt64, fudge: UInt16, mac: [UInt8],
                originalID: UInt16, error: TSIGError = .noError, otherData: [UInt8] = []) {
        self.keyName = keyName
        self.algorithmName = algorithmName
        self.timeSigned = timeSigned
        self.fudge = fudge
        self.mac = mac
        self.originalID = originalID
        self.error = error
        self.otherData = otherData
    }

    /// The whole record in wire form (names uncompressed, RFC 8945 §4.2).
    public var wire: [UInt8] {
        var w = WireWriter(capacity: 64 + mac.count + keyName.wire.count + algorithmName.wire.count)
        w.writeName(keyName)
        w.writeU16(RRType.tsig.rawValue)
        w.writeU16(RRClass.any.rawValue)  // RFC 8945 §4.2: CLASS ANY, TTL 0
        w.writeU32(0)
        let rdata = rdataWire
        w.writeU16(UInt16(rdata.count))
        w.writeBytes(rdata)
        return w.bytes
    }

    var rdataWire: [UInt8] {
        var w = WireWriter(capacity: 32 + mac.count + algorithmName.wire.count)
        w.writeName(algorithmName)
        TSIG.writeTime(timeSigned, &w)
        w.writeU16(fudge)
        w.writeU16(UInt16(mac.count))
        w.writeBytes(mac)
        w.writeU16(originalID)
        w.writeU16(error.rawValue)
        w.writeU16(UInt16(otherData.count))
        w.writeBytes(otherData)
        return w.bytes
    }

    /// RFC 8945 §4.3.3: the TSIG variables that follow the message in the digest (names
    /// in canonical form: lower case, uncompressed).
    var variablesWire: [UInt8] {
        var w = WireWriter(capacity: 64 + keyName.wire.count + algorithmName.wire.count + otherData.count)
        w.writeName(keyName.lowercased())
        w.writeU16(RRClass.any.rawValue)
        w.writeU32(0)
        w.writeName(algorithmName.lowercased())
        TSIG.writeTime(timeSigned, &w)
        w.writeU16(fudge)
        w.writeU16(error.rawValue)
        w.writeU16(UInt16(otherData.count))
        w.writeBytes(otherData)
        return w.bytes
    }

    /// RFC 8945 §4.3.1: the timers alone, for the second and later messages of a stream.
    var timersWire: [UInt8] {
        var w = WireWriter(capacity: 8)
        TSIG.writeTime(timeSigned, &w)
        w.writeU16(fudge)
        return w.bytes
    }
}

/// Why a message's TSIG could not be read or did not verify.
public enum TSIGFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message or its TSIG record is malformed, or the TSIG is not the last record
    /// (RFC 8945 §5.1: FORMERR).
    case formErr(String)
    /// A verification failed here with this TSIG error (BADKEY, BADSIG, BADTIME, BADTRUNC).
    case failed(TSIGError)
    /// The peer answered with this TSIG error (its response cannot be signed, RFC 8945 §5.3.2).
    case peer(TSIGError, rcode: UInt8)
    /// A response that must be signed is not (the first message of an answer, the last of
    /// a stream, or the 100th in a row: RFC 8945 §5.3.1).
    case unsigned(String)

    public var description: String {
        switch self {
        case .formErr(let why): return "malformed TSIG: \(why)"
        case .failed(let e): return "TSIG verification failed: \(e)"
        case .peer(let e, let rcode): return "the peer answered \(RCode(UInt16(rcode))) with TSIG error \(e)"
        case .unsigned(let why): return "unsigned response: \(why)"
        }
    }
}

public enum TSIG {
    /// RFC 8945 §10: 300 seconds is the recommended fudge.
    public static let defaultFudge: UInt16 = 300
    /// RFC 8945 §5.3.1: at most 99 unsigned messages between two signed ones.
    public static let maxUnsignedMessages = 99

    /// The current time in seconds since the epoch.
    public static func now() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }

    static func writeTime(_ t: UInt64, _ w: inout WireWriter) {
        w.writeU16(UInt16((t >> 32) & 0xFFFF))
        w.writeU32(UInt32(t & 0xFFFF_FFFF))
    }

    /// The TSIG record of `message` and the offset where it starts, or nil when the
    /// message has none. Throws when the message cannot be walked or the TSIG is not the
    /// last additional record (RFC 8945 §5.1).
    public static func find(in message: [UInt8]) throws(TSIGFailure) -> (record: TSIGRecord, offset: Int)? {
        let result = message.withUnsafeBytes { buffer in
            Result { () throws(WireError) -> (record: TSIGRecord, offset: Int)? in try locate(in: buffer) }
        }
        switch result {
        case .success(let found): return found
        case .failure(let error): throw .formErr("\(error)")
        }
    }

    static func locate(in buffer: UnsafeRawBufferPointer) throws(WireError) -> (record: TSIGRecord, offset: Int)? {
        do {
                guard buffer.count >= 12 else { throw .truncated }
                var r = WireReader(buffer, offset: 12)
                let counts = (0..<4).map { Int(buffer[4 + 2 * $0]) << 8 | Int(buffer[5 + 2 * $0]) }
                for _ in 0..<counts[0] {
                    try r.skipName()
                    try r.skip(4)
                }
                let records = counts[1] + counts[2] + counts[3]
                for index in 0..<records {
                    let start = r.offset
                    try r.skipName()
                    let type = try r.readU16()
                    if type == RRType.tsig.rawValue {
                        guard index == records - 1, index >= counts[1] + counts[2] else {
                            throw .malformed("TSIG is not the last additional record")
                        }
                        r.offset = start
                        let keyName = try r.readName()
                        _ = try r.readU16()
                        let rrClass = try r.readU16()
                        let ttl = try r.readU32()
                        guard rrClass == RRClass.any.rawValue, ttl == 0 else { throw .malformed("TSIG class must be ANY and TTL 0") }
                        let rdlength = Int(try r.readU16())
                        guard r.remaining == rdlength else { throw .malformed("TSIG record data length") }
                        let algorithm = try r.readName()
                        let high = UInt64(try r.readU16()), low = UInt64(try r.readU32())
                        let fudge = try r.readU16()
                        let mac = try r.readBytes(Int(try r.readU16()))
                        let originalID = try r.readU16()
                        let error = try r.readU16()
                        let other = try r.readBytes(Int(try r.readU16()))
                        guard r.isAtEnd else { throw .trailingData }
                        return (TSIGRecord(keyName: keyName, algorithmName: algorithm, timeSigned: high << 32 | low,
                                           fudge: fudge, mac: mac, originalID: originalID,
                                           error: TSIGError(rawValue: error), otherData: other), start)
                    }
                    try r.skip(6)
                    try r.skip(Int(try r.readU16()))
                }
                return nil
        }
    }

    /// RFC 8945 §4.3.2: the message as it was before the TSIG was added: without the
    /// record, ARCOUNT one less, and the original ID in the header.
    static func unsignedForm(_ message: [UInt8], tsigOffset: Int, originalID: UInt16) -> [UInt8] {
        var m = Array(message[0..<tsigOffset])
        m[0] = UInt8(originalID >> 8)
        m[1] = UInt8(originalID & 0xFF)
        let ar = (UInt16(m[10]) << 8 | UInt16(m[11])) &- 1
        m[10] = UInt8(ar >> 8)
        m[11] = UInt8(ar & 0xFF)
        return m
    }

    /// `message` with `record` appended to the additional section.
    public static func appending(_ record: TSIGRecord, to message: [UInt8]) -> [UInt8] {
        var m = message
        let ar = (UInt16(m[10]) << 8 | UInt16(m[11])) &+ 1
        m[10] = UInt8(ar >> 8)
        m[11] = UInt8(ar & 0xFF)
        m.append(contentsOf: record.wire)
        return m
    }

    /// The octets a TSIG record made with `key` adds to a message (for size limits).
    public static func recordLength(key: TSIGKey, otherData: Int = 0) -> Int {
        key.name.wire.count + 10 + key.algorithm.name.wire.count + 16 + key.algorithm.digestLength + otherData
    }

    static func lengthPrefixed(_ mac: [UInt8]) -> [UInt8] {
        [UInt8(mac.count >> 8), UInt8(mac.count & 0xFF)] + mac
    }

    /// Compares in time independent of where the first difference is.
    static func constantTimeEqual(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }

    /// RFC 8945 §5.2.3: the time is acceptable when within `fudge` seconds of ours.
    static func timeIsFresh(_ signed: UInt64, fudge: UInt16, now: UInt64) -> Bool {
        let delta = signed > now ? signed - now : now - signed
        return delta <= UInt64(fudge)
    }
}

// MARK: - Server side

/// What a server makes of a request's TSIG.
public enum TSIGRequestVerdict: Sendable {
    /// The request carries no TSIG.
    case unsigned
    /// Verified: sign the answer (and every message of a stream) with this.
    case verified(TSIGResponseSigner)
    /// Refused: answer with `rejection.response(to:)`.
    case rejected(TSIGRejection)

    /// The key that verified the request, if any.
    public var key: TSIGKey? {
        if case .verified(let s) = self { return s.key }
        return nil
    }
}

public enum TSIGServer {
    /// Verifies a request (RFC 8945 §5.2, in its order: key, MAC, time, truncation).
    /// `minimumMACLength` is the local truncation policy (RFC 8945 §5.2.4): MACs shorter
    /// than it (but within the RFC's limits) get BADTRUNC; nil accepts any the RFC allows.
    public static func verify(request: [UInt8], keyring: TSIGKeyring, now: UInt64 = TSIG.now(),
                              minimumMACLength: Int? = nil) -> TSIGRequestVerdict {
        let found: (record: TSIGRecord, offset: Int)?
        do {
            found = try TSIG.find(in: request)
        } catch {
            return .rejected(TSIGRejection(rcode: .formErr, error: .noError, request: nil, signer: nil))
        }
        guard let (record, offset) = found else { return .unsigned }
        // RFC 8945 §5.2.1: an unknown key, or a known key with another algorithm: BADKEY.
        guard let key = keyring.key(named: record.keyName), TSIGAlgorithm(name: record.algorithmName) == key.algorithm else {
            return .rejected(TSIGRejection(rcode: .notAuth, error: .badKey, request: record, signer: nil))
        }
        // RFC 8945 §5.2.2.1: a MAC longer than the digest, or truncated below half the
        // digest or 10 octets, is a format error.
        let macLength = record.mac.count
        guard macLength <= key.algorithm.digestLength, macLength >= key.algorithm.minimumMACLength else {
            return .rejected(TSIGRejection(rcode: .formErr, error: .noError, request: record, signer: nil))
        }
        // RFC 8945 §5.2.2: the MAC.
        let unsigned = TSIG.unsignedForm(request, tsigOffset: offset, originalID: record.originalID)
        let computed = key.algorithm.mac(secret: key.secret, [unsigned, record.variablesWire])
        guard TSIG.constantTimeEqual(computed[0..<macLength], record.mac[...]) else {
            return .rejected(TSIGRejection(rcode: .notAuth, error: .badSig, request: record, signer: nil))
        }
        let signer = TSIGResponseSigner(key: key, requestMAC: record.mac, fudge: record.fudge)
        // RFC 8945 §5.2.3: the time; the error response is signed (the MAC was good).
        guard TSIG.timeIsFresh(record.timeSigned, fudge: record.fudge, now: now) else {
            return .rejected(TSIGRejection(rcode: .notAuth, error: .badTime, request: record, signer: signer))
        }
        // RFC 8945 §5.2.4: truncation below local policy.
        if let minimum = minimumMACLength, macLength < min(minimum, key.algorithm.digestLength) {
            return .rejected(TSIGRejection(rcode: .notAuth, error: .badTrunc, request: record, signer: signer))
        }
        return .verified(signer)
    }
}

/// A request refused for its TSIG, and how to say so.
public struct TSIGRejection: Sendable {
    /// The header RCODE: NOTAUTH for TSIG errors (RFC 8945 §5.3.2), FORMERR for a
    /// malformed TSIG (RFC 8945 §5.2.2.1).
    public var rcode: RCode
    /// The TSIG Error field of the response (NOERROR with FORMERR).
    public var error: TSIGError
    /// The request's TSIG, when it could be read.
    public var request: TSIGRecord?
    /// Set for BADTIME and BADTRUNC: the MAC was good, so the error is signed.
    public var signer: TSIGResponseSigner?

    /// The error response to `request`: header (QR, opcode and RD copied), the question
    /// echoed, and a TSIG with the error: signed for BADTIME (Time Signed from the
    /// request, our time in Other Data, RFC 8945 §5.2.3) and BADTRUNC, unsigned (MAC
    /// size 0) for BADKEY and BADSIG (RFC 8945 §5.3.2). FORMERR gets no TSIG.
    public func response(to request: [UInt8], now: UInt64 = TSIG.now()) -> [UInt8] {
        var out = MessageHeaderEcho.errorResponse(to: request, rcode: rcode)
        guard let req = self.request, error != .noError else { return out }
        if var signer = signer {
            var other: [UInt8] = []
            var time = now
            if error == .badTime {
                var w = WireWriter(capacity: 6)
                TSIG.writeTime(now, &w)
                other = w.bytes
                time = req.timeSigned
            }
            out = signer.sign(out, now: time, error: error, otherData: other)
            return out
        }
        let record = TSIGRecord(keyName: req.keyName, algorithmName: req.algorithmName, timeSigned: now,
                                fudge: req.fudge, mac: [], originalID: UInt16(out[0]) << 8 | UInt16(out[1]), error: error)
        return TSIG.appending(record, to: out)
    }
}

/// Builds error responses that echo a request's header and question.
enum MessageHeaderEcho {
    static func errorResponse(to request: [UInt8], rcode: RCode) -> [UInt8] {
        guard request.count >= 12 else { return [] }
        var out = Array(request[0..<12])
        let flags = UInt16(request[2]) << 8 | UInt16(request[3])
        let f = HeaderFlags.qr | (flags & (HeaderFlags.opcodeMask | HeaderFlags.rd)) | (rcode.rawValue & 0xF)
        out[2] = UInt8(f >> 8)
        out[3] = UInt8(f & 0xFF)
        var questionEnd = 12
        let qdcount = Int(request[4]) << 8 | Int(request[5])
        if qdcount == 1 {
            let end: Int? = request.withUnsafeBytes { b in
                var r = WireReader(b, offset: 12)
                do throws(WireError) {
                    try r.skipName()
                    try r.skip(4)
                    return r.offset
                } catch {
                    return nil
                }
            }
            if let end { questionEnd = end }
        }
        out.append(contentsOf: request[12..<questionEnd])
        out[4] = 0
        out[5] = questionEnd > 12 ? 1 : 0
        for i in 6..<12 { out[i] = 0 }
        return out
    }
}

/// Signs the messages of an answer to a verified request: the first with the request's
/// MAC and the full TSIG variables, each later one with the prior MAC and the timers
/// only (RFC 8945 §4.3.1, §5.3.1). We sign every message of a stream.
public struct TSIGResponseSigner: Sendable {
    public let key: TSIGKey
    public let fudge: UInt16
    /// The MAC the next message's digest starts with: the request's, then our last.
    private var priorMAC: [UInt8]
    private var signedCount = 0

    public init(key: TSIGKey, requestMAC: [UInt8], fudge: UInt16 = TSIG.defaultFudge) {
        self.key = key
        self.priorMAC = requestMAC
        self.fudge = fudge
    }

    /// Octets a signature adds to a message.
    public var reservedLength: Int { TSIG.recordLength(key: key, otherData: 6) }

    /// `message` with its TSIG appended.
    public mutating func sign(_ message: [UInt8], now: UInt64 = TSIG.now(), error: TSIGError = .noError,
                              otherData: [UInt8] = []) -> [UInt8] {
        let id = UInt16(message[0]) << 8 | UInt16(message[1])
        var record = TSIGRecord(keyName: key.name, algorithmName: key.algorithm.name, timeSigned: now, fudge: fudge,
                                mac: [], originalID: id, error: error, otherData: otherData)
        let variables = signedCount == 0 ? record.variablesWire : record.timersWire
        record.mac = key.algorithm.mac(secret: key.secret, [TSIG.lengthPrefixed(priorMAC), message, variables])
        priorMAC = record.mac
        signedCount += 1
        return TSIG.appending(record, to: message)
    }
}

// MARK: - Client side

/// Signs requests (transfer requests, NOTIFY, queries).
public enum TSIGRequestSigner {
    /// `message` signed with `key` (RFC 8945 §4.3.3), and the verifier of its answer.
    public static func sign(_ message: [UInt8], key: TSIGKey, now: UInt64 = TSIG.now(),
                            fudge: UInt16 = TSIG.defaultFudge) -> (message: [UInt8], verifier: TSIGResponseVerifier) {
        let id = UInt16(message[0]) << 8 | UInt16(message[1])
        var record = TSIGRecord(keyName: key.name, algorithmName: key.algorithm.name, timeSigned: now, fudge: fudge,
                                mac: [], originalID: id)
        record.mac = key.algorithm.mac(secret: key.secret, [message, record.variablesWire])
        return (TSIG.appending(record, to: message), TSIGResponseVerifier(key: key, requestMAC: record.mac, fudge: fudge))
    }
}

/// Verifies the answer to a signed request, message by message (RFC 8945 §5.3.1): the
/// first must be signed; later ones may be unsigned, up to 99 in a row, and are then
/// covered by the next signed one; `finish()` checks that the last one was signed.
public struct TSIGResponseVerifier: Sendable {
    public let key: TSIGKey
    public let fudge: UInt16
    /// The MAC of the signed request.
    public let requestMAC: [UInt8]
    private var priorMAC: [UInt8]
    private var verifiedCount = 0
    /// Unsigned messages since the last signed one, in order.
    private var pending: [[UInt8]] = []

    public init(key: TSIGKey, requestMAC: [UInt8], fudge: UInt16 = TSIG.defaultFudge) {
        self.key = key
        self.requestMAC = requestMAC
        self.priorMAC = requestMAC
        self.fudge = fudge
    }

    /// Checks one response message. Throws `.peer` when the server answered with a TSIG
    /// error, `.failed` when the signature or time is wrong, `.unsigned` when a message
    /// that must be signed is not, `.formErr` when the TSIG cannot be read.
    public mutating func verify(_ message: [UInt8], now: UInt64 = TSIG.now()) throws(TSIGFailure) {
        guard let (record, offset) = try TSIG.find(in: message) else {
            // RFC 8945 §5.3.1: only messages after the first may go unsigned, 99 at most.
            guard verifiedCount > 0 else {
                let rcode = message.count >= 4 ? message[3] & 0x0F : 0
                throw .unsigned(rcode != 0 ? "the response (\(RCode(UInt16(rcode)))) carries no TSIG" : "the response carries no TSIG")
            }
            guard pending.count < TSIG.maxUnsignedMessages else {
                throw .unsigned("more than \(TSIG.maxUnsignedMessages) unsigned messages in a row")
            }
            pending.append(message)
            return
        }
        if record.error != .noError && record.mac.isEmpty {
            // BADKEY and BADSIG answers cannot be signed (RFC 8945 §5.3.2).
            throw .peer(record.error, rcode: message.count >= 4 ? message[3] & 0x0F : 0)
        }
        guard record.keyName.lowercased() == key.name, TSIGAlgorithm(name: record.algorithmName) == key.algorithm else {
            throw .failed(.badKey)
        }
        guard record.mac.count <= key.algorithm.digestLength, record.mac.count >= key.algorithm.minimumMACLength else {
            throw .formErr("MAC of \(record.mac.count) octets")
        }
        let unsigned = TSIG.unsignedForm(message, tsigOffset: offset, originalID: record.originalID)
        let variables = verifiedCount == 0 ? record.variablesWire : record.timersWire
        var parts = [TSIG.lengthPrefixed(priorMAC)]
        parts.append(contentsOf: pending)
        parts.append(unsigned)
        parts.append(variables)
        let computed = key.algorithm.mac(secret: key.secret, parts)
        guard TSIG.constantTimeEqual(computed[0..<record.mac.count], record.mac[...]) else { throw .failed(.badSig) }
        if record.error != .noError {
            // A signed error (BADTIME, BADTRUNC): authentic, but still an error.
            throw .peer(record.error, rcode: message[3] & 0x0F)
        }
        guard TSIG.timeIsFresh(record.timeSigned, fudge: record.fudge, now: now) else { throw .failed(.badTime) }
        priorMAC = record.mac
        pending = []
        verifiedCount += 1
    }

    /// RFC 8945 §5.3.1: the last message of an answer must be signed.
    public func finish() throws(TSIGFailure) {
        guard verifiedCount > 0, pending.isEmpty else { throw .unsigned("the last message of the answer is unsigned") }
    }
}
