import BulwarkWire
import XCTest
@testable import BulwarkTransfer

/// TSIG against messages signed by dnspython (TSIGVectors.swift), and every failure.
final class TSIGTests: XCTestCase {
    func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    func key(_ v: TSIGVector, secret: String = tsigVectorSecret) -> TSIGKey {
        let names = ["hmacMD5": "hmac-md5", "hmacSHA1": "hmac-sha1", "hmacSHA256": "hmac-sha256",
                     "hmacSHA384": "hmac-sha384", "hmacSHA512": "hmac-sha512"]
        return try! TSIGKey(name: "transfer-key", algorithm: names[v.algorithm]!, secret: secret)
    }

    func verified(_ verdict: TSIGRequestVerdict, file: StaticString = #filePath, line: UInt = #line) -> TSIGResponseSigner? {
        if case .verified(let s) = verdict { return s }
        XCTFail("expected verified, got \(verdict)", file: file, line: line)
        return nil
    }

    func rejection(_ verdict: TSIGRequestVerdict) -> TSIGRejection? {
        if case .rejected(let r) = verdict { return r }
        return nil
    }

    func testAlgorithmsAllCovered() {
        XCTAssertEqual(tsigVectors.count, TSIGAlgorithm.allCases.count)
        XCTAssertEqual(TSIGAlgorithm(configName: "HMAC-SHA256"), .hmacSHA256)
        XCTAssertEqual(TSIGAlgorithm(configName: "hmac-md5.sig-alg.reg.int"), .hmacMD5)
        XCTAssertNil(TSIGAlgorithm(configName: "hmac-sha224"))
    }

    func testServerVerifiesDnspythonRequestsAndSignsLikeDnspython() throws {
        for v in tsigVectors {
            let k = key(v)
            let ring = TSIGKeyring([k])
            let request = hex(v.request)
            guard var signer = verified(TSIGServer.verify(request: request, keyring: ring, now: tsigVectorTime)) else { continue }
            XCTAssertEqual(signer.key, k)
            // Our signature of dnspython's response body is byte for byte dnspython's.
            let response = hex(v.response)
            let (record, offset) = try XCTUnwrap(TSIG.find(in: response))
            let body = TSIG.unsignedForm(response, tsigOffset: offset, originalID: record.originalID)
            let ours = signer.sign(body, now: tsigVectorTime)
            // Byte for byte, but for the algorithm name's case (dnspython writes HMAC-MD5.SIG-ALG.REG.INT).
            XCTAssertEqual(try XCTUnwrap(TSIG.find(in: ours)).record.mac, record.mac, v.algorithm)
            if v.algorithm != "hmacMD5" { XCTAssertEqual(ours, response, v.algorithm) }
        }
    }

    func testClientSignsLikeDnspythonAndVerifiesItsResponse() throws {
        for v in tsigVectors {
            let k = key(v)
            let request = hex(v.request)
            let (record, offset) = try XCTUnwrap(TSIG.find(in: request))
            let body = TSIG.unsignedForm(request, tsigOffset: offset, originalID: record.originalID)
            var (signed, verifier) = TSIGRequestSigner.sign(body, key: k, now: tsigVectorTime, fudge: 300)
            XCTAssertEqual(try XCTUnwrap(TSIG.find(in: signed)).record.mac, record.mac, v.algorithm)
            if v.algorithm != "hmacMD5" { XCTAssertEqual(signed, request, v.algorithm) }
            XCTAssertNoThrow(try verifier.verify(hex(v.response), now: tsigVectorTime + 10), v.algorithm)
            XCTAssertNoThrow(try verifier.finish())
        }
    }

    func testClientVerifiesStreamWithUnsignedMiddleMessage() throws {
        for v in tsigVectors {
            let k = key(v)
            let request = hex(v.request)
            let (record, _) = try XCTUnwrap(TSIG.find(in: request))
            var verifier = TSIGResponseVerifier(key: k, requestMAC: record.mac, fudge: 300)
            for m in v.stream { XCTAssertNoThrow(try verifier.verify(hex(m), now: tsigVectorTime), v.algorithm) }
            XCTAssertNoThrow(try verifier.finish())
        }
    }

    func testStreamEndingUnsignedOrTamperedIsRejected() throws {
        let v = tsigVectors[2]
        let k = key(v)
        let (record, _) = try XCTUnwrap(TSIG.find(in: hex(v.request)))
        // The last message missing: the stream ends on an unsigned message.
        var verifier = TSIGResponseVerifier(key: k, requestMAC: record.mac, fudge: 300)
        try verifier.verify(hex(v.stream[0]), now: tsigVectorTime)
        try verifier.verify(hex(v.stream[1]), now: tsigVectorTime)
        XCTAssertThrowsError(try verifier.finish())
        // The unsigned middle message altered: the third signature no longer covers it.
        var tampered = TSIGResponseVerifier(key: k, requestMAC: record.mac, fudge: 300)
        try tampered.verify(hex(v.stream[0]), now: tsigVectorTime)
        var middle = hex(v.stream[1])
        middle[middle.count - 1] ^= 1
        try tampered.verify(middle, now: tsigVectorTime)
        XCTAssertThrowsError(try tampered.verify(hex(v.stream[2]), now: tsigVectorTime)) {
            XCTAssertEqual($0 as? TSIGFailure, .failed(.badSig))
        }
        // The first message unsigned.
        var first = TSIGResponseVerifier(key: k, requestMAC: record.mac, fudge: 300)
        XCTAssertThrowsError(try first.verify(hex(v.stream[1]), now: tsigVectorTime))
    }

    func testServerStreamVerifiesWithClientAllSignedAndHundredUnsignedRejected() throws {
        let k = try TSIGKey(name: "k", algorithm: "hmac-sha256", secret: tsigVectorSecret)
        var message = [UInt8](repeating: 0, count: 12)
        message[0] = 0xAB
        message[2] = 0x80
        let (_, v) = TSIGRequestSigner.sign(message, key: k, now: 1000)
        var signer = TSIGResponseSigner(key: k, requestMAC: v.requestMAC, fudge: 300)
        var verifier = v
        for i in 0..<5 {
            var m = message
            m[3] = UInt8(i)  // differing bodies
            try verifier.verify(signer.sign(m, now: 1001), now: 1002)
        }
        try verifier.finish()
        // 99 unsigned messages are allowed, the 100th is not.
        var lenient = v
        var s2 = TSIGResponseSigner(key: k, requestMAC: v.requestMAC, fudge: 300)
        try lenient.verify(s2.sign(message, now: 1000), now: 1000)
        for _ in 0..<TSIG.maxUnsignedMessages { try lenient.verify(message, now: 1000) }
        XCTAssertThrowsError(try lenient.verify(message, now: 1000)) {
            guard case .unsigned = $0 as? TSIGFailure else { return XCTFail("\($0)") }
        }
    }

    func testBadKeyUnknownNameOrWrongAlgorithm() throws {
        let v = tsigVectors[2]
        let request = hex(v.request)
        let other = try TSIGKey(name: "other-key", algorithm: "hmac-sha256", secret: tsigVectorSecret)
        for ring in [TSIGKeyring([other]),
                     TSIGKeyring([try TSIGKey(name: "transfer-key", algorithm: "hmac-sha512", secret: tsigVectorSecret)])] {
            let r = try XCTUnwrap(rejection(TSIGServer.verify(request: request, keyring: ring, now: tsigVectorTime)))
            XCTAssertEqual(r.error, .badKey)
            XCTAssertEqual(r.rcode, .notAuth)
            // The answer: NOTAUTH, unsigned TSIG (MAC size 0) with BADKEY.
            let response = r.response(to: request, now: tsigVectorTime)
            XCTAssertEqual(response[3] & 0x0F, 9)
            let (record, _) = try XCTUnwrap(TSIG.find(in: response))
            XCTAssertEqual(record.error, .badKey)
            XCTAssertEqual(record.mac, [])
            // And the client sees the peer's BADKEY.
            var verifier = TSIGResponseVerifier(key: key(v), requestMAC: try XCTUnwrap(TSIG.find(in: request)).record.mac)
            XCTAssertThrowsError(try verifier.verify(response, now: tsigVectorTime)) {
                XCTAssertEqual($0 as? TSIGFailure, .peer(.badKey, rcode: 9))
            }
        }
    }

    func testBadSigWrongSecretOrAlteredMessage() throws {
        for v in tsigVectors {
            let wrong = key(v, secret: "c2VjcmV0LW5vdC10aGUtc2FtZQ==")
            let request = hex(v.request)
            let r = try XCTUnwrap(rejection(TSIGServer.verify(request: request, keyring: TSIGKeyring([wrong]), now: tsigVectorTime)))
            XCTAssertEqual(r.error, .badSig)
            let response = r.response(to: request)
            XCTAssertEqual(try XCTUnwrap(TSIG.find(in: response)).record.error, .badSig)
            XCTAssertEqual(try XCTUnwrap(TSIG.find(in: response)).record.mac, [])
            var altered = request
            altered[3] ^= 0x01  // flip RD: the MAC no longer matches
            let r2 = try XCTUnwrap(rejection(TSIGServer.verify(request: altered, keyring: TSIGKeyring([key(v)]), now: tsigVectorTime)))
            XCTAssertEqual(r2.error, .badSig)
        }
    }

    func testBadTimeIsSignedWithOurTime() throws {
        let v = tsigVectors[2]
        let k = key(v)
        let request = hex(v.request)
        let (reqRecord, _) = try XCTUnwrap(TSIG.find(in: request))
        XCTAssertNotNil(verified(TSIGServer.verify(request: request, keyring: TSIGKeyring([k]), now: tsigVectorTime + 300)))
        for now in [tsigVectorTime + 301, tsigVectorTime - 301] {
            let r = try XCTUnwrap(rejection(TSIGServer.verify(request: request, keyring: TSIGKeyring([k]), now: now)))
            XCTAssertEqual(r.error, .badTime)
            let response = r.response(to: request, now: now)
            let (record, _) = try XCTUnwrap(TSIG.find(in: response))
            XCTAssertEqual(record.error, .badTime)
            XCTAssertEqual(record.timeSigned, tsigVectorTime)
            XCTAssertEqual(record.otherData, [0, 0] + withUnsafeBytes(of: UInt32(now).bigEndian, Array.init))
            // Signed: the client authenticates it and reports the peer's BADTIME.
            var verifier = TSIGResponseVerifier(key: k, requestMAC: reqRecord.mac)
            XCTAssertThrowsError(try verifier.verify(response, now: tsigVectorTime)) {
                XCTAssertEqual($0 as? TSIGFailure, .peer(.badTime, rcode: 9))
            }
        }
        // The client rejects a response signed too long ago.
        var verifier = TSIGResponseVerifier(key: k, requestMAC: reqRecord.mac, fudge: 300)
        XCTAssertThrowsError(try verifier.verify(hex(v.response), now: tsigVectorTime + 1000)) {
            XCTAssertEqual($0 as? TSIGFailure, .failed(.badTime))
        }
    }

    /// RFC 8945 §5.2.2.1 and §5.2.4: truncated MACs.
    func testTruncatedMACs() throws {
        let v = tsigVectors[2]  // hmac-sha256: 32 octets, minimum 16
        let k = key(v)
        let request = hex(v.request)
        func truncated(to n: Int) throws -> [UInt8] {
            let (record, offset) = try XCTUnwrap(TSIG.find(in: request))
            var r = record
            r.mac = Array(record.mac.prefix(n))
            return TSIG.appending(r, to: TSIG.unsignedForm(request, tsigOffset: offset, originalID: record.originalID))
        }
        let ring = TSIGKeyring([k])
        XCTAssertNotNil(verified(TSIGServer.verify(request: try truncated(to: 16), keyring: ring, now: tsigVectorTime)))
        let short = try XCTUnwrap(rejection(TSIGServer.verify(request: try truncated(to: 15), keyring: ring, now: tsigVectorTime)))
        XCTAssertEqual(short.rcode, .formErr)
        let policy = try XCTUnwrap(rejection(TSIGServer.verify(request: try truncated(to: 16), keyring: ring, now: tsigVectorTime,
                                                                 minimumMACLength: 32)))
        XCTAssertEqual(policy.error, .badTrunc)
        // A truncated MAC that is wrong is still BADSIG.
        var bad = try truncated(to: 20)
        bad[bad.count - 7] ^= 0xFF  // inside the MAC (then original ID, error, other len)
        XCTAssertEqual(rejection(TSIGServer.verify(request: bad, keyring: ring, now: tsigVectorTime))?.error, .badSig)
    }

    func testMalformedAndMisplacedTSIG() throws {
        let v = tsigVectors[2]
        var request = hex(v.request)
        XCTAssertEqual(rejection(TSIGServer.verify(request: Array(request.dropLast(3)), keyring: TSIGKeyring([key(v)])))?.rcode, .formErr)
        // TSIG followed by another additional record: not last.
        request[11] += 1
        request += [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]
        XCTAssertThrowsError(try TSIG.find(in: request))
        XCTAssertEqual(rejection(TSIGServer.verify(request: request, keyring: TSIGKeyring([key(v)])))?.rcode, .formErr)
        // No TSIG at all.
        var plain = [UInt8](repeating: 0, count: 12)
        plain[5] = 0
        guard case .unsigned = TSIGServer.verify(request: plain, keyring: TSIGKeyring([key(v)])) else { return XCTFail() }
    }

    func testKeyParsing() {
        XCTAssertThrowsError(try TSIGKey(name: "k", algorithm: "hmac-sha3", secret: "AAAA"))
        XCTAssertThrowsError(try TSIGKey(name: "k", algorithm: "hmac-sha256", secret: "not base64!"))
        XCTAssertThrowsError(try TSIGKey(name: "a..b", algorithm: "hmac-sha256", secret: "AAAA"))
        let k = try! TSIGKey(name: "Key.Example", algorithm: "hmac-sha1", secret: "AAAA")
        XCTAssertEqual(k.name, try! DNSName("key.example."))
        XCTAssertEqual(TSIGKeyring([k]).key(named: try! DNSName("KEY.example.")), k)
    }
}
