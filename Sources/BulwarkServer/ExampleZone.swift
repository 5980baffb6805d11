// The zone served by `bulwark serve --example`: the README's quick start.
import BulwarkWire

public enum ExampleZone {
    public static let name = "example.com."

    /// A small but complete zone: SOA, apex NS/MX/TXT/A/AAAA, hosts, a CNAME, a
    /// wildcard (RFC 4592) and a delegation with glue (RFC 1034 §4.2.1).
    public static let text = """
    $ORIGIN example.com.
    $TTL 3600
    @               IN SOA    ns1.example.com. hostmaster.example.com. (
                              2024060101 ; serial
                              7200       ; refresh
                              3600       ; retry
                              1209600    ; expire
                              300 )      ; minimum: negative answers are cached this long
    @               IN NS     ns1.example.com.
    @               IN NS     ns2.example.com.
    @               IN MX     10 mail.example.com.
    @               IN MX     20 mail2.example.com.
    @               IN TXT    "v=spf1 mx -all"
    @               IN A      192.0.2.1
    @               IN AAAA   2001:db8::1
    ns1             IN A      192.0.2.53
    ns1             IN AAAA   2001:db8::53
    ns2             IN A      198.51.100.53
    ns2             IN AAAA   2001:db8:1::53
    www             IN A      192.0.2.80
    www             IN AAAA   2001:db8::80
    mail            IN A      192.0.2.25
    mail2           IN A      198.51.100.25
    ftp             IN CNAME  www.example.com.
    blog    300     IN CNAME  www
    *.apps          IN A      192.0.2.100
    *.apps          IN TXT    "wildcard: any name under apps.example.com"
    dept            IN NS     ns1.dept.example.com.
    dept            IN NS     ns2.dept.example.com.
    ns1.dept        IN A      192.0.2.200
    ns2.dept        IN A      192.0.2.201
    ns2.dept        IN AAAA   2001:db8::201

    """

    public static var source: ZoneSource {
        ZoneSource(name: try! DNSName(name), path: "<embedded example.com zone>", text: text)
    }

    /// What `serve --example` prints once it is listening.
    public static func banner(port: Int, host: String) -> String {
        let at = host  // dig takes IPv6 addresses without brackets
        return """
        Bulwark is serving the example zone example.com. on \(host) port \(port) (UDP and TCP).
        Try:
          dig @\(at) -p \(port) www.example.com A
          dig @\(at) -p \(port) example.com MX
          dig @\(at) -p \(port) anything.apps.example.com TXT      (wildcard)
          dig @\(at) -p \(port) host.dept.example.com A            (delegation: referral with glue)
          dig @\(at) -p \(port) +tcp example.com SOA
        Stop with Ctrl-C.
        """
    }
}
