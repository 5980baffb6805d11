// NOTIFY received as a secondary (RFC 1996 §3.7–3.11), through the slow path: answered
// at once (same ID, QR, opcode NOTIFY, AA, the question), and a refresh of the zone
// scheduled on the secondary manager's threads (never on the transport's thread).
import BulwarkDefences
import BulwarkPipeline
import BulwarkTransfer
import Logging

final class NotifyReceiver: SlowPathHandler, @unchecked Sendable {
    // @unchecked: the properties are immutable; SecondaryZones is thread-safe.
    let secondaries: SecondaryZones
    let logger: Logger

    init(secondaries: SecondaryZones, logger: Logger) {
        self.secondaries = secondaries
        self.logger = logger
    }

    func handle(_ request: SlowPathRequest) -> SlowPathReply {
        var signer: TSIGResponseSigner?
        if case .verified(let s) = request.tsig { signer = s }
        func reply(_ message: [UInt8]) -> SlowPathReply {
            guard var s = signer else { return .message(message) }
            return .message(s.sign(message))
        }
        let notify: NotifyRequest
        do {
            notify = try NotifyRequest(parsing: request.message)
        } catch {
            logger.debug("NOTIFY from \(request.client) not understood: \(error)")
            guard let r = NotifyRequest.headerOnlyResponse(to: request.message, rcode: .formErr) else { return .drop }
            return reply(r)
        }
        let zone = notify.zone
        // RFC 1996 §3.10: only NOTIFY from the zone's primaries (or allow-notify) is acted on.
        guard let source = secondaries.notifySource(zone: zone, sender: request.client) else {
            logger.info("NOTIFY for \(zone) from \(request.client): not a secondary zone here (NOTAUTH)")
            return reply(notify.response(rcode: .notAuth))
        }
        guard source.allowed else {
            logger.warning("NOTIFY for \(zone) from \(request.client) refused: not one of its primaries")
            return reply(notify.response(rcode: .refused))
        }
        // With a key configured for that primary, the NOTIFY must be signed with it (a
        // bad signature never gets here: the router answered it with the TSIG error).
        if let wanted = source.primary?.keyName.flatMap(SecondaryPrimary.keyDNSName), request.key?.name != wanted {
            logger.warning("NOTIFY for \(zone) from \(request.client) refused: not signed with key \(wanted)")
            return reply(notify.response(rcode: .notAuth))
        }
        switch secondaries.notify(zone: zone, from: request.client, serial: notify.serial) {
        case .accepted: return reply(notify.response(rcode: .noError))
        case .refused: return reply(notify.response(rcode: .refused))
        case .notSecondary: return reply(notify.response(rcode: .notAuth))
        }
    }
}
