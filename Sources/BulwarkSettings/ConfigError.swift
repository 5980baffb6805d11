/// What is wrong with the configuration, and where.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// The file, when the error is in one.
    public var file: String?
    /// 1-based line in `file`, when known.
    public var line: Int?
    /// The key (`workers`, `zones[2].file`) or flag (`--zone`), when the error concerns one.
    public var key: String?
    public var message: String

    public init(file: String? = nil, line: Int? = nil, key: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var s = ""
        if let file {
            s += file
            if let line { s += ":\(line)" }
            s += ": "
        }
        if let key { s += "\(key): " }
        return s + message
    }
}
