#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Fuzz/corpus/<target>/) from the zones the
targets answer from (Sources/BulwarkFuzzTargets/Zones/) and the kinds of queries the
conformance tests send. Each file is named by the SHA-1 of its content, as libFuzzer
names what it adds. Run again after changing the zones: files are only ever added.

usage: Fuzz/make-corpus.py
"""
import hashlib
import os
import struct

import dns.edns
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.zone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZONES = os.path.join(ROOT, "Sources", "BulwarkFuzzTargets", "Zones")
OUT = os.path.join(ROOT, "Fuzz", "corpus")


def write(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def queries():
    """Queries over the fuzz zones: every answer class, with and without EDNS, DO,
    cookies, NSID, and malformed ones."""
    out = []
    names = ["www", "alias", "chain", "out", "x.wild", "y.z.wild", "wild", "ent", "c.ent", "a.b.c.ent", "x.dname",
             "sub", "x.sub", "ns.sub", "insecure", "x.insecure", "svc", "alias-svc", "_443._tcp", "big", "nx", "a.nx",
             "h1", "@"]
    types = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "DS", "DNSKEY", "NSEC", "NSEC3", "NSEC3PARAM", "RRSIG", "SVCB",
             "HTTPS", "CNAME", "DNAME", "ANY", "TYPE65535"]
    for zone in ("nsec.fuzz.test.", "nsec3.fuzz.test.", "plain.fuzz.test."):
        for i, n in enumerate(names):
            name = zone if n == "@" else f"{n}.{zone}"
            for j, t in enumerate(types):
                if (i + j) % 3:
                    continue
                q = dns.message.make_query(name, t, want_dnssec=(i + j) % 2 == 0)
                if j % 4 == 1:
                    q.use_edns(False)
                elif j % 4 == 2:
                    q.use_edns(0, payload=4096, options=[dns.edns.GenericOption(10, b"\x01" * 8),
                                                         dns.edns.GenericOption(3, b"")])
                out.append(q.to_wire())
    q = dns.message.make_query("www.plain.fuzz.test.", "A")
    q.set_opcode(dns.opcode.NOTIFY)
    out.append(q.to_wire())
    q = dns.message.make_query("www.plain.fuzz.test.", "A")
    q.set_opcode(dns.opcode.UPDATE)
    out.append(q.to_wire())
    q = dns.message.make_query("plain.fuzz.test.", "IXFR")
    q.authority.append(dns.rrset.from_text("plain.fuzz.test.", 0, "IN", "SOA", ". . 1 0 0 0 0"))
    out.append(q.to_wire())
    out.append(dns.message.make_query("plain.fuzz.test.", "AXFR").to_wire())
    w = dns.message.make_query("www.plain.fuzz.test.", "A").to_wire()
    out += [w[:11], w[:20], w + b"\x00" * 7, w[:2] + b"\x81\x00" + w[4:], w[:4] + b"\x00\x02" + w[6:]]
    # A question name made of a compression pointer (not allowed in a query).
    out.append(w[:12] + b"\xc0\x0c" + w[-4:])
    return out


def zonefiles():
    out = []
    for name in sorted(os.listdir(ZONES)):
        with open(os.path.join(ZONES, name), "rb") as f:
            text = f.read()
        out.append(text)
        lines = text.splitlines(keepends=True)
        out.append(b"".join(lines[:40]))
    out += [
        b"$ORIGIN fuzz.test.\n$TTL 1h30m\n@ IN SOA ns1 h ( 1 2 3 4 5 )\n@ NS ns1\nns1 A 192.0.2.1\n",
        b"@ 60 IN SOA ns1 h 1 2 3 4 5\n@ NS ns1\nx IN TYPE65280 \\# 3 010203\ny IN A \\# 4 C0000201\n",
        b"$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nt TXT \"a\\\"b\" \"\\065\\066\" ( \"c\"\n \"d\" ) ; x\n",
        b"$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n$INCLUDE /etc/passwd\n$ORIGIN sub\nw CNAME @\nw A 1.2.3.4\n",
        b"$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\ns SVCB 1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.1 ech=AAA=\n"
        b"c CAA 0 issue \"ca.example\"\nl LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m\n",
    ]
    return out


KEY = dns.tsigkeyring.from_text({"fuzz-key.": ("hmac-sha256", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")})


def tsig():
    out = []
    for t in ("A", "AXFR", "SOA"):
        q = dns.message.make_query("plain.fuzz.test.", t)
        q.use_tsig(KEY, keyname="fuzz-key.", algorithm="hmac-sha256")
        out.append(q.to_wire())
        q = dns.message.make_query("plain.fuzz.test.", t)
        q.use_tsig(dns.tsigkeyring.from_text({"other.": "AAAA"}), keyname="other.", algorithm="hmac-sha1")
        out.append(q.to_wire())
    w = out[0]
    out += [w[:-10], w[:-1] + b"\x01", w + b"\x00"]
    return out


def frame(messages, ixfr):
    return bytes([1 if ixfr else 0]) + b"".join(struct.pack("!H", len(m)) + m for m in messages)


def xfr():
    zone = dns.zone.from_file(os.path.join(ZONES, "plain.fuzz.test.zone"), "plain.fuzz.test.", relativize=False)
    origin = dns.name.from_text("plain.fuzz.test.")
    soa = zone.get_rrset(origin, "SOA")
    rrsets = []
    for name, node in zone.nodes.items():
        for rds in node.rdatasets:
            if rds.rdtype == dns.rdatatype.SOA:
                continue
            r = dns.rrset.RRset(name, rds.rdclass, rds.rdtype)
            r.update(rds)
            rrsets.append(r)
    out = []
    q = dns.message.make_query(origin, "AXFR")
    # AXFR in one message and in three.
    m = dns.message.make_response(q)
    m.answer = [soa] + rrsets + [soa]
    out.append(frame([m.to_wire(max_size=65535)], False))
    parts = [rrsets[: len(rrsets) // 2], rrsets[len(rrsets) // 2:]]
    msgs = []
    for i, chunk in enumerate([[soa] + parts[0], parts[1], [soa]]):
        m = dns.message.make_response(q)
        m.answer = chunk
        msgs.append(m.to_wire(max_size=65535))
    out.append(frame(msgs, False))
    # IXFR from the zone's serial to the next: one record replaced.
    serial = soa[0].serial
    new_soa = dns.rrset.from_text(origin, 300, "IN", "SOA", f"ns1.plain.fuzz.test. hostmaster.plain.fuzz.test. {serial + 1} 7200 3600 1209600 300")
    old = dns.rrset.from_text(f"www.{origin}", 300, "IN", "A", "192.0.2.80")
    new = dns.rrset.from_text(f"www.{origin}", 300, "IN", "A", "192.0.2.81")
    q = dns.message.make_query(origin, "IXFR")
    m = dns.message.make_response(q)
    m.answer = [new_soa, soa, old, new_soa, new, new_soa]
    out.append(frame([m.to_wire(max_size=65535)], True))
    m = dns.message.make_response(q)
    m.answer = [soa]
    out.append(frame([m.to_wire()], True))
    return out


def json_bodies():
    return [
        b'{"changes": [{"action": "replace", "name": "www", "type": "A", "ttl": 60, "records": ["192.0.2.9"]}]}',
        b'{"changes": [{"action": "delete", "name": "www", "type": "A"}, {"action": "replace", "name": "alias2", '
        b'"type": "CNAME", "records": ["www"]}]}',
        b'{"changes": [{"action": "replace", "name": "@", "type": "MX", "ttl": 300, "records": ["10 mail", "20 mail2."]}]}',
        b'{"changes": [{"action": "replace", "name": "t", "type": "TXT", "records": ["\\"a b\\" \\"\\\\065\\"", "x"]}]}',
        b'{"changes": [{"action": "replace", "name": "www", "type": "CNAME", "records": ["alias"]}]}',
        b'{"changes": [{"action": "replace", "name": "s", "type": "SVCB", "records": ["1 . alpn=h2 port=8443"]}]}',
        b'{"changes": []}', b'{"changes": {}}', b'[]', b'{', b'{"changes": [{"action": "replace"}]}',
    ]


def main():
    for q in queries():
        write("query", q)
        write("respond", q)
    for z in zonefiles():
        write("zonefile", z)
    for t in tsig():
        write("tsig", t)
    for x in xfr():
        write("xfr", x)
    for j in json_bodies():
        write("json", j)
    for target in sorted(os.listdir(OUT)):
        print(f"{target}: {len(os.listdir(os.path.join(OUT, target)))} files")


if __name__ == "__main__":
    main()
