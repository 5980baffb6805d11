import BulwarkWire
import Foundation
import XCTest
@testable import BulwarkZone

/// The name table's hash is keyed per process: names chosen to collide under any hash an
/// attacker can compute (here FNV-1a, unkeyed, as Bulwark used before) spread like any
/// others, so lookups of them cost what lookups of random names cost.
final class KeyedNameHashTests: XCTestCase {
    let origin = try! DNSName("hash.test.")

    /// FNV-1a over the lower-cased wire name: an unkeyed hash anyone can compute.
    func unkeyed(_ wire: [UInt8]) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for b in wire { h = (h ^ UInt32(asciiLower(b))) &* 0x0100_0193 }
        return h
    }

    func zone(_ labels: [String]) throws -> Zone {
        var records = [ResourceRecord(owner: origin, type: .soa, ttl: 300,
                                      rdata: try DNSName("ns.hash.test.").wire + DNSName("h.hash.test.").wire + [UInt8](repeating: 0, count: 20))]
        for l in labels { records.append(ResourceRecord(owner: try DNSName(l, origin: origin), type: .a, ttl: 300, rdata: [192, 0, 2, 1])) }
        return try Zone(origin: origin, records: records)
    }

    /// Slots probed to find `name` (1: found at its home slot).
    func probes(_ zone: Zone, _ name: DNSName) -> Int {
        let key = name.wire.map(asciiLower)
        let hash = nameHash(zone.hashKey, key)
        var i = Int(hash) & zone.slotMask, n = 1
        while true {
            let s = zone.slots[i]
            XCTAssertFalse(s.isNone, "\(name) not found")
            if s.isNone { return n }
            let e = zone[name: s]
            if e.hash == hash && zone.name(s).lowercased() == name.lowercased() { return n }
            i = (i + 1) & zone.slotMask
            n += 1
        }
    }

    /// Linear probing as if the table were keyed by `unkeyed`: the cost an attacker aims for.
    func unkeyedProbes(_ names: [DNSName], slots: Int) -> Double {
        var used = [Bool](repeating: false, count: slots)
        var total = 0
        for n in names {
            var i = Int(unkeyed(n.wire)) & (slots - 1), k = 1
            while used[i] { i = (i + 1) & (slots - 1); k += 1 }
            used[i] = true
            total += k
        }
        return Double(total) / Double(names.count)
    }

    func testCraftedCollisionsCostWhatRandomNamesCost() throws {
        let count = 1000
        // Names whose unkeyed hash has the same low 11 bits: one home slot in a table of 2048.
        var crafted: [String] = []
        var i = 0
        let suffix = origin.wire
        while crafted.count < count {
            // FNV-1a of "c<i>" then the origin, without building the name.
            let label = Array("c\(i)".utf8)
            var h: UInt32 = (0x811C_9DC5 ^ UInt32(label.count)) &* 0x0100_0193
            for b in label { h = (h ^ UInt32(b)) &* 0x0100_0193 }
            for b in suffix { h = (h ^ UInt32(asciiLower(b))) &* 0x0100_0193 }
            if h & 0x7FF == 0 { crafted.append(String(decoding: label, as: UTF8.self)) }
            i += 1
        }
        let random = (0..<count).map { "r\($0 &* 7919 % 100_003)x\($0)" }
        let craftedZone = try zone(crafted), randomZone = try zone(random)
        let craftedNames = try crafted.map { try DNSName($0, origin: origin) }
        let randomNames = try random.map { try DNSName($0, origin: origin) }

        // Against an unkeyed table the attack works: every name lands in one cluster.
        XCTAssertGreaterThan(unkeyedProbes(craftedNames, slots: craftedZone.slotMask + 1), 100)

        let craftedAverage = Double(craftedNames.map { probes(craftedZone, $0) }.reduce(0, +)) / Double(count)
        let randomAverage = Double(randomNames.map { probes(randomZone, $0) }.reduce(0, +)) / Double(count)
        print("average probes: crafted \(craftedAverage), random \(randomAverage)")
        XCTAssertLessThan(craftedAverage, 3)
        XCTAssertLessThan(craftedAverage, randomAverage * 1.5 + 0.5)

        // And in time: looking the crafted names up costs what the random ones cost.
        func time(_ zone: Zone, _ names: [DNSName]) -> Double {
            let keys = names.map { $0.wire.map(asciiLower) }
            let hashes = keys.map { nameHash(zone.hashKey, $0) }
            let start = DispatchTime.now().uptimeNanoseconds
            var found = 0
            for _ in 0..<20 {
                for (k, h) in zip(keys, hashes) where k.withUnsafeBytes({ zone.find($0, hash: h) }) != nil { found += 1 }
            }
            XCTAssertEqual(found, 20 * names.count)
            return Double(DispatchTime.now().uptimeNanoseconds - start)
        }
        let craftedTime = time(craftedZone, craftedNames), randomTime = time(randomZone, randomNames)
        print("lookup time: crafted \(craftedTime / 1e6) ms, random \(randomTime / 1e6) ms")
        XCTAssertLessThan(craftedTime, randomTime * 3)
    }

    /// The key is the process's, random: two processes (here, two keys) hash differently.
    func testHashDependsOnTheKey() {
        let wire = Array("\u{3}www\u{4}hash\u{4}test\u{0}".utf8)
        let a = nameHash(NameHashKey(k0: 1, k1: 2), wire), b = nameHash(NameHashKey(k0: 3, k1: 4), wire)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(nameHash(NameHashKey(k0: 1, k1: 2), wire), a)
    }
}
