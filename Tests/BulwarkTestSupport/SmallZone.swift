// The records of a small zone, built without the zone-file reader (the catalog tests
// make tens of thousands of them).
import BulwarkWire

public enum SmallZone {
    /// SOA, NS ns1, ns1 A 192.0.2.1 and www A `address`.
    public static func records(_ origin: DNSName, serial: UInt32 = 1, address: [UInt8] = [192, 0, 2, 10]) -> [ResourceRecord] {
        let ns = try! origin.prepending(Array("ns1".utf8))
        let www = try! origin.prepending(Array("www".utf8))
        var soa = ns.wire + (try! origin.prepending(Array("hostmaster".utf8))).wire
        for field in [serial, 7200, 3600, 1_209_600, 300] {
            soa += [UInt8(field >> 24), UInt8((field >> 16) & 0xFF), UInt8((field >> 8) & 0xFF), UInt8(field & 0xFF)]
        }
        return [
            ResourceRecord(owner: origin, type: .soa, ttl: 3600, rdata: soa),
            ResourceRecord(owner: origin, type: .ns, ttl: 3600, rdata: ns.wire),
            ResourceRecord(owner: ns, type: .a, ttl: 3600, rdata: [192, 0, 2, 1]),
            ResourceRecord(owner: www, type: .a, ttl: 300, rdata: address),
        ]
    }
}
