// The per-zone journal: the chain of differences (serial → serial) that IXFR answers
// from (RFC 1995 §4), kept on disk so it survives restarts, bounded in size (the oldest
// differences are dropped first).
//
// File `<directory>/<zone>.journal`: the magic "BWJ1", then entries, each
//   u32 payload length, u32 FNV-1a checksum of the payload, payload:
//   u32 from-serial, u32 to-serial, old SOA, new SOA, u32 n, n removed records,
//   u32 m, m added records; a record is u8 owner length, owner (wire), u16 type,
//   u16 class, u32 TTL, u16 rdata length, rdata.
// Appends go to the end of the file; an entry cut short by a crash (or failing its
// checksum) ends the journal there and is cut off when the file is next opened. When the
// file outgrows its bound it is rewritten (to a temporary file, then renamed) without
// its oldest entries.
import BulwarkWire
import Foundation

public struct JournalError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

public final class ZoneJournal: @unchecked Sendable {
    // @unchecked: `entries` is only touched under `lock`.
    public let zone: DNSName
    public let path: String
    /// Upper bound of the file's size in octets.
    public let maxSize: Int
    private let lock = NSLock()
    private var entries: [Entry] = []

    struct Entry {
        var from: UInt32
        var to: UInt32
        /// The payload as stored (decoded when an IXFR needs it).
        var payload: [UInt8]
        var storedSize: Int { payload.count + 8 }
    }

    static let magic: [UInt8] = Array("BWJ1".utf8)

    /// Opens (or starts) the journal of `zone` in `directory`, created if missing.
    public init(zone: DNSName, directory: String, maxSize: Int) throws(JournalError) {
        self.zone = zone
        self.maxSize = max(maxSize, 4096)
        self.path = (directory as NSString).appendingPathComponent(Self.fileName(for: zone))
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw JournalError(description: "cannot create \(directory): \(error.localizedDescription)")
        }
        try load()
    }

    /// `example.com.journal`; the root zone is `root.journal`; `/` and a leading dot are escaped.
    public static func fileName(for zone: DNSName) -> String {
        if zone.isRoot { return "root.journal" }
        var text = zone.lowercased().description
        if text.hasSuffix(".") { text.removeLast() }
        text = text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
        if text.hasPrefix(".") { text = "%2E" + text.dropFirst() }
        return text + ".journal"
    }

    /// Serials covered: the first entry's from-serial and the last one's to-serial.
    public var range: (first: UInt32, last: UInt32)? {
        lock.withLock { entries.isEmpty ? nil : (entries[0].from, entries[entries.count - 1].to) }
    }

    public var entryCount: Int { lock.withLock { entries.count } }

    /// The file's size in octets.
    public var size: Int { lock.withLock { Self.magic.count + entries.reduce(0) { $0 + $1.storedSize } } }

    /// Records `diff`. A diff that does not continue the chain (its from-serial is not the
    /// last to-serial) starts the journal anew: a gap cannot be bridged.
    public func append(_ diff: ZoneDiff) throws(JournalError) {
        let payload = Self.encode(diff)
        let entry = Entry(from: diff.fromSerial, to: diff.toSerial, payload: payload)
        lock.lock()
        defer { lock.unlock() }
        if let last = entries.last, last.to != entry.from {
            entries = []
        }
        entries.append(entry)
        var total = Self.magic.count + entries.reduce(0) { $0 + $1.storedSize }
        do {
            if total > maxSize || entries.count == 1 {
                // Bounded: drop the oldest until it fits (possibly everything).
                while !entries.isEmpty && total > maxSize {
                    total -= entries.removeFirst().storedSize
                }
                try rewrite()
            } else {
                try appendToFile(entry)
            }
        } catch {
            // The disk refused the write (full, failing): rather than keep a torn entry or
            // one the file lacks, the journal empties, in memory and on disk (shrinking a
            // file needs no space). IXFR then falls back to AXFR (RFC 1995 §4) until the
            // journal grows again from the next change.
            entries = []
            _ = truncate(path, off_t(Self.magic.count))
            _ = unlink(path + ".tmp")
            throw error
        }
    }

    /// Forgets every entry (and empties the file).
    public func discard() throws(JournalError) {
        lock.lock()
        defer { lock.unlock() }
        entries = []
        try rewrite()
    }

    /// Removes the file (the zone is no longer served).
    public func delete() {
        lock.withLock {
            entries = []
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// The differences leading from `serial` to `target`, in order; nil when the journal
    /// cannot reach `serial` (the client must then get the whole zone, RFC 1995 §4).
    public func diffs(from serial: UInt32, to target: UInt32) -> [ZoneDiff]? {
        let chain: [Entry]? = lock.withLock {
            guard let start = entries.firstIndex(where: { $0.from == serial }) else { return nil }
            var out: [Entry] = []
            var at = serial
            for e in entries[start...] {
                guard e.from == at else { return nil }
                out.append(e)
                at = e.to
                if at == target { return out }
            }
            return nil
        }
        guard let chain else { return nil }
        var out: [ZoneDiff] = []
        for e in chain {
            guard let d = Self.decode(e.payload) else { return nil }
            out.append(d)
        }
        return out
    }

    // MARK: file

    private func load() throws(JournalError) {
        guard FileManager.default.fileExists(atPath: path) else {
            try rewrite()
            return
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError(description: "cannot read \(path)")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 4, Array(bytes[0..<4]) == Self.magic else {
            // Not ours or damaged at the start: begin again (secondaries get AXFR).
            entries = []
            try rewrite()
            return
        }
        var at = 4
        var loaded: [Entry] = []
        while bytes.count - at >= 8 {
            let length = Int(Self.u32(bytes, at)), sum = Self.u32(bytes, at + 4)
            guard length >= 8, bytes.count - at - 8 >= length else { break }
            let payload = Array(bytes[(at + 8)..<(at + 8 + length)])
            guard Self.checksum(payload) == sum else { break }
            let e = Entry(from: Self.u32(payload, 0), to: Self.u32(payload, 4), payload: payload)
            if let last = loaded.last, last.to != e.from { break }
            loaded.append(e)
            at += 8 + length
        }
        entries = loaded
        if at != bytes.count { try rewrite() }  // cut off a torn or corrupt tail
    }

    private func rewrite() throws(JournalError) {
        var out = Self.magic
        for e in entries { out += Self.framed(e.payload) }
        let temp = path + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: Data(out)) else {
            throw JournalError(description: "cannot write \(temp)")
        }
        if rename(temp, path) != 0 {
            throw JournalError(description: "cannot rename \(temp) to \(path): errno \(errno)")
        }
    }

    private func appendToFile(_ e: Entry) throws(JournalError) {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw JournalError(description: "cannot open \(path) for writing")
        }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(Self.framed(e.payload)))
            try handle.synchronize()
        } catch {
            throw JournalError(description: "cannot append to \(path): \(error.localizedDescription)")
        }
    }

    // MARK: encoding

    static func framed(_ payload: [UInt8]) -> [UInt8] {
        var w = WireWriter(capacity: payload.count + 8)
        w.writeU32(UInt32(payload.count))
        w.writeU32(checksum(payload))
        w.writeBytes(payload)
        return w.bytes
    }

    static func encode(_ d: ZoneDiff) -> [UInt8] {
        var w = WireWriter(capacity: 64 + (d.removed.count + d.added.count) * 48)
        w.writeU32(d.fromSerial)
        w.writeU32(d.toSerial)
        func record(_ r: ResourceRecord) {
            w.writeU8(UInt8(r.owner.wire.count))
            w.writeBytes(r.owner.wire)
            w.writeU16(r.type.rawValue)
            w.writeU16(r.rrClass.rawValue)
            w.writeU32(r.ttl)
            w.writeU16(UInt16(r.rdata.count))
            w.writeBytes(r.rdata)
        }
        record(d.oldSOA)
        record(d.newSOA)
        w.writeU32(UInt32(d.removed.count))
        d.removed.forEach(record)
        w.writeU32(UInt32(d.added.count))
        d.added.forEach(record)
        return w.bytes
    }

    static func decode(_ payload: [UInt8]) -> ZoneDiff? {
        payload.withUnsafeBytes { b -> ZoneDiff? in
            var r = WireReader(b, offset: 8)
            do throws(WireError) {
                func record() throws(WireError) -> ResourceRecord {
                    let n = Int(try r.readU8())
                    let owner = try DNSName(wire: try r.readBytes(n))
                    let type = try r.readU16(), rrClass = try r.readU16(), ttl = try r.readU32()
                    let rdata = try r.readBytes(Int(try r.readU16()))
                    return ResourceRecord(owner: owner, type: RRType(type), rrClass: RRClass(rrClass), ttl: ttl, rdata: rdata)
                }
                let oldSOA = try record(), newSOA = try record()
                var removed: [ResourceRecord] = [], added: [ResourceRecord] = []
                let n = Int(try r.readU32())
                guard n <= b.count else { return nil }
                for _ in 0..<n { removed.append(try record()) }
                let m = Int(try r.readU32())
                guard m <= b.count else { return nil }
                for _ in 0..<m { added.append(try record()) }
                return ZoneDiff(oldSOA: oldSOA, newSOA: newSOA, removed: removed, added: added)
            } catch {
                return nil
            }
        }
    }

    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }
}
