/// Reads big-endian fields from a DNS message, checking every length against what is left.
///
/// It borrows the bytes (an `UnsafeRawBufferPointer`); callers keep the storage alive,
/// typically inside `withUnsafeBytes`. Reading never traps: short data throws `.truncated`.
public struct WireReader {
    /// The whole message: compression pointers are offsets into it.
    public let message: UnsafeRawBufferPointer
    public var offset: Int
    /// Reading stops here (the end of the message, or of one record's data).
    public var limit: Int

    public init(_ message: UnsafeRawBufferPointer, offset: Int = 0, limit: Int? = nil) {
        self.message = message
        self.offset = offset
        self.limit = limit ?? message.count
    }

    public var remaining: Int { limit - offset }
    public var isAtEnd: Bool { offset >= limit }

    @inline(__always)
    public mutating func readU8() throws(WireError) -> UInt8 {
        guard offset < limit else { throw .truncated }
        defer { offset += 1 }
        return message[offset]
    }

    @inline(__always)
    public mutating func readU16() throws(WireError) -> UInt16 {
        guard limit - offset >= 2 else { throw .truncated }
        defer { offset += 2 }
        return UInt16(message[offset]) << 8 | UInt16(message[offset + 1])
    }

    @inline(__always)
    public mutating func readU32() throws(WireError) -> UInt32 {
        guard limit - offset >= 4 else { throw .truncated }
        defer { offset += 4 }
        return UInt32(message[offset]) << 24 | UInt32(message[offset + 1]) << 16
            | UInt32(message[offset + 2]) << 8 | UInt32(message[offset + 3])
    }

    public mutating func readBytes(_ count: Int) throws(WireError) -> [UInt8] {
        guard count >= 0, limit - offset >= count else { throw .truncated }
        defer { offset += count }
        return Array(message[offset..<(offset + count)])
    }

    public mutating func skip(_ count: Int) throws(WireError) {
        guard count >= 0, limit - offset >= count else { throw .truncated }
        offset += count
    }

    /// Reads a possibly compressed name (RFC 1035 §4.1.4) and returns it uncompressed.
    public mutating func readName() throws(WireError) -> DNSName {
        var buffer = [UInt8](repeating: 0, count: DNSName.maxWireLength)
        var at = offset
        let message = self.message, limit = self.limit
        let result = buffer.withUnsafeMutableBytes { out in
            Result { () throws(WireError) -> Int in
                try NameDecoder.decode(message, at: &at, limit: limit, into: out, lowercase: false)
            }
        }
        let length = try result.get()
        offset = at
        buffer.removeLast(buffer.count - length)
        return DNSName(uncheckedWire: buffer)
    }

    /// Steps over a name without decoding it: plain labels up to the root octet or up to
    /// a compression pointer, which ends the name in place. Allocates nothing.
    public mutating func skipName() throws(WireError) {
        var total = 0
        while true {
            let len = try readU8()
            if len == 0 { return }
            switch len & 0xC0 {
            case 0x00:
                total += 1 + Int(len)
                guard total < DNSName.maxWireLength else { throw .nameTooLong }
                try skip(Int(len))
            case 0xC0:
                let low = try readU8()
                let target = Int(len & 0x3F) << 8 | Int(low)
                guard target >= 12, target < offset - 2 else { throw .badPointer }
                return
            default:
                throw .badLabelType
            }
        }
    }

    /// Reads an uncompressed name: pointers are an error (used for rdata of types whose
    /// names must not be compressed, and for strict parsing).
    public mutating func readUncompressedName() throws(WireError) -> DNSName {
        var bytes: [UInt8] = []
        while true {
            let len = try readU8()
            if len == 0 { break }
            guard len <= 63 else { throw len & 0xC0 == 0xC0 ? .badPointer : .badLabelType }
            bytes.append(len)
            guard limit - offset >= Int(len) else { throw .truncated }
            bytes.append(contentsOf: message[offset..<(offset + Int(len))])
            offset += Int(len)
            guard bytes.count < DNSName.maxWireLength else { throw .nameTooLong }
        }
        bytes.append(0)
        return DNSName(uncheckedWire: bytes)
    }
}

/// Decodes names from messages without allocating: the hot path calls this with a
/// reused 255-octet buffer.
public enum NameDecoder {
    /// RFC 1035 §4.1.4 leaves the number of pointer hops open; a name of 255 octets has at
    /// most 127 labels, so more hops than that can only be a loop.
    public static let maxPointerHops = 127

    /// Decodes the name at `offset` into `out` (at least 255 bytes) and advances `offset`
    /// past the name as it appears in place. Returns the uncompressed wire length.
    ///
    /// Rejects: pointers that do not point strictly backwards (loops, forward pointers),
    /// pointers into the 12-octet header, labels over 63 octets, names over 255 octets,
    /// the extended label types 0x40 and 0x80 (RFC 6891 §5), and data that ends early.
    @inline(__always)
    public static func decode(
        _ message: UnsafeRawBufferPointer, at offset: inout Int, limit: Int,
        into out: UnsafeMutableRawBufferPointer, lowercase: Bool
    ) throws(WireError) -> Int {
        var pos = offset
        var end = limit
        var written = 0
        var jumped = false
        var hops = 0
        // Pointers must go strictly backwards from the start of the name part that holds them.
        var lowestStart = pos
        while true {
            guard pos < end else { throw .truncated }
            let len = Int(message[pos])
            if len == 0 {
                guard written < DNSName.maxWireLength else { throw .nameTooLong }
                out[written] = 0
                written += 1
                if !jumped { offset = pos + 1 }
                return written
            }
            switch len & 0xC0 {
            case 0x00:
                guard pos + 1 + len <= end else { throw .truncated }
                guard written + 1 + len < DNSName.maxWireLength else { throw .nameTooLong }
                out[written] = UInt8(len)
                if lowercase {
                    for i in 0..<len { out[written + 1 + i] = asciiLower(message[pos + 1 + i]) }
                } else {
                    for i in 0..<len { out[written + 1 + i] = message[pos + 1 + i] }
                }
                written += 1 + len
                pos += 1 + len
            case 0xC0:
                guard pos + 1 < end else { throw .truncated }
                let target = (len & 0x3F) << 8 | Int(message[pos + 1])
                // RFC 1035 §4.1.4: a pointer refers to a prior occurrence; the header is 12 octets.
                guard target >= 12, target < lowestStart else { throw .badPointer }
                hops += 1
                guard hops <= maxPointerHops else { throw .pointerLoop }
                if !jumped { offset = pos + 2; jumped = true }
                lowestStart = target
                pos = target
                end = message.count
            default:
                throw .badLabelType
            }
        }
    }
}

/// Appends big-endian fields to a growing byte array (off the hot path: zone loading,
/// tests, tools). The query path writes into preallocated buffers instead.
public struct WireWriter {
    public var bytes: [UInt8]

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func writeU8(_ v: UInt8) { bytes.append(v) }
    public mutating func writeU16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    public mutating func writeU32(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8((v >> 16) & 0xFF))
        bytes.append(UInt8((v >> 8) & 0xFF)); bytes.append(UInt8(v & 0xFF))
    }
    public mutating func writeBytes<C: Collection>(_ b: C) where C.Element == UInt8 { bytes.append(contentsOf: b) }
    /// Writes a name uncompressed.
    public mutating func writeName(_ name: DNSName) { bytes.append(contentsOf: name.wire) }
}
