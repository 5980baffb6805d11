// The fixture shared by the configuration tests: a temporary directory of their own, and
// `load`, which reads a YAML text through a file in it as `bulwark serve --config` would.
import BulwarkConfig
import Foundation
import XCTest

class ConfigTestCase: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "bulwark-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Writes `text` to `name` in the directory; returns its path.
    func write(_ text: String, _ name: String = "bulwark.yaml") throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The configuration from `yaml` (nil: no file) and `overrides`.
    func load(_ yaml: String?, _ overrides: ConfigOverrides = ConfigOverrides()) throws -> Configuration {
        try Configuration.load(configFile: try yaml.map { try write($0) }, overrides: overrides)
    }
}
