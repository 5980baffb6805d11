import XCTest
@testable import BulwarkWire

/// Splits presentation text the way a zone-file lexer would: whitespace-separated fields,
/// double-quoted fields (quotes removed, escapes left in place).
func lexFields(_ text: String) -> [PresentationField] {
    var fields: [PresentationField] = []
    let b = Array(text.utf8)
    var i = 0
    while i < b.count {
        if b[i] == 0x20 || b[i] == 0x09 { i += 1; continue }
        var field: [UInt8] = []
        if b[i] == 0x22 {
            i += 1
            while i < b.count && b[i] != 0x22 {
                if b[i] == 0x5C && i + 1 < b.count { field.append(b[i]); i += 1 }
                field.append(b[i]); i += 1
            }
            i += 1
            fields.append(PresentationField(field, quoted: true))
            continue
        }
        while i < b.count && b[i] != 0x20 && b[i] != 0x09 {
            if b[i] == 0x5C && i + 1 < b.count { field.append(b[i]); i += 1 }
            field.append(b[i]); i += 1
        }
        fields.append(PresentationField(field))
    }
    return fields
}

let testOrigin = try! DNSName("example.com.")

func parseRData(_ type: RRType, _ text: String, origin: DNSName = testOrigin) throws -> [UInt8] {
    try RDataText.parse(type: type, fields: lexFields(text), origin: origin)
}

func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    let clean = Array(s.utf8.filter { $0 != 0x20 && $0 != 0x0A })
    XCTAssertTrue(Hex.decode(clean[...], into: &out), "bad hex in test")
    return out
}

final class RDataTests: XCTestCase {
    func testSmoke() throws {
        let a = try parseRData(.a, "192.0.2.1")
        XCTAssertEqual(a, [192, 0, 2, 1])
        XCTAssertEqual(RDataText.format(type: .a, rdata: a), "192.0.2.1")
        let mx = try parseRData(.mx, "10 mail")
        XCTAssertEqual(RDataText.format(type: .mx, rdata: mx), "10 mail.example.com.")
        let txt = try parseRData(.txt, "\"hello world\" foo")
        XCTAssertEqual(RDataText.format(type: .txt, rdata: txt), "\"hello world\" \"foo\"")
    }
}
