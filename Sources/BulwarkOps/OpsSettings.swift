// Settings of operations: the ops HTTP endpoint, counting and sampling, log rate
// limiting and the sampled query log (the `ops:` section, read by BulwarkConfig).
import BulwarkSettings

public struct OpsSettings: Sendable, Equatable {
    public static let defaultListen = "127.0.0.1:9153"
    /// nil: no ops endpoint, and no counting at all (the workers get no counters).
    public var listen: ListenAddress? = try! ListenAddress(parsing: OpsSettings.defaultListen)
    public var sampleEvery: Int = 16
    /// Log lines per second (burst 4×); 0: unlimited.
    public var logRate: Int = 50
    public var queryLog: String?
    public var queryLogLinesPerSecond: Int = 100
    public var queryLogMaxSize: Int = 64 << 20
    public init() {}
}
