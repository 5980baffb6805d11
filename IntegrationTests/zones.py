"""Test zones, written by the tests themselves.

Two zone sets, each served by its own trio of servers (NSD, Knot, Bulwark),
because both contain a zone named `example.`:

  MAIN     example.        the parent: every record type the core must serve,
                           delegations, CNAME chains, DNAME, wildcards, empty
                           non-terminals, mixed case, large RRsets
           sub.example.    a child zone hosted on the same server (the longest
                           match answers); `example.` delegates it with DS
           other.test.     an unrelated hosted zone (CNAME chains into it)
  RFC4592  example.        RFC 4592 section 2.2.1 verbatim (the two <RDATA>
                           placeholders filled in, nothing else changed)
  EDGES    edge.test.      the additional section's edges: RFC 9471 glue, SVCB/HTTPS

`write_zone_set(name, directory)` writes `<zone>.zone` files there and returns
[(zone name, path)]. The texts are plain strings so a reader sees exactly what
the servers load.
"""
import os

# 64-byte keys and 32-byte digests; content is arbitrary but well-formed.
_KEY = ("KvipEEs/ZO1kDYx+KY0tSA8Do2EMvCszR0Mh7FkCSkhZ"
        "LqhUXkHgnV0RCHWd9I7eAFTyJd851PDzEkUOCqndJQ==")
_SHA256 = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"


def _big_txt():
    return "".join(
        f'big             TXT   "big RRset record {i:02d}: padding to push the set past 512 octets"\n'
        for i in range(30))


def _big_a():
    return "".join(f"biga            A     198.51.100.{i}\n" for i in range(1, 41))


EXAMPLE = r"""$ORIGIN example.
$TTL 3600
@               SOA   ns1.example. hostmaster.example. 2026112501 7200 3600 1209600 300
@               NS    ns1.example.
@               NS    ns2.example.net.
@               MX    10 mail.example.
@               TXT   "v=spf1 -all"
@               DNSKEY 257 3 13 """ + _KEY + r"""
ns1             A     192.0.2.1
ns1             AAAA  2001:db8::1
mail            A     192.0.2.25
www             A     192.0.2.80
www             AAAA  2001:db8::80
_443._tcp.www   TLSA  3 1 1 """ + _SHA256 + r"""

; one owner with many types
types     300   A     192.0.2.10
types           AAAA  2001:db8::10
types           MX    10 mail.example.
types           MX    20 mx.example.net.
types     60    TXT   "first string" "second \"quoted\" string" "semi\;colon" "\065\066C\255" ""
types     60    TXT   "a second TXT record"
types           SRV   10 60 5060 sip.example.
types           NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.example.
types           NAPTR 100 20 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .
types           CAA   0 issue "ca.example.net"
types           CAA   128 tbs "Unknown"
types           HINFO "Generic PC" "Linux"
types           SSHFP 1 1 123456789abcdef67890123456789abcdef67890
types           SSHFP 4 2 """ + _SHA256 + r"""
types           SVCB  1 svc.example. alpn=h2,h3 port=8443
types           HTTPS 1 . alpn=h2 ipv4hint=192.0.2.1
types           RP    hostmaster.example. www.example.
types           LOC   52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
types           URI   10 1 "https://example.com/"
types           PTR   www.example.
types           TYPE65280 \# 4 0a000001
types           TYPE65281 \# 0
svc             A     192.0.2.11

; delegations: the hosted child (with DS), in-bailiwick glue, mixed, out-of-bailiwick only, sibling
sub             NS    ns1.sub.example.
sub             NS    ns2.example.net.
sub             DS    12345 13 2 """ + _SHA256 + r"""
ns1.sub         A     192.0.2.53
deleg           NS    ns.deleg.example.
deleg           NS    ns.example.net.
ns.deleg        A     192.0.2.54
ns.deleg        AAAA  2001:db8::54
*.deleg         A     192.0.2.55
below.deleg     TXT   "occluded by the delegation"
outdeleg        NS    ns1.example.org.
outdeleg        NS    ns2.example.org.
sibling         NS    ns.deleg.example.
sibling         NS    ns1.example.

; CNAME chains: in the zone, into the hosted child, into another hosted zone,
; out of every zone, below a delegation, to a missing name, loops
alias1          CNAME alias2
alias2          CNAME www
tosub           CNAME host.sub.example.
toother         CNAME www.other.test.
toout           CNAME www.example.net.
todeleg         CNAME host.deleg.example.
tonx            CNAME nothere.example.
towild          CNAME foo.wild.example.
toent           CNAME c.ent.example.
loop1           CNAME loop2
loop2           CNAME loop1
selfloop        CNAME selfloop

; DNAME
dname           DNAME target.example.
dname           TXT   "DNAME owner may have other data"
a.target        A     192.0.2.91
b.target        CNAME www.example.
dnameout        DNAME example.net.
dnameother      DNAME other.test.

; empty non-terminals: ent, c.ent, b.c.ent (and _tcp.www above)
a.b.c.ent       A     192.0.2.7

; wildcards
*.wild          A     192.0.2.99
*.wild          TXT   "wildcard"
*.wild          MX    10 mail.example.
sub.*.wild      TXT   "not a wildcard"
explicit.wild   A     192.0.2.100
x.ent.wild      A     192.0.2.101
*.wcname        CNAME www.example.
*.wcchain       CNAME alias1.example.
*.wcout         CNAME www.example.net.
*.wcloop        CNAME loop.wcloop.example.

; names written with upper case
MiXeD           A     192.0.2.77
UPPER.Case      TXT   "upper"
lower           CNAME MiXeD.EXAMPLE.

; large RRsets: do not fit 512 octets
""" + _big_txt() + _big_a()

SUB = r"""$ORIGIN sub.example.
$TTL 1800
@               SOA   ns1.sub.example. hostmaster.sub.example. 1 7200 3600 1209600 600
@               NS    ns1.sub.example.
@               NS    ns2.example.net.
@               DNSKEY 257 3 13 """ + _KEY + r"""
ns1             A     192.0.2.53
host            A     192.0.2.60
www             A     192.0.2.61
back            CNAME www.example.
*.wild          AAAA  2001:db8::62
"""

OTHER = r"""$ORIGIN other.test.
$TTL 7200
@               SOA   ns.other.test. hostmaster.other.test. 7 7200 3600 1209600 900
@               NS    ns.other.test.
ns              A     192.0.2.70
www             A     192.0.2.71
back            CNAME alias1.example.
"""

# RFC 4592 section 2.2.1, verbatim except for <SOA RDATA> and <SRV RDATA>.
RFC4592 = r"""$ORIGIN example.
example.                 3600 IN  SOA   ns.example.com. hostmaster.example.com. 1 3600 600 86400 3600
example.                 3600     NS    ns.example.com.
example.                 3600     NS    ns.example.net.
*.example.               3600     TXT   "this is a wildcard"
*.example.               3600     MX    10 host1.example.
sub.*.example.           3600     TXT   "this is not a wildcard"
host1.example.           3600     A     192.0.2.1
_ssh._tcp.host1.example. 3600     SRV   0 0 22 host1.example.
_ssh._tcp.host2.example. 3600     SRV   0 0 22 host2.example.
subdel.example.          3600     NS    ns.example.com.
subdel.example.          3600     NS    ns.example.net.
"""

# Edges of the additional section: RFC 9471 glue (optional glue listed before the
# glue below the cut; glue that cannot fit 512 octets), RFC 9460 SVCB/HTTPS targets.
EDGE = r"""$ORIGIN edge.test.
$TTL 3600
@       SOA   ns1.edge.test. hostmaster.edge.test. 1 7200 3600 1209600 300
@       NS    ns1.edge.test.
ns1     A     192.0.2.1
d1      NS    o1.edge.test.
d1      NS    o2.edge.test.
d1      NS    o3.edge.test.
d1      NS    o4.edge.test.
d1      NS    zz.d1.edge.test.
o1      A     192.0.2.11
o1      A     192.0.2.12
o1      A     192.0.2.13
o1      AAAA  2001:db8::11
o1      AAAA  2001:db8::12
o2      A     192.0.2.21
o2      A     192.0.2.22
o2      A     192.0.2.23
o2      AAAA  2001:db8::21
o2      AAAA  2001:db8::22
o3      A     192.0.2.31
o3      A     192.0.2.32
o3      A     192.0.2.33
o3      AAAA  2001:db8::31
o3      AAAA  2001:db8::32
o4      A     192.0.2.41
o4      A     192.0.2.42
o4      A     192.0.2.43
o4      AAAA  2001:db8::41
o4      AAAA  2001:db8::42
zz.d1   A     192.0.2.53
zz.d1   AAAA  2001:db8::53
d2      NS    ns.d2.edge.test.
ns.d2   A     192.0.2.99
""" + "".join(f"ns.d2   AAAA  2001:db8::1:{i:x}\n" for i in range(1, 19)) + r"""
svc1    HTTPS 1 . alpn=h2
svc1    A     192.0.2.61
svc1    AAAA  2001:db8::61
svc2    HTTPS 0 svc1.edge.test.
svc3    SVCB  1 api.edge.test. port=8443
svc3    SVCB  2 api2.edge.test. port=8443
api     A     192.0.2.62
api2    AAAA  2001:db8::63
svc4    HTTPS 0 .
svc4    A     192.0.2.64
svc5    SVCB  0 svc3.edge.test.
svc6    HTTPS 1 out.example.net.
"""

ZONE_SETS = {
    "main": [("example.", EXAMPLE), ("sub.example.", SUB), ("other.test.", OTHER)],
    "rfc4592": [("example.", RFC4592)],
    "edges": [("edge.test.", EDGE)],
}

# Zone used by the reload tests (served by its own Bulwark instance).
RELOAD_TEMPLATE = r"""$ORIGIN reload.test.
$TTL 60
@               SOA   ns.reload.test. hostmaster.reload.test. {serial} 7200 3600 1209600 60
@               NS    ns.reload.test.
ns              A     192.0.2.1
version         TXT   "{version}"
"""


def zone_file_name(zone):
    return "root.zone" if zone == "." else zone.rstrip(".") + ".zone"


def write_zone_set(name, directory):
    os.makedirs(directory, exist_ok=True)
    out = []
    for zone, text in ZONE_SETS[name]:
        path = os.path.join(directory, zone_file_name(zone))
        with open(path, "w") as f:
            f.write(text)
        out.append((zone, path))
    return out
