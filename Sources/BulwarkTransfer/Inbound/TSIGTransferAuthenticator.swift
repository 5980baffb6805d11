// TSIG (RFC 8945) on transfers in, with the primary side's signer and verifier: the
// SOA query and the AXFR/IXFR request are signed, and every response message is checked
// in order with the MAC chained from the previous one (§5.3.1).

public struct TSIGTransferAuthenticator: TransferAuthenticator {
    public let key: TSIGKey
    /// The clock (seconds since the epoch), replaceable in tests.
    public var now: @Sendable () -> UInt64 = { TSIG.now() }

    public init(key: TSIGKey) {
        self.key = key
    }

    public func sign(query: [UInt8]) throws(TransferError) -> (signed: [UInt8], checker: any TransferResponseChecker) {
        let (signed, verifier) = TSIGRequestSigner.sign(query, key: key, now: now())
        return (signed, Checker(verifier: verifier, now: now))
    }

    struct Checker: TransferResponseChecker {
        var verifier: TSIGResponseVerifier
        let now: @Sendable () -> UInt64
        var messages = 0

        mutating func check(_ message: [UInt8]) throws(TransferError) {
            messages += 1
            do {
                try verifier.verify(message, now: now())
            } catch {
                throw TransferError(.tsig, "message \(messages): \(error) (key \(verifier.key.name))")
            }
        }

        mutating func finish() throws(TransferError) {
            do {
                try verifier.finish()
            } catch {
                throw TransferError(.tsig, "\(error) (key \(verifier.key.name))")
            }
        }
    }
}
