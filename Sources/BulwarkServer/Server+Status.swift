// The server as the ops endpoint sees it (BulwarkOps.ServerStatusSource).
import BulwarkDefences
import BulwarkOps

extension DNSServer: ServerStatusSource {
    public func currentFigures() -> ServerFigures {
        var f = ServerFigures()
        let udp = udp.totals
        f.udpReceived = udp.received
        f.udpSent = udp.sent
        f.udpDropped = udp.dropped
        (f.udpFairQueuesActive, f.udpFairQueueSwitches) = self.udp.fairQueues
        let limits = tcp.limitCounters
        f.tcpOpen = tcp.connectionCount
        f.tcpAccepted = tcp.acceptedCount
        f.tcpRefusedFull = limits.refusedFull
        f.tcpRefusedPerClient = limits.refusedPerClient
        f.tcpEvicted = limits.evicted
        f.tcpIOTimeouts = limits.ioTimeouts
        f.zones = catalog.all.map {
            ServerFigures.ZoneInfo(name: $0.name.description, serial: $0.zone.serial, provenance: $0.provenance.rawValue)
        }
        return f
    }

    public var listenDescriptions: [String] { boundAddresses.map(\.description) }

    public var udpWorkers: Int { config.workers }

    public var rateLimitSettings: RateLimitSettings? { config.defences.rateLimit }
}
