"""Bulwark as a primary (RFC 5936 AXFR, RFC 1995 IXFR, RFC 1996 NOTIFY, RFC 8945 TSIG).

Knot and NSD run as secondaries of Bulwark with TSIG (hmac-sha256): they receive
the zone by AXFR; the zone file is edited and Bulwark gets SIGHUP, NOTIFYs them,
and they fetch the change by IXFR and answer the new data. dnspython and kdig
then check each TSIG algorithm, the TSIG errors (BADKEY, BADSIG, BADTIME), the
transfer ACL, IXFR over UDP, and the AXFR fallback when the journal cannot reach
the serial asked.
"""
import base64
import os
import re
import signal
import socket
import subprocess
import time

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig
import pytest

import servers
from conftest import SUBJECT, require_tools, start_bulwark, stop_bulwark

ZONE = "xfr.test."
SECRET = base64.b64encode(bytes(range(40, 72))).decode()
ALGORITHMS = {
    "hmac-md5": dns.tsig.HMAC_MD5, "hmac-sha1": dns.tsig.HMAC_SHA1, "hmac-sha256": dns.tsig.HMAC_SHA256,
    "hmac-sha384": dns.tsig.HMAC_SHA384, "hmac-sha512": dns.tsig.HMAC_SHA512,
}
KEY = "transfer-key."  # hmac-sha256, what Knot and NSD use
BULK = 2500  # records enough for an AXFR of several 64 KiB messages


def zone_text(serial, www="192.0.2.80", extra=""):
    lines = [
        f"$ORIGIN {ZONE}", "$TTL 300",
        f"@ IN SOA ns1.{ZONE} hostmaster.{ZONE} {serial} 3600 600 86400 300",
        f"@ IN NS ns1.{ZONE}", "ns1 IN A 192.0.2.53", f"www IN A {www}",
        "mail IN MX 10 www", 'info IN TXT "first version"',
    ]
    lines += [f"h{i} IN A 198.51.{i // 250}.{i % 250}" for i in range(BULK)]
    return "\n".join(lines) + "\n" + extra


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def keyring(name=KEY, alg="hmac-sha256", secret=SECRET):
    return {dns.name.from_text(name): dns.tsig.Key(name, secret, ALGORITHMS[alg])}


def bulwark_config(path, zone_file, data_dir, notify=(), journal_size=None):
    keys = [f"  - name: {KEY}\n    algorithm: hmac-sha256\n    secret: {SECRET}"]
    allow = ["      - address: 127.0.0.1/32\n        key: " + KEY]
    for alg in ALGORITHMS:
        keys.append(f"  - name: key-{alg}\n    algorithm: {alg}\n    secret: {SECRET}")
        allow.append(f"      - key: key-{alg}")
    text = "keys:\n" + "\n".join(keys) + "\n"
    text += f"data-dir: {data_dir}\n"
    if journal_size:
        text += f"journal-size: {journal_size}\n"
    text += f"zones:\n  - name: {ZONE}\n    file: {zone_file}\n"
    if notify:
        text += "    notify:\n" + "".join(f"      - address: 127.0.0.1:{p}\n        key: {KEY}\n" for p in notify)
    text += "    allow-transfer:\n" + "\n".join(allow) + "\n"
    write(path, text)


class KnotSecondary(servers.PidFileServer):
    name = "knot-secondary"

    def __init__(self, port, workdir, primary_port):
        super().__init__(port, os.path.join(workdir, "knot2"), "knot-secondary")
        w = self.workdir
        os.makedirs(os.path.join(w, "db"), exist_ok=True)
        self._config_files("knot")
        write(self.conf, "\n".join(servers.knot_server_conf(self, "info")) + f"""
key:
  - id: {KEY}
    algorithm: hmac-sha256
    secret: {SECRET}
remote:
  - id: bulwark
    address: 127.0.0.1@{primary_port}
    key: {KEY}
acl:
  - id: notify-from-bulwark
    address: 127.0.0.1
    key: {KEY}
    action: notify
template:
  - id: default
    storage: "{w}"
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: "{ZONE}"
    master: bulwark
    acl: notify-from-bulwark
""")

    def start(self):
        return self._start_daemon(["knotd", "-d", "-c", self.conf])


class NSDSecondary(servers.PidFileServer):
    name = "nsd-secondary"

    def __init__(self, port, workdir, primary_port):
        super().__init__(port, os.path.join(workdir, "nsd2"), "nsd-secondary")
        w = self.workdir
        os.makedirs(w, exist_ok=True)
        self._config_files("nsd")
        write(self.conf, f"""server:
  ip-address: 127.0.0.1@{port}
  server-count: 1
  username: ""
  database: ""
  zonesdir: "{w}"
  zonelistfile: "{w}/zone.list"
  xfrdfile: "{w}/xfrd.state"
  xfrdir: "{w}"
  pidfile: "{self.pidfile}"
  logfile: "{self.logfile}"
  verbosity: 2
  rrl-ratelimit: 0
remote-control:
  control-enable: no
key:
  name: "{KEY}"
  algorithm: hmac-sha256
  secret: "{SECRET}"
zone:
  name: "{ZONE}"
  zonefile: "{w}/xfr.test.zone"
  allow-notify: 127.0.0.1 {KEY}
  request-xfr: 127.0.0.1@{primary_port} {KEY}
""")

    def start(self):
        return self._start_daemon(["nsd", "-c", self.conf])


def soa_serial(addr, timeout=0.5):
    q = dns.message.make_query(ZONE, "SOA")
    try:
        r = dns.query.udp(q, addr[0], port=addr[1], timeout=timeout)
    except (dns.exception.Timeout, OSError):
        return None
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    return None


def wait_serial(server, serial, limit=40.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        if soa_serial(server.addr) == serial:
            return True
        time.sleep(0.2)
    return False


def a_of(addr, name):
    r = dns.query.udp(dns.message.make_query(name, "A"), addr[0], port=addr[1], timeout=2)
    return sorted(rr.address for rrset in r.answer for rr in rrset)


def log_text(b):
    with open(b.logfile, errors="replace") as f:
        return f.read()


@pytest.fixture(scope="module")
def primary(bulwark_bin, workdir, taken_ports):
    if SUBJECT != "bulwark":
        pytest.skip(f"Bulwark-specific test; BULWARK_TEST_SUBJECT={SUBJECT}")
    require_tools()
    d = os.path.join(workdir, "xfr-primary")
    os.makedirs(d, exist_ok=True)
    zone_file = os.path.join(d, "xfr.test.zone")
    write(zone_file, zone_text(1))
    knot_port = servers.pick_port(0, taken_ports)
    nsd_port = servers.pick_port(0, taken_ports)
    config = os.path.join(d, "bulwark.yaml")
    bulwark_config(config, zone_file, os.path.join(d, "data"), notify=(knot_port, nsd_port))
    b = start_bulwark(bulwark_bin, d, [], 0, taken_ports, extra_args=["--config", config],
                      tag="bulwark-xfr-primary", wait_zone=ZONE)
    knot = KnotSecondary(knot_port, d, b.port)
    nsd = NSDSecondary(nsd_port, d, b.port)
    started = []
    try:
        for s in (knot, nsd):
            s.start()
            started.append(s)
        yield b, zone_file, knot, nsd
    finally:
        for s in started:
            s.stop()
        stop_bulwark(b)


def test_secondaries_get_axfr_then_ixfr_after_sighup(primary):
    b, zone_file, knot, nsd = primary
    for s in (knot, nsd):
        assert wait_serial(s, 1), f"{s.name} did not load serial 1 by AXFR\n{s.log_tail()}\n{b.log_tail()}"
        assert a_of(s.addr, "www." + ZONE) == ["192.0.2.80"]
        assert a_of(s.addr, f"h{BULK - 1}.{ZONE}") == [f"198.51.{(BULK - 1) // 250}.{(BULK - 1) % 250}"]
    log = log_text(b)
    assert len(re.findall(r"AXFR of xfr\.test\. serial 1 to 127\.0\.0\.1 \(key transfer-key\.\)", log)) >= 2, b.log_tail()

    # The change: www moves, new.xfr.test appears, h0 goes; SIGHUP; Bulwark NOTIFYs both.
    write(zone_file, zone_text(2, www="192.0.2.81", extra="new IN A 203.0.113.7\n").replace(
        "h0 IN A 198.51.0.0\n", ""))
    b.signal(signal.SIGHUP)
    for s in (knot, nsd):
        assert wait_serial(s, 2, limit=30), f"{s.name} did not get serial 2\n{s.log_tail()}\n{b.log_tail()}"
        assert a_of(s.addr, "www." + ZONE) == ["192.0.2.81"]
        assert a_of(s.addr, "new." + ZONE) == ["203.0.113.7"]
        assert a_of(s.addr, "h0." + ZONE) == []
    log = log_text(b)
    # Both fetched the change incrementally, and acknowledged the NOTIFY (TSIG-signed).
    assert len(re.findall(r"IXFR of xfr\.test\. 1 → 2 to 127\.0\.0\.1", log)) >= 2, log[-3000:]
    assert "NOTIFY of xfr.test. serial 2 to 127.0.0.1:%d (key transfer-key.) acknowledged" % knot.port in log
    assert "NOTIFY of xfr.test. serial 2 to 127.0.0.1:%d (key transfer-key.) acknowledged" % nsd.port in log


def xfr(addr, rdtype=dns.rdatatype.AXFR, serial=0, alg="hmac-sha256", name=None, secret=SECRET, udp=False):
    """Transfer with dnspython (TSIG verified message by message); returns (rcode, records)."""
    kname = name or (KEY if alg == "hmac-sha256" else f"key-{alg}.")
    ring = keyring(kname, alg, secret)
    if udp:
        query = dns.message.make_query(ZONE, rdtype)
        if rdtype == dns.rdatatype.IXFR:
            query.authority.append(dns.rrset.from_text(ZONE, 0, "IN", "SOA", f". . {serial} 0 0 0 0"))
        query.use_tsig(ring, kname, algorithm=ALGORITHMS[alg])
        r = dns.query.udp(query, addr[0], port=addr[1], timeout=3, one_rr_per_rrset=True)
        return r.rcode(), [rr for rrset in r.answer for rr in rrset]
    records = []
    rcode = None
    for m in dns.query.xfr(addr[0], ZONE, rdtype=rdtype, port=addr[1], timeout=5, lifetime=20,
                           keyring=ring, keyname=kname, keyalgorithm=ALGORITHMS[alg], serial=serial,
                           relativize=False):
        rcode = m.rcode()
        records += [rr for rrset in m.answer for rr in rrset]
    return rcode, records


@pytest.mark.parametrize("alg", list(ALGORITHMS))
def test_axfr_with_each_tsig_algorithm(primary, alg):
    b, *_ = primary
    rcode, records = xfr(b.addr, alg=alg)
    assert rcode == dns.rcode.NOERROR
    assert records[0].rdtype == dns.rdatatype.SOA and records[-1].rdtype == dns.rdatatype.SOA
    assert len(records) >= BULK  # several messages, each verified by dnspython (RFC 8945 §5.3.1)


def raw_tcp(addr, wire, timeout=5):
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(len(wire).to_bytes(2, "big") + wire)
        n = int.from_bytes(s.recv(2), "big")
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data


def test_wrong_key_name_is_badkey(primary):
    b, *_ = primary
    with pytest.raises(dns.tsig.PeerBadKey):
        xfr(b.addr, name="no-such-key.")


def test_wrong_secret_is_badsig(primary):
    b, *_ = primary
    with pytest.raises(dns.tsig.PeerBadSignature):
        xfr(b.addr, secret=base64.b64encode(b"not the secret at all").decode())


def test_stale_time_is_badtime(primary, monkeypatch):
    b, *_ = primary
    q = dns.message.make_query(ZONE, "AXFR")
    q.use_tsig(keyring(), KEY, algorithm=dns.tsig.HMAC_SHA256)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600)  # signed an hour ago (fudge 300)
    wire = q.to_wire()
    monkeypatch.setattr(time, "time", real)
    answer = raw_tcp(b.addr, wire)
    with pytest.raises(dns.tsig.PeerBadTime):
        dns.message.from_wire(answer, keyring=keyring(), request_mac=q.mac)
    r = dns.message.from_wire(answer, keyring=False)
    assert r.rcode() == dns.rcode.NOTAUTH
    assert r.tsig[0].error == dns.rcode.BADTIME
    # RFC 8945 §5.2.3: our time in Other Data, within a few seconds of now.
    assert abs(int.from_bytes(r.tsig[0].other, "big") - real()) < 5


def test_kdig_reports_tsig_errors(primary):
    b, *_ = primary
    base = ["kdig", "@127.0.0.1", "-p", str(b.port), "AXFR", ZONE, "+time=3", "+retry=0"]
    wrong_secret = subprocess.run(base + ["-y", f"hmac-sha256:{KEY}:" + base64.b64encode(b"wrong secret").decode()],
                                  capture_output=True, text=True, timeout=20)
    assert "BADSIG" in wrong_secret.stdout + wrong_secret.stderr, wrong_secret.stdout + wrong_secret.stderr
    wrong_key = subprocess.run(base + ["-y", f"hmac-sha256:other-key.:{SECRET}"], capture_output=True, text=True, timeout=20)
    assert "BADKEY" in wrong_key.stdout + wrong_key.stderr, wrong_key.stdout + wrong_key.stderr


def test_axfr_without_the_required_key_is_refused(primary):
    b, *_ = primary
    q = dns.message.make_query(ZONE, "AXFR", use_edns=0)
    r = dns.message.from_wire(raw_tcp(b.addr, q.to_wire()))
    assert r.rcode() == dns.rcode.REFUSED
    assert any(o.otype == 15 and o.code == 18 for o in r.options)  # RFC 8914 EDE 18 Prohibited


def test_axfr_over_udp_is_notimp_and_small_ixfr_fits_udp(primary):
    b, *_ = primary
    rcode, _ = xfr(b.addr, udp=True)
    assert rcode == dns.rcode.NOTIMP
    serial = soa_serial(b.addr)
    # Up to date: the SOA alone (RFC 1995 §2).
    rcode, records = xfr(b.addr, rdtype=dns.rdatatype.IXFR, serial=serial, udp=True)
    assert rcode == dns.rcode.NOERROR and [r.rdtype for r in records] == [dns.rdatatype.SOA]
    if serial == 2:  # after the SIGHUP test: the small change 1 → 2 fits one UDP message
        rcode, records = xfr(b.addr, rdtype=dns.rdatatype.IXFR, serial=1, udp=True)
        assert [r.serial for r in records if r.rdtype == dns.rdatatype.SOA] == [2, 1, 2, 2]
        assert len(records) == 8  # SOA, SOA 1, www and h0 removed, SOA 2, www and new added, SOA


def test_signed_query_gets_signed_answer(primary):
    b, *_ = primary
    q = dns.message.make_query("www." + ZONE, "A")
    q.use_tsig(keyring(), KEY, algorithm=dns.tsig.HMAC_SHA256)
    r = dns.query.udp(q, b.addr[0], port=b.addr[1], timeout=3)  # dnspython verifies the TSIG
    assert r.had_tsig and r.rcode() == dns.rcode.NOERROR and r.answer


def test_ixfr_falls_back_to_axfr_when_the_journal_is_truncated(bulwark_only, bulwark_bin, workdir, taken_ports):
    d = os.path.join(workdir, "xfr-journal")
    os.makedirs(d, exist_ok=True)
    zone_file = os.path.join(d, "xfr.test.zone")
    write(zone_file, zone_text(1))
    config = os.path.join(d, "bulwark.yaml")
    bulwark_config(config, zone_file, os.path.join(d, "data"), journal_size=8192)
    b = start_bulwark(bulwark_bin, d, [], 0, taken_ports, extra_args=["--config", config],
                      tag="bulwark-xfr-journal", wait_zone=ZONE)
    try:
        # Three changes of ~3 kB each: the journal (8 kB) keeps only the newest ones.
        for serial in (2, 3, 4):
            extra = "".join(f"c{serial}-{i} IN TXT \"{'x' * 60}\"\n" for i in range(40))
            write(zone_file, zone_text(serial, extra=extra))
            b.signal(signal.SIGHUP)
            assert wait_serial(b, serial, limit=10)
            time.sleep(0.3)  # the journal is written after the swap
        # From 3: the journal reaches it: incremental (SOA 4, SOA 3, removals, SOA 4, additions, SOA 4).
        rcode, records = xfr(b.addr, rdtype=dns.rdatatype.IXFR, serial=3)
        soas = [r.serial for r in records if r.rdtype == dns.rdatatype.SOA]
        assert soas == [4, 3, 4, 4], soas
        # From 1: dropped from the journal: the whole zone, AXFR-style (RFC 1995 §4).
        rcode, records = xfr(b.addr, rdtype=dns.rdatatype.IXFR, serial=1)
        soas = [r.serial for r in records if r.rdtype == dns.rdatatype.SOA]
        assert soas == [4, 4] and len(records) > BULK, soas
        assert "journal does not reach it" in log_text(b)
        journal = os.path.join(d, "data", "journal", "xfr.test.journal")
        assert os.path.getsize(journal) <= 8192
        # A restart keeps the journal (it ends at the serial loaded).
        stop_bulwark(b)
        b = start_bulwark(bulwark_bin, d, [], 0, taken_ports, extra_args=["--config", config],
                          tag="bulwark-xfr-journal2", wait_zone=ZONE)
        rcode, records = xfr(b.addr, rdtype=dns.rdatatype.IXFR, serial=3)
        assert [r.serial for r in records if r.rdtype == dns.rdatatype.SOA] == [4, 3, 4, 4]
    finally:
        stop_bulwark(b)
