// The secondary's side of a transfer (RFC 5936, RFC 1995): the SOA check and the
// AXFR/IXFR exchange over a message stream (TCP, two-octet length prefix: RFC 1035
// §4.2.2), with TSIG (RFC 8945) through an authenticator when a key is configured.
import BulwarkWire

/// A connection carrying whole DNS messages (the server provides TCP).
public protocol DNSMessageStream: AnyObject {
    func send(_ message: [UInt8]) throws(TransferError)
    /// The next whole message; throws on timeout, close or a broken connection.
    func receive() throws(TransferError) -> [UInt8]
}

/// Signs a query and checks the messages answering it (TSIG, RFC 8945).
public protocol TransferAuthenticator: Sendable {
    /// Signs `query`; the returned checker verifies the response messages in order.
    func sign(query: [UInt8]) throws(TransferError) -> (signed: [UInt8], checker: any TransferResponseChecker)
}

public protocol TransferResponseChecker {
    /// Verifies the next response message (RFC 8945 §5.3.1 for the messages after the first).
    mutating func check(_ message: [UInt8]) throws(TransferError)
    /// The response is complete: its last message must have been signed.
    mutating func finish() throws(TransferError)
}

public struct TransferClient {
    public var zone: DNSName
    /// Octets of response messages one transfer may take (oversized → error, old zone kept).
    public var maxTransferSize: Int
    public var authenticator: (any TransferAuthenticator)?
    /// Query IDs; random by default.
    public var nextID: () -> UInt16 = { UInt16.random(in: 0...UInt16.max) }

    public init(zone: DNSName, maxTransferSize: Int, authenticator: (any TransferAuthenticator)? = nil) {
        self.zone = zone
        self.maxTransferSize = maxTransferSize
        self.authenticator = authenticator
    }

    /// Asks for the zone's SOA (RFC 1034 §4.3.5: the refresh check). Requires AA and
    /// the SOA at the apex in the answer.
    public func querySOA(on stream: any DNSMessageStream) throws(TransferError) -> ResourceRecord {
        let id = nextID()
        var checker = try send(TransferQuery.make(id: id, zone: zone, qtype: .soa), on: stream)
        let message = try stream.receive()
        try checker?.check(message)
        let response = try TransferResponse(parsing: message, id: id, zone: zone, qtype: .soa, first: true)
        try Self.requireNoError(response)
        try checker?.finish()
        guard response.authoritative else { throw .malformed("SOA answer without AA: the primary is not authoritative for \(zone)") }
        guard let soa = response.answers.first(where: { $0.type == .soa && $0.owner == zone }) else {
            throw .malformed("no SOA for \(zone) in the answer")
        }
        _ = try SOAFields(record: soa)
        return soa
    }

    /// AXFR, or IXFR from `current` when given. Reads messages until the closing SOA.
    public func transfer(on stream: any DNSMessageStream, ixfrFrom current: ResourceRecord?) throws(TransferError) -> TransferOutcome {
        let id = nextID()
        let qtype: RRType = current == nil ? .axfr : .ixfr
        var sequence: TransferSequence
        if let current {
            sequence = TransferSequence(zone: zone, kind: .ixfr(currentSerial: try SOAFields(record: current).serial))
        } else {
            sequence = TransferSequence(zone: zone, kind: .axfr)
        }
        var checker = try send(TransferQuery.make(id: id, zone: zone, qtype: qtype, ixfrSOA: current), on: stream)
        var total = 0
        var first = true
        while !sequence.isComplete {
            let message = try stream.receive()
            total += message.count
            guard total <= maxTransferSize else {
                throw TransferError(.oversized, "\(qtype) of \(zone) exceeds the limit of \(maxTransferSize) octets")
            }
            try checker?.check(message)
            let response = try TransferResponse(parsing: message, id: id, zone: zone, qtype: qtype, first: first)
            try Self.requireNoError(response)
            if first && !response.authoritative && response.answers.isEmpty {
                throw .malformed("empty \(qtype) response")
            }
            guard !response.answers.isEmpty else { throw .malformed("a \(qtype) message without records") }
            try sequence.consume(response.answers)
            first = false
        }
        try checker?.finish()
        return sequence.outcome!
    }

    private func send(_ query: [UInt8], on stream: any DNSMessageStream) throws(TransferError) -> (any TransferResponseChecker)? {
        if let authenticator {
            let (signed, checker) = try authenticator.sign(query: query)
            try stream.send(signed)
            return checker
        }
        try stream.send(query)
        return nil
    }

    private static func requireNoError(_ r: TransferResponse) throws(TransferError) {
        guard r.rcode == .noError else {
            throw TransferError(.rcode, "the primary answered \(r.rcode)", rcode: r.rcode)
        }
    }
}
