// The control API's fuzz target, apart from the others: it needs the control plane's
// module and with it the HTTP and SQL stacks, a build several times larger.
import BulwarkControl
import BulwarkFuzzTargets
import BulwarkWire
import BulwarkZone
import NIOCore

public enum FuzzAPITarget: String, CaseIterable, Sendable {
    /// The API's batch-change bodies (PATCH .../rrsets), applied to a zone.
    case json

    public func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .json: FuzzJSON.shared.run(input)
        }
    }

    /// Every target by name, as the entry point takes them.
    public static var entries: [String: FuzzEntry.Run] {
        Dictionary(uniqueKeysWithValues: allCases.map { t -> (String, FuzzEntry.Run) in (t.rawValue, { @Sendable in t.run($0) }) })
    }
}

final class FuzzJSON: @unchecked Sendable {
    static let shared = FuzzJSON()
    let zone = FuzzZones.all[2]

    func run(_ input: UnsafeRawBufferPointer) {
        guard let changes = try? ControlAPI.batchChanges(ByteBuffer(bytes: input), origin: zone.origin) else { return }
        var upserts: [StoredRRset] = []
        var deletes: [RRsetKey] = []
        for c in changes {
            switch c.action {
            case .replace:
                fuzzCheck(c.rrset != nil, "a replace without its RRset")
                fuzzCheck(c.rrset!.records.count <= 10_000, "an RRset of \(c.rrset!.records.count) records")
                upserts.append(c.rrset!)
            case .delete:
                deletes.append(c.key)
            }
        }
        _ = try? ZoneEditing.apply(upserts: upserts, deletes: deletes, to: zone, fieldOf: { _ in "changes" })
    }
}
