import BulwarkSettings

/// Settings of the control plane's HTTP API (the BulwarkControl module runs it).
public struct APISettings: Sendable, Equatable {
    public static let defaultListen = "127.0.0.1:8053"
    /// Where the API listens; nil when it is off.
    public var listen: ListenAddress? = try! ListenAddress(parsing: APISettings.defaultListen)
    /// `listen` is the built-in default: when its port is taken the server still starts
    /// (DNS only) and says so, so that several servers can run on one host.
    public var listenIsDefault = true
    /// The database: `sqlite` (the default: `<data-dir>/control.sqlite`), `sqlite:PATH`
    /// or a PostgreSQL URL (`postgres://USER@HOST:PORT/DATABASE`, see `PostgresURL`).
    public var database: String = "sqlite"
    /// Largest request body in octets (413 beyond).
    public var maxBodyBytes: Int = 4 << 20
    /// Requests per second per key (token bucket; 0 = unlimited) and the burst allowed.
    public var rateLimit: Double = 50
    public var rateBurst: Double = 100

    public init() {}

    /// The SQLite file, or nil when `database` names another backend.
    public func sqlitePath(dataDir: String) -> String? {
        if database == "sqlite" { return dataDir + "/control.sqlite" }
        if database.hasPrefix("sqlite:") { return String(database.dropFirst("sqlite:".count)) }
        return nil
    }
}
