// The primary side of replication: outgoing AXFR (RFC 5936) and IXFR (RFC 1995) through
// the slow path, the per-zone journal written on every catalog change, and NOTIFY
// (RFC 1996) to the configured secondaries after each change.
import BulwarkDefences
import BulwarkPipeline
import BulwarkSettings
import BulwarkTransfer
import BulwarkWire
import BulwarkZone
import Foundation
import Logging
import NIOCore
import NIOPosix

public final class PrimaryReplication: @unchecked Sendable {
    // @unchecked: `journals` is only touched under `lock`; the rest is immutable.
    let catalog: ZoneCatalog
    let settings: TransferSettings
    let transferACL: AccessList
    let journalDirectory: String
    let ourPayload: UInt16
    let logger: Logger
    let notifier: NotifySender
    /// Journal writes and NOTIFY, in the order of the changes, off the publishing thread.
    private let journalWork: AsyncStream<JournalWork>.Continuation
    private let lock = NSLock()
    private var journals: [DNSName: ZoneJournal] = [:]
    /// Told of every transfer out begun (`AXFR` or `IXFR`) or refused; set before serving.
    public var onTransfer: (@Sendable (_ zone: String, _ kind: String, _ succeeded: Bool) -> Void)?

    /// Observes `catalog` (register before the first zones are published) and answers
    /// transfers through `slowPath`.
    /// NOTIFY goes out on `group` (the server's event loops).
    public init(config: ServerSettings, catalog: ZoneCatalog, slowPath: SlowPathRouter, logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.catalog = catalog
        self.settings = config.transfer
        self.transferACL = config.defences.transferACL
        self.journalDirectory = (config.dataDir as NSString).appendingPathComponent("journal")
        self.ourPayload = UInt16(config.maxUDPSize)
        self.logger = logger
        self.notifier = NotifySender(keyring: config.transfer.keyring, logger: logger, group: group)
        let (work, continuation) = AsyncStream<JournalWork>.makeStream()
        self.journalWork = continuation
        // One task takes the changes in the order they were yielded; the file work of
        // each is done on NIO's blocking-work pool, one change after the other.
        Task { [weak self] in
            for await item in work {
                switch item {
                case .change(let change):
                    guard let self else { return }
                    _ = try? await NIOThreadPool.singleton.runIfActive { self.record(change) }
                case .barrier(let done):
                    done.resume()
                }
            }
        }
        catalog.observe { [weak self] changes in self?.changed(changes) }
        slowPath.register(TransferHandler(self), for: [.transfer])
    }

    deinit { journalWork.finish() }

    /// What the journal task is given: a change, or a point to report reaching.
    private enum JournalWork: Sendable {
        case change(ZoneChange)
        case barrier(CheckedContinuation<Void, Never>)
    }

    /// Waits until the journal writes and NOTIFY starts of past changes are done (tests).
    public func sync() async {
        await withCheckedContinuation { journalWork.yield(.barrier($0)) }
    }

    /// The journal of `zone`, if one is open.
    public func journal(for zone: DNSName) -> ZoneJournal? {
        lock.withLock { journals[zone] }
    }

    /// May `client`, signed with `key`, transfer `zone`? The global `transfer-acl`, when
    /// set, must allow the client; the zone's `allow-transfer`, when set, must have a
    /// matching entry. With neither, nobody may.
    func mayTransfer(_ zone: DNSName, client: ClientAddress, key: TSIGKey?) -> Bool {
        if !transferACL.isEmpty && !transferACL.allows(client) { return false }
        if let rules = settings.settings(for: zone).allowTransfer {
            return rules.contains { $0.matches(client: client, key: key) }
        }
        return !transferACL.isEmpty
    }

    /// Only zones someone may transfer keep a journal (no state is written otherwise).
    func keepsJournal(_ zone: DNSName) -> Bool {
        !transferACL.isEmpty || settings.settings(for: zone).allowTransfer != nil
    }

    // MARK: changes → journal → NOTIFY

    private func changed(_ changes: [ZoneChange]) {
        // Observers run under the catalog's lock, so the changes are yielded in order;
        // the work (a difference of two large versions) is done by the journal task.
        for change in changes {
            journalWork.yield(.change(change))
        }
    }

    private func openJournal(_ zone: DNSName) -> ZoneJournal? {
        guard keepsJournal(zone) else { return nil }
        if let j = lock.withLock({ journals[zone] }) { return j }
        do {
            let j = try ZoneJournal(zone: zone, directory: journalDirectory, maxSize: settings.journalSize)
            lock.withLock { journals[zone] = j }
            return j
        } catch {
            logger.error("journal of \(zone): \(error)")
            return nil
        }
    }

    private func record(_ change: ZoneChange) {
        // A secondary's SOA-only stand-in (expired, or no data yet) is no version of the
        // zone: no journal entry, no NOTIFY, going to it or coming back from it.
        if change.new?.isExpired == true { return }
        let old = change.old?.isExpired == true ? nil : change.old
        switch (old, change.new) {
        case (nil, let new?):
            // A zone starts being served (startup, or added). The journal on disk is kept
            // only if it ends at the loaded serial: otherwise the zone changed while we
            // were not looking and the journal cannot describe how (secondaries at older
            // serials then get AXFR).
            let j = openJournal(new.origin)
            if let j, let range = j.range, range.last != new.serial {
                logger.notice("journal of \(new.origin) ends at serial \(range.last), the zone loaded is at \(new.serial): journal discarded")
                do { try j.discard() } catch { logger.error("journal of \(new.origin): \(error)") }
            }
            notifySecondaries(new)
        case (let old?, let new?):
            guard !old.hasSameContent(as: new) else { return }  // a reload of an unchanged file
            let j = openJournal(new.origin)
            if new.serial == old.serial {
                logger.warning("zone \(new.origin) changed (\(change.provenance)) but its serial \(new.serial) did not: secondaries will not see the change")
                return
            }
            if SerialArithmetic.compare(new.serial, old.serial) == .less {
                logger.warning("zone \(new.origin): serial went back from \(old.serial) to \(new.serial); journal discarded")
                try? j?.discard()
            } else if let j {
                let diff: ZoneDiff
                if let edit = new.edit, edit.isEdit(of: old) {
                    // An edit knows what it changed: no comparison of the two versions.
                    diff = ZoneDiff(edit, from: old, to: new)
                } else {
                    diff = ZoneDiff.between(old, new)
                    // The comparison held both versions' records in sets: give the pages back.
                    if old.recordCount > 10_000 { trimMallocHeap() }
                }
                do {
                    try j.append(diff)
                    logger.info("journal of \(new.origin): \(old.serial) → \(new.serial), \(diff.removed.count) removed, \(diff.added.count) added")
                } catch {
                    logger.error("journal of \(new.origin): \(error); it starts again from the next change (until then IXFR sends the whole zone)")
                }
            }
            notifySecondaries(new)
        case (_?, nil):
            lock.withLock { journals.removeValue(forKey: change.name) }?.delete()
        case (nil, nil):
            break
        }
    }

    private func notifySecondaries(_ zone: Zone) {
        let targets = settings.settings(for: zone.origin).notify
        guard !targets.isEmpty else { return }
        notifier.notify(zone: zone.origin, soa: zone.soaRecord, serial: zone.serial, targets: targets)
    }
}

/// Answers AXFR and IXFR (the slow path's `.transfer` messages).
final class TransferHandler: SlowPathHandler, @unchecked Sendable {
    unowned let primary: PrimaryReplication

    init(_ primary: PrimaryReplication) { self.primary = primary }

    func handle(_ request: SlowPathRequest) -> SlowPathReply {
        var signer: TSIGResponseSigner? = nil
        if case .verified(let s) = request.tsig { signer = s }
        guard let q = request.query, let qname = request.qname else {
            return .message(TransferAnswer.error(to: request.message, rcode: .formErr, edns: nil, signer: signer))
        }
        let edns: UInt16? = q.edns != nil ? primary.ourPayload : nil
        let question = (name: qname, type: q.qtype, rrClass: q.qclass)
        let kind = q.qtype == .axfr ? "AXFR" : "IXFR"
        func error(_ rcode: RCode, ede: UInt16? = nil) -> SlowPathReply {
            .message(TransferAnswer.error(to: request.message, rcode: rcode, edns: edns, ede: ede, signer: signer))
        }
        // RFC 5936 §4.2 / RFC 1995 §2: AXFR needs TCP (NOTIMP over UDP, as Knot answers).
        if q.qtype == .axfr && request.transport == .udp { return error(.notImp) }
        guard q.qclass == .in, let zone = primary.catalog.zone(named: qname) else {
            // RFC 5936 §2.2.1: not authoritative for the zone asked.
            return error(.notAuth)
        }
        // An expired secondary zone (or one not yet transferred) is a SOA-only stand-in:
        // never hand it on as the zone; SERVFAIL, as its queries get (RFC 1034 §4.3.5).
        if zone.isExpired { return error(.servFail) }
        guard primary.mayTransfer(zone.origin, client: request.client, key: request.key) else {
            primary.onTransfer?(zone.origin.description, kind, false)
            primary.logger.notice("\(kind) of \(zone.origin) refused to \(request.client)\(request.key.map { " (key \($0.name))" } ?? "")")
            // RFC 8914 §4.19: Extended DNS Error 18, "Prohibited".
            return error(.refused, ede: 18)
        }
        let id = q.id
        if q.qtype == .axfr {
            primary.onTransfer?(zone.origin.description, "AXFR", true)
            primary.logger.info("AXFR of \(zone.origin) serial \(zone.serial) to \(request.client)\(request.key.map { " (key \($0.name))" } ?? "")")
            return .stream(TransferStream(id: id, queryFlags: q.flags, question: question,
                                          records: ZoneTransfer.axfrRecords(zone), signer: signer, ednsPayload: edns))
        }
        // IXFR (RFC 1995).
        guard let clientSerial = ZoneTransfer.ixfrClientSerial(request.message) else {
            return error(.formErr)  // RFC 1995 §3: the request carries the client's SOA
        }
        let soaOnly = { () -> SlowPathReply in
            .message(TransferAnswer.records([zone.soaRecord], to: request.message, question: question, edns: edns, signer: signer))
        }
        switch ZoneTransfer.plan(clientSerial: clientSerial, zone: zone, journal: primary.journal(for: zone.origin)) {
        case .upToDate:
            return soaOnly()
        case .incremental(let diff):
            primary.onTransfer?(zone.origin.description, "IXFR", true)
            primary.logger.info("IXFR of \(zone.origin) \(clientSerial) → \(zone.serial) to \(request.client): \(diff.removed.count) removed, \(diff.added.count) added")
            let records = ZoneTransfer.ixfrRecords([diff], current: zone.soaRecord)
            if request.transport == .udp {
                // RFC 1995 §2: over UDP, the IXFR if it fits in one message, else the SOA
                // alone (the client then asks over TCP).
                let stream = TransferStream(id: id, queryFlags: q.flags, question: question, records: records,
                                            signer: signer, maxMessageSize: request.maxResponseSize, ednsPayload: edns)
                if let first = stream.next(), stream.next() == nil { return .message(first) }
                return soaOnly()
            }
            return .stream(TransferStream(id: id, queryFlags: q.flags, question: question, records: records,
                                          signer: signer, ednsPayload: edns))
        case .full:
            if request.transport == .udp { return soaOnly() }
            // RFC 1995 §4: the journal cannot reach the client's serial: the whole zone,
            // as AXFR sends it (the question stays IXFR).
            primary.onTransfer?(zone.origin.description, "IXFR", true)
            primary.logger.info("IXFR of \(zone.origin) from \(clientSerial) to \(request.client): journal does not reach it, sending the whole zone")
            return .stream(TransferStream(id: id, queryFlags: q.flags, question: question,
                                          records: ZoneTransfer.axfrRecords(zone), signer: signer, ednsPayload: edns))
        }
    }
}

extension TransferStream: ResponseStream {}

/// Sends NOTIFY (RFC 1996 §3) over UDP, retrying with a doubling timeout until a
/// matching answer arrives or the attempts run out. A newer change of the zone
/// supersedes the retries of an older one. Each round is a task; each attempt a
/// datagram channel on the event loops whose wait for the answer is a timer there.
final class NotifySender: @unchecked Sendable {
    // @unchecked: `generations` is only touched under `lock`.
    let keyring: TSIGKeyring
    let logger: Logger
    let group: any EventLoopGroup
    /// RFC 1996 §3.6: retransmit until answered; bounded here (2+4+8+16+32 s by default).
    let attempts: Int
    let firstTimeout: Double
    private let lock = NSLock()
    private var generations: [String: Int] = [:]

    /// How one NOTIFY ended.
    enum Outcome: Equatable {
        case acknowledged(attempt: Int)
        case answered(RCode)
        /// The answer's TSIG did not verify.
        case badAnswer(String)
        case unanswered
        /// A newer change of the zone took over.
        case superseded
    }

    init(keyring: TSIGKeyring, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
         attempts: Int = 5, firstTimeout: Double = 2) {
        self.keyring = keyring
        self.logger = logger
        self.group = group
        self.attempts = attempts
        self.firstTimeout = firstTimeout
    }

    func notify(zone: DNSName, soa: ResourceRecord, serial: UInt32, targets: [NotifyTarget]) {
        for target in targets {
            let generation = begin(zone, target)
            Task {
                _ = await self.send(zone: zone, soa: soa, serial: serial, to: target, generation: generation)
            }
        }
    }

    /// Starts a new round for (zone, target): older rounds stop at their next attempt.
    func begin(_ zone: DNSName, _ target: NotifyTarget) -> Int {
        lock.withLock {
            generations["\(zone)|\(target.address)", default: 0] += 1
            return generations["\(zone)|\(target.address)"]!
        }
    }

    private func current(_ zone: DNSName, _ target: NotifyTarget, _ generation: Int) -> Bool {
        lock.withLock { generations["\(zone)|\(target.address)"] == generation }
    }

    /// Sends the NOTIFY until answered or out of attempts; logs and returns how it ended.
    func send(zone: DNSName, soa: ResourceRecord, serial: UInt32, to target: NotifyTarget, generation: Int) async -> Outcome {
        let key = target.key.flatMap { keyring.key(named: $0) }
        var timeout = firstTimeout
        for attempt in 1...attempts {
            guard current(zone, target, generation) else { return .superseded }
            let id = UInt16.random(in: 0...UInt16.max)
            var message = NotifyMessage.make(id: id, zone: zone, soa: soa)
            var verifier: TSIGResponseVerifier? = nil
            if let key {
                let signed = TSIGRequestSigner.sign(message, key: key)
                message = signed.message
                verifier = signed.verifier
            }
            if let answer = await UDPExchange.send(message, to: target.address, id: id, timeout: timeout, group: group) {
                let rcode = RCode(UInt16(answer[3] & 0x0F))
                if var v = verifier {
                    do {
                        try v.verify(answer)
                    } catch {
                        logger.warning("NOTIFY of \(zone) serial \(serial) to \(target): \(error)")
                        return .badAnswer("\(error)")
                    }
                }
                guard rcode == .noError else {
                    logger.warning("NOTIFY of \(zone) serial \(serial) to \(target) answered \(rcode)")
                    return .answered(rcode)
                }
                logger.info("NOTIFY of \(zone) serial \(serial) to \(target) acknowledged")
                return .acknowledged(attempt: attempt)
            }
            // RFC 1996 §3.6: no answer within the timeout: retransmit, waiting longer.
            timeout *= 2
        }
        logger.warning("NOTIFY of \(zone) serial \(serial) to \(target): no answer after \(attempts) attempts")
        return .unanswered
    }
}

/// One UDP request and its answer (matching ID, from the address asked), with a timeout:
/// a datagram channel on an event loop, the wait a timer there.
enum UDPExchange {
    /// Nil when no matching answer came within `timeout` seconds (or nothing could be sent).
    static func send(_ message: [UInt8], to address: ListenAddress, id: UInt16, timeout: Double,
                     group: any EventLoopGroup) async -> [UInt8]? {
        guard let target = try? SocketAddress(ipAddress: address.host, port: address.port) else { return nil }
        let loop = group.next()
        let answer = loop.makePromise(of: [UInt8]?.self)
        let channel: Channel
        do {
            channel = try await DatagramBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NotifyAnswerMatcher(id: id, from: target, answer: answer))
                    }
                }
                .bind(host: address.family == .v6 ? "::" : "0.0.0.0", port: 0).get()
        } catch {
            answer.succeed(nil)
            return nil
        }
        // Whatever ends the wait (the answer, the timer, the channel closing), the promise
        // is completed once: later completions are ignored.
        let timer = loop.scheduleTask(in: .nanoseconds(Int64(timeout * 1e9))) { answer.succeed(nil) }
        channel.closeFuture.whenComplete { _ in answer.succeed(nil) }
        var buffer = channel.allocator.buffer(capacity: message.count)
        buffer.writeBytes(message)
        // A send that fails (no route, ICMP port unreachable) still waits out the timeout,
        // so retries keep their spacing.
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: buffer), promise: nil)
        let result = (try? await answer.futureResult.get()) ?? nil
        timer.cancel()
        try? await channel.close()
        return result
    }
}

/// Completes `answer` with the first datagram that answers our NOTIFY: from the address
/// asked, same ID, QR set, opcode NOTIFY (RFC 1996 §3.6: it ends the retransmissions).
/// Anything else is ignored.
final class NotifyAnswerMatcher: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let id: UInt16
    let from: SocketAddress
    let answer: EventLoopPromise<[UInt8]?>

    init(id: UInt16, from: SocketAddress, answer: EventLoopPromise<[UInt8]?>) {
        self.id = id
        self.from = from
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == from else { return }
        let bytes = Array(envelope.data.readableBytesView)
        guard bytes.count >= 12, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == id, bytes[2] & 0x80 != 0,
              (bytes[2] >> 3) & 0x0F == Opcode.notify.rawValue else { return }
        answer.succeed(bytes)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP errors and the like: the timer ends the wait.
    }
}
