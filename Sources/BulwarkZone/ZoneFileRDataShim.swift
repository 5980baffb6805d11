// TEMPORARY stand-in for the rdata branch's API; deleted when `rdata` is merged.
public struct PresentationField { public var bytes: [UInt8]; public var quoted: Bool; public init(_ bytes: [UInt8], quoted: Bool = false) { self.bytes = bytes; self.quoted = quoted } }
public struct RDataError: Error, CustomStringConvertible { public var message: String; public var description: String { message } }
public enum RDataText {
    public static func parse(type: RRType, fields: [PresentationField], origin: DNSName) throws(RDataError) -> [UInt8] {
        func name(_ f: PresentationField) throws(RDataError) -> [UInt8] {
            do { return try f.bytes.withUnsafeBytes { b throws(WireError) in try DNSName(presentation: b, origin: origin) }.wire }
            catch { throw RDataError(message: "bad name: \(error)") }
        }
        func num(_ f: PresentationField) throws(RDataError) -> UInt32 {
            guard let v = UInt32(String(decoding: f.bytes, as: UTF8.self)) else { throw RDataError(message: "bad number") }
            return v
        }
        switch type {
        case .a:
            guard fields.count == 1 else { throw RDataError(message: "A takes one address") }
            let parts = String(decoding: fields[0].bytes, as: UTF8.self).split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
            guard parts.count == 4 else { throw RDataError(message: "bad IPv4 address '\(String(decoding: fields[0].bytes, as: UTF8.self))'") }
            return parts
        case .ns, .cname, .ptr, .dname:
            guard fields.count == 1 else { throw RDataError(message: "wrong field count") }
            return try name(fields[0])
        case .mx:
            guard fields.count == 2 else { throw RDataError(message: "wrong field count") }
            let p = try num(fields[0])
            return [UInt8(p >> 8), UInt8(p & 255)] + (try name(fields[1]))
        case .soa:
            guard fields.count == 7 else { throw RDataError(message: "SOA needs 7 fields") }
            var out = try name(fields[0]) + (try name(fields[1]))
            for f in fields[2...] { let v = try num(f); out += [UInt8(v >> 24), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)] }
            return out
        case .txt:
            var out: [UInt8] = []
            for f in fields { guard f.bytes.count <= 255 else { throw RDataError(message: "TXT string longer than 255 octets") }; out.append(UInt8(f.bytes.count)); out += f.bytes }
            return out
        default:
            return fields.flatMap { $0.bytes }
        }
    }
}
