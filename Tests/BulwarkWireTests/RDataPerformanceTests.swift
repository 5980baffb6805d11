import XCTest
@testable import BulwarkWire

/// Zone-load cost of rdata parsing: the root zone's 22k records, pre-split into fields.
final class RDataPerformanceTests: XCTestCase {
    func testParseAndFormatSpeed() throws {
        let path = "/work/shared/data/root.zone"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw XCTSkip("no root.zone") }
        var records: [(RRType, [PresentationField])] = []
        for line in text.split(separator: "\n") where !line.hasPrefix(";") {
            let f = lexFields(String(line))
            guard f.count >= 5, let type = TypeMnemonic.parse(f[3].bytes) else { continue }
            records.append((type, Array(f[4...])))
        }
        var wires: [[UInt8]] = []
        wires.reserveCapacity(records.count)
        var clock = ContinuousClock.now
        for _ in 0..<5 {
            wires.removeAll(keepingCapacity: true)
            for (type, fields) in records { wires.append(try RDataText.parse(type: type, fields: fields, origin: .root)) }
        }
        let parse = (ContinuousClock.now - clock) / 5
        clock = .now
        for (k, (type, _)) in records.enumerated() { try RDataWire.validate(type: type, rdata: wires[k]) }
        let validate = ContinuousClock.now - clock
        clock = .now
        var chars = 0
        for (k, (type, _)) in records.enumerated() { chars += RDataText.format(type: type, rdata: wires[k]).utf8.count }
        let format = ContinuousClock.now - clock
        print("root zone \(records.count) records: parse \(parse), validate \(validate), format \(format) (\(chars) chars)")
    }
}
