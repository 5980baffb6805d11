import BulwarkControl
import BulwarkDefences
import BulwarkOps
import BulwarkServer
import BulwarkSettings
import BulwarkTransfer
import BulwarkWire
import Foundation
import XCTest
@testable import BulwarkConfig

/// `keys:`, `journal-size:` and the zones' `notify:` / `allow-transfer:` (Config+Transfer.swift).
final class ConfigTransferTests: ConfigTestCase {
    func error(_ yaml: String) -> String {
        do {
            _ = try load(yaml)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    let keys = """
    keys:
      - name: transfer-key
        algorithm: hmac-sha256
        secret: AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=
      - name: old
        algorithm: hmac-md5
        secret: AQIDBAUGBwgJCgsMDQ4PEA==

    """

    func testKeysNotifyAndAllowTransfer() throws {
        let c = try load(keys + """
        journal-size: 65536
        zones:
          - name: example.com
            file: example.com.zone
            notify:
              - address: 192.0.2.2
                key: transfer-key
              - "[2001:db8::2]:5353"
            allow-transfer:
              - address: 192.0.2.0/24
                key: Transfer-Key
              - key: old
              - 198.51.100.7
          - name: plain.test
            file: plain.zone
        """)
        XCTAssertEqual(c.server.transfer.keys.map(\.algorithm), [.hmacSHA256, .hmacMD5])
        XCTAssertEqual(c.server.transfer.journalSize, 65536)
        XCTAssertEqual(c.server.zones.map(\.name.description), ["example.com.", "plain.test."])
        let s = c.server.transfer.settings(for: try DNSName("EXAMPLE.com."))
        XCTAssertEqual(s.notify.map(\.description), ["192.0.2.2:53 (key transfer-key.)", "[2001:db8::2]:5353"])
        let rules = try XCTUnwrap(s.allowTransfer)
        XCTAssertEqual(rules.count, 3)
        let key = c.server.transfer.keyring.key(named: try DNSName("transfer-key."))
        let inside = ClientAddress("192.0.2.9")!, outside = ClientAddress("203.0.113.1")!
        XCTAssertTrue(rules[0].matches(client: inside, key: key))
        XCTAssertFalse(rules[0].matches(client: inside, key: nil))
        XCTAssertFalse(rules[0].matches(client: outside, key: key))
        XCTAssertTrue(rules[1].matches(client: outside, key: c.server.transfer.keyring.key(named: try DNSName("old."))))
        XCTAssertTrue(rules[2].matches(client: ClientAddress("198.51.100.7")!, key: nil))
        XCTAssertNil(c.server.transfer.settings(for: try DNSName("plain.test.")).allowTransfer)
    }

    func testTopLevelNotifyAndAllowTransferAreEveryOtherZonesDefaults() throws {
        let c = try load(keys + """
        notify: ["192.0.2.53:5300"]
        allow-transfer:
          - key: transfer-key
        zones:
          - name: own.test
            file: own.zone
            notify: ["198.51.100.1"]
          - name: plain.test
            file: plain.zone
        """)
        // A zone made through the API (not in the file) gets the top-level settings.
        let api = c.server.transfer.settings(for: try DNSName("api.test."))
        XCTAssertEqual(api.notify.map(\.description), ["192.0.2.53:5300"])
        XCTAssertEqual(api.allowTransfer?.count, 1)
        let own = c.server.transfer.settings(for: try DNSName("own.test."))
        XCTAssertEqual(own.notify.map(\.description), ["198.51.100.1:53"])
        XCTAssertEqual(own.allowTransfer?.count, 1)  // its own notify, the default allow-transfer
        XCTAssertEqual(c.server.transfer.settings(for: try DNSName("plain.test.")).notify.count, 1)
        XCTAssertTrue(error("""
        allow-transfer:
          - key: nowhere
        """).contains("allow-transfer: key 'nowhere.' is not defined under 'keys'"))
    }

    func testErrorsNameKeyAndLine() {
        XCTAssertTrue(error("""
        zones:
          - name: a.test
            file: a.zone
            allow-transfer:
              - key: nowhere
        """).contains("key 'nowhere.' is not defined under 'keys'"))
        XCTAssertTrue(error("""
        keys:
          - name: k
            algorithm: hmac-sha224
            secret: AAAA
        """).contains("keys[0]: unknown TSIG algorithm 'hmac-sha224'"))
        XCTAssertTrue(error("""
        keys:
          - name: k
            secret: "not base64!"
        """).contains("is not base64"))
        XCTAssertTrue(error(keys + """
        zones:
          - name: a.test
            file: a.zone
            notify:
              - address: 192.0.2.300
        """).contains("zones[0].notify[0].address"))
        XCTAssertTrue(error("""
        zones:
          - name: a.test
            file: a.zone
            allow-transfer:
              - adress: 192.0.2.0/24
        """).contains("zones[0].allow-transfer[0].adress: unknown key"))
        XCTAssertTrue(error("journal-size: 12").contains("journal-size"))
    }
}
