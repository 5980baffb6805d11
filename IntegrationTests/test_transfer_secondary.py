"""Bulwark as a secondary (RFC 1034 §4.3.5, RFC 5936, RFC 1995, RFC 1996, RFC 8945):
AXFR then IXFR from Knot and from BIND, the on-disk copy answering after a restart with
the primary down, expiry, and transfers that must leave the old zone serving (oversized
from Knot; cut, malformed and badly signed from a scripted dnspython primary)."""
import os
import shutil
import signal
import time

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring
import pytest

import servers
from conftest import IN_CI, _running
from xfrpeers import (TSIG_NAME, TSIG_SECRET, BindPrimary, BulwarkSecondary, FakePrimary, KnotPrimary, query,
                      secondary_yaml, serial_of, wait_serial, write, zone_text)

ZONE = "xfr.test."


def need(tool, package):
    if shutil.which(tool) is None:
        msg = f"{tool} not installed (apt-get install {package}; .ci/run installs it)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture
def started(request):
    """Starts servers and always stops them (newest first)."""
    mine = []

    def start(server, wait=True):
        server.start()
        mine.append(server)
        _running.append(server)
        return server

    def fin():
        for s in reversed(mine):
            if s in _running:
                _running.remove(s)
            try:
                s.stop()
            except Exception:
                pass
    request.addfinalizer(fin)
    return start


def stop(server):
    if server in _running:
        _running.remove(server)
    return server.stop()


def a_record(port, name):
    r = query(port, name, "A")
    return r.rcode(), sorted(rr.to_text() for rrset in r.answer for rr in rrset)


def log_count(secondary, text):
    return secondary.log_text().count(text)


def wait_log(secondary, text, count=1, limit=15.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        if log_count(secondary, text) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"'{text}' not logged {count} time(s) within {limit}s\n{secondary.log_tail(40)}")


# ---------------------------------------------------------------- real primaries

def test_secondary_of_knot_axfr_then_ixfr_with_tsig_and_notify(bulwark_bin, workdir, taken_ports, started):
    need("knotd", "knot")
    base = os.path.join(workdir, "sec-knot")
    os.makedirs(base, exist_ok=True)
    zf = os.path.join(base, "xfr.test.zone")
    write(zf, zone_text(ZONE, 1))
    kport = servers.pick_port(0, taken_ports)
    bport = servers.pick_port(0, taken_ports)
    # Knot allows transfers only with the key and signs its NOTIFY with it.
    knot = started(KnotPrimary(kport, base, ZONE, zf, notify_port=bport, tsig=True))
    sec = started(BulwarkSecondary(bulwark_bin, bport, base,
                                   secondary_yaml(ZONE, [f"127.0.0.1:{kport}"], key=TSIG_NAME)))
    wait_serial(bport, ZONE, 1, proc=sec)
    assert "AXFR serial 1" in sec.log_text()
    assert a_record(bport, "www." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.1"])

    # A change: one record replaced, one added, one deleted. REFRESH is an hour, so only
    # Knot's NOTIFY can bring it within seconds; IXFR must carry it.
    write(zf, zone_text(ZONE, 2, ["new IN A 192.0.2.77"]).replace("www IN A 192.0.2.1", "www IN A 192.0.2.2")
          .replace('txt IN TXT "hello" "world"\n', ""))
    t0 = time.time()
    knot.reload()
    wait_serial(bport, ZONE, 2, limit=10, proc=sec)
    assert time.time() - t0 < 10
    log = sec.log_text()
    assert "NOTIFY from 127.0.0.1" in log, sec.log_tail()
    assert "IXFR serial 1 -> 2" in log, sec.log_tail()
    assert a_record(bport, "www." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.2"])
    assert a_record(bport, "new." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.77"])
    assert query(bport, "txt." + ZONE, "TXT").rcode() == dns.rcode.NXDOMAIN


def notify_message(zone, serial=None, keyring=None):
    m = dns.message.make_query(zone, "SOA")
    m.flags = dns.flags.AA
    m.set_opcode(dns.opcode.NOTIFY)
    if serial is not None:
        m.answer.append(dns.rrset.from_text(zone, 60, "IN", "SOA", f"ns1.{zone} h.{zone} {serial} 1 1 1 1"))
    if keyring:
        m.use_tsig(keyring, keyname=TSIG_NAME)
    return m


def udp_exchange(wire, port, timeout=2.0):
    """Sends raw octets, returns the raw answer (for answers dnspython would reject)."""
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(wire, ("127.0.0.1", port))
        return s.recvfrom(65535)[0]
    finally:
        s.close()


def test_notify_answers_and_refusals(bulwark_bin, workdir, taken_ports, started):
    """RFC 1996 §3.7-3.11: answered with the same ID, QR, opcode NOTIFY and AA; acted on
    only from the zone's primary and, with a key configured, only when signed with it."""
    base = os.path.join(workdir, "sec-notify")
    keyring = dns.tsigkeyring.from_text({TSIG_NAME: TSIG_SECRET})
    fake = FakePrimary(ZONE, keyring=keyring).start()
    try:
        fake.set_zone(zone_text(ZONE, 1))
        bport = servers.pick_port(0, taken_ports)
        sec = started(BulwarkSecondary(bulwark_bin, bport, base,
                                       secondary_yaml(ZONE, [f"127.0.0.1:{fake.port}"], key=TSIG_NAME)))
        wait_serial(bport, ZONE, 1, proc=sec)
        fake.set_zone(zone_text(ZONE, 2, ["notified IN A 192.0.2.22"]))
        # Unsigned, from the primary's address: NOTAUTH (the key is required), no refresh.
        q = notify_message(ZONE, 2)
        r = dns.query.udp(q, "127.0.0.1", port=bport, timeout=2)
        assert r.id == q.id and r.opcode() == dns.opcode.NOTIFY and r.flags & dns.flags.QR and r.flags & dns.flags.AA
        assert r.rcode() == dns.rcode.NOTAUTH
        # Signed with the right key name but a wrong secret: NOTAUTH (BADSIG, RFC 8945 §5.2.2).
        wrong = dns.tsigkeyring.from_text({TSIG_NAME: "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE="})
        answer = udp_exchange(notify_message(ZONE, 2, wrong).to_wire(), bport)
        assert answer[3] & 0x0F == dns.rcode.NOTAUTH
        # Signed, from another address: REFUSED.
        r = dns.query.udp(notify_message(ZONE, 2, keyring), "127.0.0.1", port=bport, timeout=2, source="127.0.0.2")
        assert r.rcode() == dns.rcode.REFUSED
        # A zone we are not secondary for: NOTAUTH.
        r = dns.query.udp(notify_message("other.test.", 1, keyring), "127.0.0.1", port=bport, timeout=2)
        assert r.rcode() == dns.rcode.NOTAUTH
        time.sleep(1)
        assert serial_of(bport, ZONE) == 1
        # Signed by the primary's address and key: NOERROR, signed answer, refresh now (over TCP too).
        q = notify_message(ZONE, 2, keyring)
        r = dns.query.tcp(q, "127.0.0.1", port=bport, timeout=2)
        assert r.rcode() == dns.rcode.NOERROR and r.opcode() == dns.opcode.NOTIFY and r.flags & dns.flags.AA
        assert r.had_tsig
        wait_serial(bport, ZONE, 2, limit=5, proc=sec)
        assert a_record(bport, "notified." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.22"])
    finally:
        fake.stop()


def test_secondary_of_bind_axfr_then_ixfr(bulwark_bin, workdir, taken_ports, started):
    need("named", "bind9")
    base = os.path.join(workdir, "sec-bind")
    os.makedirs(base, exist_ok=True)
    zf = os.path.join(base, "xfr.test.zone")
    # REFRESH 1 s: the secondary checks BIND every second (BIND here sends no NOTIFY).
    write(zf, zone_text(ZONE, 10, refresh=1, retry=1))
    nport = servers.pick_port(0, taken_ports)
    bport = servers.pick_port(0, taken_ports)
    named = started(BindPrimary(nport, base, ZONE, zf))
    sec = started(BulwarkSecondary(bulwark_bin, bport, base, secondary_yaml(ZONE, [f"127.0.0.1:{nport}"])))
    wait_serial(bport, ZONE, 10, proc=sec)
    assert "AXFR serial 10" in sec.log_text()
    named.update_zone(zone_text(ZONE, 11, ["bind-new IN A 192.0.2.88"], refresh=1, retry=1)
                      .replace("mx IN MX 10 mail\n", ""))
    wait_serial(nport, ZONE, 11)
    wait_serial(bport, ZONE, 11, proc=sec)
    assert "IXFR serial 10 -> 11" in sec.log_text(), sec.log_tail()
    assert a_record(bport, "bind-new." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.88"])
    assert query(bport, "mx." + ZONE, "MX").rcode() == dns.rcode.NXDOMAIN
    # The same records as BIND's own AXFR.
    assert zone_records(nport) == zone_records_by_query(bport, zone_records(nport))


def zone_records(port):
    """The zone as BIND serves it by AXFR: a set of (name, type, rdata) texts."""
    xfr = dns.query.xfr("127.0.0.1", ZONE, port=port, lifetime=10, relativize=False)
    out = set()
    for m in xfr:
        for rrset in m.answer:
            for rr in rrset:
                out.add((rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), rr.to_text()))
    return out


def zone_records_by_query(port, like):
    """The same names and types asked one by one from `port`."""
    out = set()
    for name, rdtype, _ in like:
        r = query(port, name, rdtype, tcp=True)
        for rrset in r.answer:
            if rrset.rdtype == dns.rdatatype.from_text(rdtype):
                for rr in rrset:
                    out.add((rrset.name.to_text(), rdtype, rr.to_text()))
    return out


def test_restart_answers_from_disk_copy_with_primary_down(bulwark_bin, workdir, taken_ports, started):
    need("knotd", "knot")
    base = os.path.join(workdir, "sec-restart")
    os.makedirs(base, exist_ok=True)
    zf = os.path.join(base, "xfr.test.zone")
    write(zf, zone_text(ZONE, 5, ["disk IN A 192.0.2.5"]))
    kport = servers.pick_port(0, taken_ports)
    bport = servers.pick_port(0, taken_ports)
    knot = started(KnotPrimary(kport, base, ZONE, zf, tsig=False))
    yaml = secondary_yaml(ZONE, [f"127.0.0.1:{kport}"])
    sec = started(BulwarkSecondary(bulwark_bin, bport, base, yaml))
    wait_serial(bport, ZONE, 5, proc=sec)
    copy = os.path.join(sec.data_dir, "secondary", "xfr.test.zone.bin")
    assert os.path.exists(copy)
    stop(sec)
    stop(knot)
    t0 = time.time()
    sec2 = started(BulwarkSecondary(bulwark_bin, bport, base, yaml, tag="bulwark-secondary-2", data_dir=sec.data_dir))
    wait_serial(bport, ZONE, 5, limit=10, proc=sec2)
    assert time.time() - t0 < 10
    assert a_record(bport, "disk." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.5"])
    assert "from the on-disk copy" in sec2.log_text()
    wait_log(sec2, "no primary could be refreshed from")  # and it keeps serving
    assert serial_of(bport, ZONE) == 5


def test_oversized_transfer_keeps_old_zone(bulwark_bin, workdir, taken_ports, started):
    need("knotd", "knot")
    base = os.path.join(workdir, "sec-oversized")
    os.makedirs(base, exist_ok=True)
    zf = os.path.join(base, "xfr.test.zone")
    write(zf, zone_text(ZONE, 1, refresh=1, retry=1))
    kport = servers.pick_port(0, taken_ports)
    bport = servers.pick_port(0, taken_ports)
    knot = started(KnotPrimary(kport, base, ZONE, zf, tsig=False))
    sec = started(BulwarkSecondary(bulwark_bin, bport, base, secondary_yaml(
        ZONE, [f"127.0.0.1:{kport}"], zone_extra="max-transfer-size: 20000")))
    wait_serial(bport, ZONE, 1, proc=sec)
    big = [f"big{i} IN TXT \"{'x' * 60}\"" for i in range(600)]  # ~50 kB
    write(zf, zone_text(ZONE, 2, big, refresh=1, retry=1))
    knot.reload()
    wait_serial(kport, ZONE, 2)
    wait_log(sec, "exceeds the limit of 20000 octets", limit=20)
    assert serial_of(bport, ZONE) == 1
    assert a_record(bport, "www." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.1"])
    # Retried at RETRY, refused again each time, the old version still served.
    wait_log(sec, "exceeds the limit of 20000 octets", count=3, limit=20)
    assert serial_of(bport, ZONE) == 1 and sec.alive()
    assert not os.path.exists(os.path.join(sec.data_dir, "secondary", "xfr.test.zone.bin.tmp"))


# ---------------------------------------------------------------- a scripted primary

@pytest.mark.parametrize("mode,logged", [
    ("cut", "closed the connection in the middle of a message"),
    ("garbage", "malformed"),
    ("bad-closing-soa", "closing SOA serial"),
    ("out-of-zone", "outside the zone"),
    ("wrong-id", "does not match the query"),
    ("stall", "timeout: reading from"),
])
def test_broken_transfer_keeps_old_zone(bulwark_bin, workdir, taken_ports, started, mode, logged):
    base = os.path.join(workdir, f"sec-broken-{mode}")
    fake = FakePrimary(ZONE).start()
    try:
        fake.set_zone(zone_text(ZONE, 1, refresh=1, retry=1))
        bport = servers.pick_port(0, taken_ports)
        # A primary that stops sending mid-transfer is given up after transfer-timeout.
        extra = "transfer-timeout: 2" if mode == "stall" else ""
        sec = started(BulwarkSecondary(bulwark_bin, bport, base, secondary_yaml(ZONE, [f"127.0.0.1:{fake.port}"],
                                                                              zone_extra=extra)))
        wait_serial(bport, ZONE, 1, proc=sec)
        fake.mode = mode
        fake.set_zone(zone_text(ZONE, 2, ["bad IN A 192.0.2.66"], refresh=1, retry=1))
        wait_log(sec, logged, limit=15)
        assert serial_of(bport, ZONE) == 1
        assert query(bport, "bad." + ZONE, "A").rcode() == dns.rcode.NXDOMAIN
        assert a_record(bport, "www." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.1"])
        fake.mode = "good"
        wait_serial(bport, ZONE, 2, proc=sec)
        assert a_record(bport, "bad." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.66"])
        assert sec.alive()
    finally:
        fake.stop()


def test_expired_zone_servfail_unless_serve_expired(bulwark_bin, workdir, taken_ports, started):
    base = os.path.join(workdir, "sec-expire")
    fake = FakePrimary(ZONE).start()
    try:
        fake.set_zone(zone_text(ZONE, 1, refresh=1, retry=1, expire=4))
        p1 = servers.pick_port(0, taken_ports)
        p2 = servers.pick_port(0, taken_ports)
        strict = started(BulwarkSecondary(bulwark_bin, p1, base, secondary_yaml(ZONE, [f"127.0.0.1:{fake.port}"]),
                                          tag="sec-strict"))
        lenient = started(BulwarkSecondary(bulwark_bin, p2, base, secondary_yaml(
            ZONE, [f"127.0.0.1:{fake.port}"], zone_extra="serve-expired: true"), tag="sec-lenient"))
        wait_serial(p1, ZONE, 1, proc=strict)
        wait_serial(p2, ZONE, 1, proc=lenient)
    finally:
        fake.stop()
    # RFC 1034 §4.3.5: no refresh within EXPIRE (4 s): the zone stops being answered.
    deadline = time.time() + 15
    while time.time() < deadline and query(p1, "www." + ZONE, "A").rcode() != dns.rcode.SERVFAIL:
        time.sleep(0.2)
    assert query(p1, "www." + ZONE, "A").rcode() == dns.rcode.SERVFAIL
    assert query(p1, "www." + ZONE, "A", tcp=True).rcode() == dns.rcode.SERVFAIL
    assert "expired" in strict.log_text()
    assert a_record(p2, "www." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.1"])


@pytest.mark.parametrize("mode,logged", [
    ("tsig-wrong-key", "TSIG verification failed: BADSIG"),
    ("tsig-bad-mac", "TSIG verification failed: BADSIG"),
    ("tsig-stale", "TSIG verification failed: BADTIME"),
    ("tsig-unsigned-last", "the last message of the answer is unsigned"),
])
def test_bad_tsig_on_transfer_is_refused(bulwark_bin, workdir, taken_ports, started, mode, logged):
    """RFC 8945 §5.3.1: every message verified with the chained MAC; a wrong key, a
    wrong MAC, a stale time or an unsigned last message refuses the transfer."""
    base = os.path.join(workdir, f"sec-{mode}")
    keyring = dns.tsigkeyring.from_text({TSIG_NAME: TSIG_SECRET})
    fake = FakePrimary(ZONE, keyring=keyring).start()
    try:
        fake.set_zone(zone_text(ZONE, 1, refresh=1, retry=1))
        bport = servers.pick_port(0, taken_ports)
        sec = started(BulwarkSecondary(bulwark_bin, bport, base,
                                       secondary_yaml(ZONE, [f"127.0.0.1:{fake.port}"], key=TSIG_NAME)))
        wait_serial(bport, ZONE, 1, proc=sec)
        fake.mode = mode
        fake.set_zone(zone_text(ZONE, 2, ["forged IN A 192.0.2.66"], refresh=1, retry=1))
        wait_log(sec, logged, limit=15)
        assert serial_of(bport, ZONE) == 1
        assert query(bport, "forged." + ZONE, "A").rcode() == dns.rcode.NXDOMAIN
        fake.mode = "good"
        wait_serial(bport, ZONE, 2, proc=sec)
    finally:
        fake.stop()


def test_sighup_adds_and_removes_secondary_zones(bulwark_bin, workdir, taken_ports, started):
    base = os.path.join(workdir, "sec-sighup")
    other = "sighup.test."
    fa = FakePrimary(ZONE).start()
    fb = FakePrimary(other).start()
    try:
        fa.set_zone(zone_text(ZONE, 1))
        fb.set_zone(zone_text(other, 7))
        bport = servers.pick_port(0, taken_ports)
        sec = started(BulwarkSecondary(bulwark_bin, bport, base, secondary_yaml(ZONE, [f"127.0.0.1:{fa.port}"])))
        wait_serial(bport, ZONE, 1, proc=sec)
        assert query(bport, other, "SOA").rcode() == dns.rcode.REFUSED
        # The configuration now lists only the other zone.
        with open(sec.config, "w") as f:
            f.write(secondary_yaml(other, [f"127.0.0.1:{fb.port}"]))
        sec.signal(signal.SIGHUP)
        wait_serial(bport, other, 7, proc=sec)
        deadline = time.time() + 5
        while time.time() < deadline and query(bport, ZONE, "SOA").rcode() != dns.rcode.REFUSED:
            time.sleep(0.1)
        assert query(bport, ZONE, "SOA").rcode() == dns.rcode.REFUSED
        assert "no longer configured" in sec.log_text()
    finally:
        fa.stop()
        fb.stop()


def test_primaries_tried_in_order(bulwark_bin, workdir, taken_ports, started):
    base = os.path.join(workdir, "sec-order")
    dead = servers.pick_port(0, taken_ports)  # nothing listens there
    fake = FakePrimary(ZONE).start()
    try:
        fake.set_zone(zone_text(ZONE, 4))
        bport = servers.pick_port(0, taken_ports)
        sec = started(BulwarkSecondary(bulwark_bin, bport, base,
                                       secondary_yaml(ZONE, [f"127.0.0.1:{dead}", f"127.0.0.1:{fake.port}"])))
        wait_serial(bport, ZONE, 4, limit=10, proc=sec)
        log = sec.log_text()
        assert f"refresh from 127.0.0.1:{dead} failed: connect" in log
        assert f"AXFR serial 4 from 127.0.0.1:{fake.port}" in log
    finally:
        fake.stop()


def test_ixfr_that_does_not_apply_falls_back_to_axfr(bulwark_bin, workdir, taken_ports, started):
    """RFC 1995 §4: differences that do not fit our copy (a deletion of a record we do not
    hold) are not applied; the zone is fetched whole by AXFR instead."""
    base = os.path.join(workdir, "sec-ixfr-fallback")
    fake = FakePrimary(ZONE).start()
    try:
        fake.set_zone(zone_text(ZONE, 1, refresh=1, retry=1))
        bport = servers.pick_port(0, taken_ports)
        sec = started(BulwarkSecondary(bulwark_bin, bport, base, secondary_yaml(ZONE, [f"127.0.0.1:{fake.port}"])))
        wait_serial(bport, ZONE, 1, proc=sec)
        fake.mode = "ixfr-bad-delete"
        fake.set_zone(zone_text(ZONE, 2, ["whole IN A 192.0.2.12"], refresh=1, retry=1))
        wait_serial(bport, ZONE, 2, proc=sec)
        log = sec.log_text()
        assert "which our copy (serial 1) does not hold" in log and "falling back to AXFR" in log, sec.log_tail()
        assert ("IXFR", "ixfr-bad-delete") in fake.transfers and ("AXFR", "ixfr-bad-delete") in fake.transfers
        assert a_record(bport, "whole." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.12"])
    finally:
        fake.stop()


def test_zone_not_yet_transferred_is_servfail(bulwark_bin, workdir, taken_ports, started):
    """As Knot and BIND: a configured secondary zone that has no data yet is SERVFAIL
    (not REFUSED); it is served as soon as a primary answers."""
    base = os.path.join(workdir, "sec-pending")
    port = servers.pick_port(0, taken_ports)
    bport = servers.pick_port(0, taken_ports)
    sec = started(BulwarkSecondary(bulwark_bin, bport, base, secondary_yaml(ZONE, [f"127.0.0.1:{port}"])))
    deadline = time.time() + 10
    rcode = None
    while time.time() < deadline:
        try:
            rcode = query(bport, "www." + ZONE, "A").rcode()
            break
        except Exception:
            time.sleep(0.1)
    assert rcode == dns.rcode.SERVFAIL
    fake = FakePrimary(ZONE, port=port).start()
    try:
        fake.set_zone(zone_text(ZONE, 3))
        wait_serial(bport, ZONE, 3, limit=15, proc=sec)  # the bootstrap retry is 5 s
        assert a_record(bport, "www." + ZONE) == (dns.rcode.NOERROR, ["192.0.2.1"])
    finally:
        fake.stop()
