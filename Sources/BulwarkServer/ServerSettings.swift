// The DNS server's settings: listen addresses, workers, transports, zones, defences,
// replication. BulwarkConfig reads them from the configuration file and the flags.
import BulwarkDefences
import BulwarkOps
import BulwarkSettings
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The DNS server's settings.
public struct ServerSettings: Sendable, Equatable {
    public static let defaultListen = ["0.0.0.0:53", "[::]:53"]
    public static let exampleListen = ["127.0.0.1:5353"]

    public var listen: [ListenAddress] = []
    /// `listen` is the built-in default (an unavailable IPv6 is then not fatal).
    public var listenIsDefault = false
    /// UDP worker threads per listen address (SO_REUSEPORT sockets).
    public var workers: Int = ServerSettings.defaultWorkers
    /// Largest UDP response we send (RFC 6891 §6.2.5); 1232 per DNS Flag Day 2020.
    public var maxUDPSize: Int = 1232
    /// Bytes of queries the kernel may queue on each UDP socket (SO_RCVBUF; NSD's
    /// `so-rcvbuf`). Larger absorbs bursts; under a flood beyond what a worker answers it
    /// is only waiting time, since every queued query waits behind the whole queue.
    public var udpReceiveBuffer: Int = ServerSettings.defaultUDPReceiveBuffer
    public static let defaultUDPReceiveBuffer = 4 << 20
    /// Sockets per UDP worker (fair queues, FairQueues.swift). With more than one, a
    /// saturated worker has the kernel spread queries over them by client prefix and
    /// reads them in turn, so a flooding prefix waits behind itself, not in front of
    /// others; when calm, every query goes to the first socket (no cost). 1: off.
    public var udpQueues: Int = 4
    /// Seconds a TCP connection may stay idle (RFC 7766 §6.2.3); NSD's default is 10.
    public var tcpIdleTimeout: Double = 10
    /// Concurrent TCP connections accepted across all listen addresses.
    public var tcpMaxConnections: Int = 1000
    /// Concurrent TCP connections one client address may hold.
    public var tcpMaxConnectionsPerClient: Int = 10
    /// Seconds from the first octet of a TCP query to its last (slowloris; Knot's tcp-io-timeout).
    public var tcpIOTimeout: Double = 2
    /// Answers waiting to be written on one TCP connection before reading pauses.
    public var tcpMaxInflight: Int = 64
    /// Directory whose `NAME.zone` files are zones NAME (re-scanned on reload).
    public var zonesDir: String?
    /// Zones named one by one; they win over a zones-dir file of the same name.
    public var zones: [ZoneSource] = []
    /// Where the server keeps its state: transfer journals, secondary zones' copies,
    /// the control plane's SQLite database. Created on first use.
    public var dataDir: String = ServerSettings.defaultDataDir
    public static let defaultDataDir = "bulwark-data"
    /// Access lists, DNS cookies, response rate limiting.
    public var defences = DefenceSettings()
    /// TSIG keys, NOTIFY targets, allow-transfer, journal size (TransferSettings.swift).
    public var transfer = TransferSettings()
    /// Counting of queries for the ops endpoint; nil: nothing is counted (the ops
    /// endpoint is off).
    public var counting: CountingSettings? = CountingSettings()
    /// Zones transferred in from primaries (Secondary/SecondaryZoneConfig.swift).
    public var secondaryZones: [SecondaryZoneConfig] = []

    public init() {}

    public static var defaultWorkers: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Every zone to load: the zones-dir's files, then the named zones (which replace
    /// a directory zone of the same name). Reads the directory.
    public func zoneSources() throws(ConfigError) -> [ZoneSource] {
        var result: [ZoneSource] = []
        if let zonesDir {
            result = try ZonesDirectory.scan(zonesDir)
        }
        for zone in zones {
            if let i = result.firstIndex(where: { $0.name == zone.name }) {
                result[i] = zone
            } else {
                result.append(zone)
            }
        }
        return result
    }
}
