// The on-disk copy of a secondary zone, so that a restart answers at once (as BIND's
// raw-format secondary files and Knot's zone files with its timer database). Binary:
// records in uncompressed wire form, exact for every type, fast to read back. Written
// atomically (temporary file, fsync, rename) after each successful transfer; the small
// state file (when the primary last confirmed our serial) after each refresh.
import BulwarkTransfer
import BulwarkWire
import BulwarkZone
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct SecondaryDiskCopy: Sendable {
    static let magic = Array("BULWARK-SECONDARY-1\n".utf8)
    public let directory: String

    public init(dataDir: String) {
        directory = dataDir.hasSuffix("/") ? dataDir + "secondary" : dataDir + "/secondary"
    }

    /// The file stem for a zone: its name without the final dot ("root" for the root),
    /// with '/' (legal in a label) spelled %2F.
    func stem(_ zone: DNSName) -> String {
        if zone.isRoot { return "root" }
        return String(zone.lowercased().description.dropLast()).replacingOccurrences(of: "%", with: "%25")
            .replacingOccurrences(of: "/", with: "%2F")
    }

    public func zonePath(_ zone: DNSName) -> String { "\(directory)/\(stem(zone)).zone.bin" }
    public func statePath(_ zone: DNSName) -> String { "\(directory)/\(stem(zone)).state" }

    // MARK: Writing

    public func write(_ zone: Zone) throws {
        var w = WireWriter(capacity: 64 + zone.recordCount * 48)
        w.writeBytes(Self.magic)
        w.writeName(zone.origin)
        let records = zone.records
        w.writeU32(UInt32(records.count))
        for r in records {
            w.writeName(r.owner)
            w.writeU16(r.type.rawValue)
            w.writeU32(r.ttl)
            w.writeU16(UInt16(r.rdata.count))
            w.writeBytes(r.rdata)
        }
        w.writeU32(Self.checksum(w.bytes))
        try atomicWrite(w.bytes, to: zonePath(zone.origin))
    }

    /// Records when the primary last confirmed the serial we hold (seconds since 1970).
    public func writeState(zone: DNSName, serial: UInt32, lastRefresh: Date) throws {
        let text = "serial \(serial)\nrefreshed \(Int64(lastRefresh.timeIntervalSince1970))\n"
        try atomicWrite(Array(text.utf8), to: statePath(zone))
    }

    private func atomicWrite(_ bytes: [UInt8], to path: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temp = path + ".tmp.\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: temp, errno: errno) }
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                off += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 && rename(temp, path) != 0 { failure = errno }
        guard failure == 0 else {
            // The copy before stays whole (the disk full, or failing).
            unlink(temp)
            throw WriteError(path: path, errno: failure)
        }
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// A copy that could not be written, with the system's reason (ENOSPC: the disk is full).
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        public var description: String { "cannot write \(path): \(String(cString: strerror(errno)))" }
    }

    // MARK: Reading

    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The zone from its copy; nil when there is none. Throws when it is damaged.
    public func read(_ origin: DNSName) throws(ReadError) -> Zone? {
        let path = zonePath(origin)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = [UInt8](data)
        guard bytes.count >= Self.magic.count + 9, Array(bytes.prefix(Self.magic.count)) == Self.magic else {
            throw ReadError(description: "\(path): not a Bulwark secondary copy")
        }
        let body = bytes.count - 4
        let sum = UInt32(bytes[body]) << 24 | UInt32(bytes[body + 1]) << 16 | UInt32(bytes[body + 2]) << 8 | UInt32(bytes[body + 3])
        guard Self.checksum(Array(bytes[0..<body])) == sum else { throw ReadError(description: "\(path): checksum mismatch (damaged file)") }
        let parsed = bytes.withUnsafeBytes { buf in
            Result { () throws(WireError) -> (DNSName, [ResourceRecord]) in
                var r = WireReader(buf, offset: Self.magic.count, limit: body)
                let name = try r.readUncompressedName()
                let count = Int(try r.readU32())
                var records: [ResourceRecord] = []
                records.reserveCapacity(min(count, body / 11))
                for _ in 0..<count {
                    let owner = try r.readUncompressedName()
                    let type = RRType(try r.readU16())
                    let ttl = try r.readU32()
                    let rdata = try r.readBytes(Int(try r.readU16()))
                    records.append(ResourceRecord(owner: owner, type: type, ttl: ttl, rdata: rdata))
                }
                guard r.isAtEnd else { throw .trailingData }
                return (name, records)
            }
        }
        guard case .success(let (name, parsedRecords)) = parsed else { throw ReadError(description: "\(path): malformed records") }
        guard name == origin else { throw ReadError(description: "\(path): holds zone \(name), not \(origin)") }
        var records = parsedRecords
        do {
            return try Zone(origin: origin, takingRecords: &records)
        } catch {
            throw ReadError(description: "\(path): \(error)")
        }
    }

    /// When the primary last confirmed the serial of the copy; nil when unknown.
    public func readState(_ zone: DNSName) -> (serial: UInt32, lastRefresh: Date)? {
        guard let text = try? String(contentsOfFile: statePath(zone), encoding: .utf8) else { return nil }
        var serial: UInt32?, refreshed: Int64?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            if parts[0] == "serial" { serial = UInt32(parts[1]) }
            if parts[0] == "refreshed" { refreshed = Int64(parts[1]) }
        }
        guard let serial, let refreshed else { return nil }
        return (serial, Date(timeIntervalSince1970: TimeInterval(refreshed)))
    }

    public func remove(_ zone: DNSName) {
        unlink(zonePath(zone))
        unlink(statePath(zone))
    }

    /// FNV-1a, 32 bits: catches a torn or damaged file (not an adversary: the file is ours).
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }
}
