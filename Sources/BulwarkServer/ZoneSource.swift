// The zone files a server loads: named one by one or found in a zones directory.
import BulwarkSettings
import BulwarkWire
import Foundation

/// A zone to serve and the file it is read from.
public struct ZoneSource: Hashable, Sendable, CustomStringConvertible {
    public var name: DNSName
    /// The zone file; for an embedded zone, a label used in messages.
    public var path: String
    /// Zone-file text to read instead of `path` (the embedded example zone).
    public var text: String?
    public init(name: DNSName, path: String, text: String? = nil) {
        self.name = name
        self.path = path
        self.text = text
    }
    public var description: String { "\(name) from \(path)" }

    /// Parses the `--zone NAME=PATH` form.
    public init(flag: String) throws(ConfigError) {
        guard let eq = flag.firstIndex(of: "="), eq != flag.startIndex, flag.index(after: eq) != flag.endIndex else {
            throw ConfigError(key: "--zone", "'\(flag)': expected NAME=PATH, e.g. example.com=zones/example.com.zone")
        }
        let nameText = String(flag[..<eq])
        do {
            self.name = try ZoneSource.zoneName(nameText)
        } catch {
            throw ConfigError(key: "--zone", "'\(nameText)' is not a valid zone name: \(error)")
        }
        self.path = String(flag[flag.index(after: eq)...])
    }

    /// A zone name as an operator writes it: relative names are taken as absolute.
    public static func zoneName(_ text: String) throws -> DNSName {
        let t = text.hasSuffix(".") ? text : text + "."
        return try DNSName(t)
    }
}

/// `--zones-dir`: each file `NAME.zone` is zone NAME; `root.zone` is the root zone.
public enum ZonesDirectory {
    public static let suffix = ".zone"

    /// The zone a file name stands for, or nil when it is not a zone file.
    public static func zoneName(forFileName fileName: String) -> DNSName? {
        guard fileName.hasSuffix(suffix), !fileName.hasPrefix(".") else { return nil }
        let stem = String(fileName.dropLast(suffix.count))
        guard !stem.isEmpty else { return nil }
        if stem == "root" || stem == "." { return .root }
        guard !stem.hasSuffix(".") else { return nil }  // `example.com..zone`
        return try? DNSName(stem + ".")
    }

    /// The zone files in `directory`, sorted by name.
    public static func scan(_ directory: String) throws(ConfigError) -> [ZoneSource] {
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ConfigError(key: "zones-dir", "cannot read directory '\(directory)': \(error.localizedDescription)")
        }
        var out: [ZoneSource] = []
        for entry in entries.sorted() {
            guard let name = zoneName(forFileName: entry) else { continue }
            out.append(ZoneSource(name: name, path: directory.hasSuffix("/") ? directory + entry : directory + "/" + entry))
        }
        return out
    }
}
