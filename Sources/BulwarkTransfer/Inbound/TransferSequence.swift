// The record sequence of a transfer response, message by message: AXFR (RFC 5936 §2.2)
// and IXFR (RFC 1995 §4), checked as it arrives so a bad transfer is refused early.
import BulwarkWire

/// One difference sequence of an IXFR (RFC 1995 §4): the zone at `fromSerial` becomes
/// the zone at `toSerial` by deleting `deleted` and adding `added`.
public struct ZoneDelta: Sendable, Equatable {
    public var fromSOA: ResourceRecord
    public var toSOA: ResourceRecord
    public var deleted: [ResourceRecord]
    public var added: [ResourceRecord]
}

/// What a transfer response amounts to.
public enum TransferOutcome: Sendable {
    /// The whole zone (AXFR, or an AXFR-style IXFR): every record, the SOA first.
    case full(soa: ResourceRecord, records: [ResourceRecord])
    /// Differences from our serial to the primary's (IXFR).
    case incremental(soa: ResourceRecord, deltas: [ZoneDelta])
    /// IXFR answered with our own (or an older) serial alone: nothing to do.
    case upToDate(soa: ResourceRecord)
}

/// Follows the records of an AXFR or IXFR response and says when it is complete.
public struct TransferSequence: Sendable {
    public enum Kind: Sendable, Equatable { case axfr, ixfr(currentSerial: UInt32) }

    private enum State {
        /// Waiting for the opening SOA.
        case start
        /// IXFR: the opening SOA was read; the second record decides the style.
        case ixfrSecond
        /// Full zone: records until the closing SOA.
        case full
        case ixfrDeleting
        case ixfrAdding
        case done
    }

    public let zone: DNSName
    public let kind: Kind
    private var state = State.start
    private var opening: ResourceRecord?
    private var openingSerial: UInt32 = 0
    private var records: [ResourceRecord] = []
    private var deltas: [ZoneDelta] = []
    private var current: ZoneDelta?
    /// Records read so far (answer records of every message).
    public private(set) var recordCount = 0

    public init(zone: DNSName, kind: Kind) {
        self.zone = zone
        self.kind = kind
    }

    public var isComplete: Bool { if case .done = state { return true } else { return false } }

    /// The outcome once complete (nil before).
    public var outcome: TransferOutcome? {
        guard isComplete, let opening else { return nil }
        if isUpToDate { return .upToDate(soa: opening) }
        if !deltas.isEmpty { return .incremental(soa: opening, deltas: deltas) }
        return .full(soa: opening, records: records)
    }

    private var isUpToDate = false

    private func isSOA(_ rr: ResourceRecord) -> Bool { rr.type == .soa }

    private func serial(_ rr: ResourceRecord) throws(TransferError) -> UInt32 {
        guard rr.owner == zone else { throw .malformed("SOA record at \(rr.owner), not at the zone apex \(zone)") }
        return try SOAFields(record: rr).serial
    }

    /// Takes the answer records of the next message. An IXFR answered by a single SOA
    /// that is not newer than ours is complete at the end of the message holding it.
    public mutating func consume(_ answers: [ResourceRecord]) throws(TransferError) {
        for rr in answers { try consume(rr) }
        if case .ixfrSecond = state {
            // RFC 1995 §4: a response holding only the primary's SOA means our copy is
            // current (the primary's serial is not newer than ours).
            guard case .ixfr(let ours) = kind else { return }
            if !SerialArithmetic.isNewer(openingSerial, than: ours) {
                isUpToDate = true
                state = .done
            } else {
                // A newer SOA alone and the message ended: the rest follows in the next
                // message (RFC 1995 §4 allows any split).
            }
        }
    }

    /// Takes one record.
    public mutating func consume(_ rr: ResourceRecord) throws(TransferError) {
        recordCount += 1
        switch state {
        case .done:
            throw .malformed("records after the closing SOA")
        case .start:
            // RFC 5936 §2.2 / RFC 1995 §4: the first record is the zone's SOA.
            guard isSOA(rr) else { throw .malformed("the first record is \(rr.owner) \(rr.type), not the zone's SOA") }
            openingSerial = try serial(rr)
            opening = rr
            if case .ixfr = kind {
                state = .ixfrSecond
            } else {
                records.append(rr)
                state = .full
            }
        case .ixfrSecond:
            guard case .ixfr(let ours) = kind else { throw .malformed("internal state") }
            if isSOA(rr) {
                let s = try serial(rr)
                if s == ours && s != openingSerial {
                    // RFC 1995 §4: incremental; this SOA opens the first deletion list.
                    current = ZoneDelta(fromSOA: rr, toSOA: rr, deleted: [], added: [])
                    state = .ixfrDeleting
                    return
                }
                if s == openingSerial {
                    // AXFR-style of a zone holding only its SOA.
                    records = [opening!]
                    state = .done
                    return
                }
                throw .malformed("IXFR: the second SOA has serial \(s), neither ours (\(ours)) nor the new one (\(openingSerial))")
            }
            // RFC 1995 §4: AXFR-style: the whole zone follows.
            records = [opening!, rr]
            state = .full
        case .full:
            if isSOA(rr) {
                // RFC 5936 §2.2: the closing record is the opening SOA again.
                let s = try serial(rr)
                guard s == openingSerial else {
                    throw .malformed("closing SOA serial \(s) differs from the opening one \(openingSerial)")
                }
                state = .done
                return
            }
            guard rr.owner.isSubdomain(of: zone) else { throw .malformed("record \(rr.owner) \(rr.type) is outside the zone \(zone)") }
            records.append(rr)
        case .ixfrDeleting:
            if isSOA(rr) {
                let s = try serial(rr)
                let from = try serial(current!.fromSOA)
                guard SerialArithmetic.isNewer(s, than: from) else {
                    throw .malformed("IXFR: difference from serial \(from) to \(s) does not go forward")
                }
                current!.toSOA = rr
                state = .ixfrAdding
                return
            }
            guard rr.owner.isSubdomain(of: zone) else { throw .malformed("record \(rr.owner) \(rr.type) is outside the zone \(zone)") }
            current!.deleted.append(rr)
        case .ixfrAdding:
            if isSOA(rr) {
                let s = try serial(rr)
                let to = try serial(current!.toSOA)
                deltas.append(current!)
                current = nil
                if s == openingSerial && to == openingSerial {
                    state = .done  // RFC 1995 §4: the closing SOA
                    return
                }
                guard s == to else { throw .inconsistentChain(to, s) }
                current = ZoneDelta(fromSOA: rr, toSOA: rr, deleted: [], added: [])
                state = .ixfrDeleting
                return
            }
            guard rr.owner.isSubdomain(of: zone) else { throw .malformed("record \(rr.owner) \(rr.type) is outside the zone \(zone)") }
            current!.added.append(rr)
        }
    }
}

extension TransferError {
    static func inconsistentChain(_ expected: UInt32, _ got: UInt32) -> TransferError {
        TransferError(.malformed, "IXFR: difference sequence starts at serial \(got), expected \(expected)")
    }
}
