// The secondary's side of a transfer (RFC 5936, RFC 1995): the SOA check and the
// AXFR/IXFR exchange over a message stream (TCP, two-octet length prefix: RFC 1035
// §4.2.2), with TSIG (RFC 8945) through an authenticator when a key is configured.
// The exchanges themselves (`SOAExchange`, `TransferExchange`) are pure: they make the
// query and take the response messages; the client feeds them from a blocking or an
// asynchronous stream.
import BulwarkWire

/// A connection carrying whole DNS messages (blocking).
public protocol DNSMessageStream: AnyObject {
    func send(_ message: [UInt8]) throws(TransferError)
    /// The next whole message; throws on timeout, close or a broken connection.
    func receive() throws(TransferError) -> [UInt8]
}

/// A connection carrying whole DNS messages, asynchronously (the server provides TCP
/// on SwiftNIO).
public protocol AsyncDNSMessageStream: AnyObject {
    func send(_ message: [UInt8]) async throws(TransferError)
    /// The next whole message; throws on timeout, close or a broken connection.
    func receive() async throws(TransferError) -> [UInt8]
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
        var exchange = try SOAExchange(self)
        try stream.send(exchange.query)
        return try exchange.take(stream.receive())
    }

    /// AXFR, or IXFR from `current` when given. Reads messages until the closing SOA.
    public func transfer(on stream: any DNSMessageStream, ixfrFrom current: ResourceRecord?) throws(TransferError) -> TransferOutcome {
        var exchange = try TransferExchange(self, ixfrFrom: current)
        try stream.send(exchange.query)
        while true {
            if let outcome = try exchange.take(stream.receive()) { return outcome }
        }
    }

    /// `querySOA` over an asynchronous stream.
    public func querySOA(on stream: any AsyncDNSMessageStream) async throws(TransferError) -> ResourceRecord {
        var exchange = try SOAExchange(self)
        try await stream.send(exchange.query)
        return try exchange.take(await stream.receive())
    }

    /// `transfer` over an asynchronous stream.
    public func transfer(on stream: any AsyncDNSMessageStream, ixfrFrom current: ResourceRecord?) async throws(TransferError) -> TransferOutcome {
        var exchange = try TransferExchange(self, ixfrFrom: current)
        try await stream.send(exchange.query)
        while true {
            if let outcome = try exchange.take(await stream.receive()) { return outcome }
        }
    }

    /// Signs `query` when a key is configured.
    fileprivate func sign(_ query: [UInt8]) throws(TransferError) -> (query: [UInt8], checker: (any TransferResponseChecker)?) {
        guard let authenticator else { return (query, nil) }
        let (signed, checker) = try authenticator.sign(query: query)
        return (signed, checker)
    }

    fileprivate static func requireNoError(_ r: TransferResponse) throws(TransferError) {
        guard r.rcode == .noError else {
            throw TransferError(.rcode, "the primary answered \(r.rcode)", rcode: r.rcode)
        }
    }
}

/// One SOA query and its answer (RFC 1034 §4.3.5), without I/O.
public struct SOAExchange {
    /// The query to send (signed when a key is configured).
    public let query: [UInt8]
    private let id: UInt16
    private let zone: DNSName
    private var checker: (any TransferResponseChecker)?

    public init(_ client: TransferClient) throws(TransferError) {
        id = client.nextID()
        zone = client.zone
        (query, checker) = try client.sign(TransferQuery.make(id: id, zone: zone, qtype: .soa))
    }

    /// Checks the answer and returns the zone's SOA record. Requires AA and the SOA at
    /// the apex in the answer.
    public mutating func take(_ message: [UInt8]) throws(TransferError) -> ResourceRecord {
        try checker?.check(message)
        let response = try TransferResponse(parsing: message, id: id, zone: zone, qtype: .soa, first: true)
        try TransferClient.requireNoError(response)
        try checker?.finish()
        guard response.authoritative else { throw .malformed("SOA answer without AA: the primary is not authoritative for \(zone)") }
        guard let soa = response.answers.first(where: { $0.type == .soa && $0.owner == zone }) else {
            throw .malformed("no SOA for \(zone) in the answer")
        }
        _ = try SOAFields(record: soa)
        return soa
    }
}

/// One AXFR or IXFR query and its response messages, without I/O.
public struct TransferExchange {
    /// The query to send (signed when a key is configured).
    public let query: [UInt8]
    private let id: UInt16
    private let zone: DNSName
    private let qtype: RRType
    private let maxTransferSize: Int
    private var checker: (any TransferResponseChecker)?
    private var sequence: TransferSequence
    private var total = 0
    private var first = true

    /// AXFR, or IXFR from `current` when given.
    public init(_ client: TransferClient, ixfrFrom current: ResourceRecord?) throws(TransferError) {
        id = client.nextID()
        zone = client.zone
        maxTransferSize = client.maxTransferSize
        qtype = current == nil ? .axfr : .ixfr
        if let current {
            sequence = TransferSequence(zone: zone, kind: .ixfr(currentSerial: try SOAFields(record: current).serial))
        } else {
            sequence = TransferSequence(zone: zone, kind: .axfr)
        }
        (query, checker) = try client.sign(TransferQuery.make(id: id, zone: zone, qtype: qtype, ixfrSOA: current))
    }

    /// Takes the next response message; returns the outcome once the closing SOA has
    /// arrived, nil while more messages are to come.
    public mutating func take(_ message: [UInt8]) throws(TransferError) -> TransferOutcome? {
        total += message.count
        guard total <= maxTransferSize else {
            throw TransferError(.oversized, "\(qtype) of \(zone) exceeds the limit of \(maxTransferSize) octets")
        }
        try checker?.check(message)
        let response = try TransferResponse(parsing: message, id: id, zone: zone, qtype: qtype, first: first)
        try TransferClient.requireNoError(response)
        if first && !response.authoritative && response.answers.isEmpty {
            throw .malformed("empty \(qtype) response")
        }
        guard !response.answers.isEmpty else { throw .malformed("a \(qtype) message without records") }
        try sequence.consume(response.answers)
        first = false
        guard sequence.isComplete else { return nil }
        try checker?.finish()
        return sequence.outcome!
    }
}
