/// One resource record with its data in uncompressed wire form (RFC 1035 §3.2.1).
/// Names inside `rdata` are never compressed here; writers compress them where allowed.
public struct ResourceRecord: Sendable, Hashable {
    public var owner: DNSName
    public var type: RRType
    public var rrClass: RRClass
    public var ttl: UInt32
    public var rdata: [UInt8]

    public init(owner: DNSName, type: RRType, rrClass: RRClass = .in, ttl: UInt32, rdata: [UInt8]) {
        self.owner = owner
        self.type = type
        self.rrClass = rrClass
        self.ttl = ttl
        self.rdata = rdata
    }
}
