"""SIGHUP reload and SIGTERM, on a Bulwark instance of its own (zone reload.test.)."""
import os
import signal
import threading
import time

import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from conftest import start_bulwark, stop_bulwark
from dnsclient import udp_exchange, tcp_exchange
from zones import RELOAD_TEMPLATE

ZONE = "reload.test."


def write_zone(path, version, serial, broken=False):
    text = RELOAD_TEMPLATE.format(version=version, serial=serial)
    if broken:
        text += "broken          A     999.1.2.3\nthis line is not a record\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def version_of(addr, tcp=False):
    q = dns.message.make_query("version." + ZONE, dns.rdatatype.TXT)
    w = (tcp_exchange if tcp else udp_exchange)(q.to_wire(), addr)
    if w is None:
        return None, "no reply"
    r = dns.message.from_wire(w)
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None, f"rcode {dns.rcode.to_text(r.rcode())}, answer {r.answer}"
    return r.answer[0][0].strings[0].decode(), None


def wait_version(addr, want, limit=10.0):
    deadline = time.time() + limit
    got = None
    while time.time() < deadline:
        got, _ = version_of(addr)
        if got == want:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def reload_server(bulwark_only, bulwark_bin, workdir, taken_ports, request):
    d = os.path.join(workdir, f"reload-{request.node.name}")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "reload.test.zone")
    write_zone(path, "v1", 1)
    b = start_bulwark(bulwark_bin, d, [(ZONE, path)], 0, taken_ports,
                      tag=f"bulwark-{request.node.name}")
    yield b, path
    stop_bulwark(b)


def test_sighup_serves_new_data(reload_server):
    b, path = reload_server
    assert version_of(b.addr)[0] == "v1"
    write_zone(path, "v2", 2)
    b.signal(signal.SIGHUP)
    assert wait_version(b.addr, "v2"), f"still {version_of(b.addr)} 10 s after SIGHUP\n{b.log_tail()}"
    assert version_of(b.addr, tcp=True)[0] == "v2", "TCP answers the old zone"


def test_sighup_with_broken_zone_keeps_old_data(reload_server):
    b, path = reload_server
    write_zone(path, "v-broken", 3, broken=True)
    b.signal(signal.SIGHUP)
    time.sleep(1.5)
    assert b.alive(), f"a broken zone file killed the server on SIGHUP\n{b.log_tail()}"
    for _ in range(20):
        got, err = version_of(b.addr)
        assert got == "v1", f"after SIGHUP with a broken file: {got or err}\n{b.log_tail()}"
    # and it recovers once the file is fixed
    write_zone(path, "v4", 4)
    b.signal(signal.SIGHUP)
    assert wait_version(b.addr, "v4"), f"no recovery after the file was fixed\n{b.log_tail()}"


def test_queries_never_fail_during_reloads(reload_server):
    b, path = reload_server
    failures, answered, seen = [], [0], set()
    stop = threading.Event()

    def hammer():
        deadline = time.time() + 20
        while not stop.is_set() and time.time() < deadline:
            got, err = version_of(b.addr, tcp=(answered[0] % 10 == 0))
            if got is None:
                failures.append(err)
            else:
                seen.add(got)
                answered[0] += 1
    t = threading.Thread(target=hammer)
    t.start()
    try:
        for i in range(6):
            write_zone(path, f"r{i}", 10 + i, broken=(i == 3))
            b.signal(signal.SIGHUP)
            time.sleep(0.4)
    finally:
        stop.set()
        t.join()
    assert b.alive(), b.log_tail()
    assert not failures, f"{len(failures)} of {answered[0] + len(failures)} queries failed " \
                         f"during reloads, e.g. {failures[:5]}"
    assert answered[0] > 100, f"only {answered[0]} queries answered"
    assert "r3" not in seen, "the broken zone version was served"
    assert wait_version(b.addr, "r5"), f"last reload not served: {version_of(b.addr)}"


def test_sigterm_exits(bulwark_only, bulwark_bin, workdir, taken_ports):
    d = os.path.join(workdir, "sigterm")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "reload.test.zone")
    write_zone(path, "v1", 1)
    b = start_bulwark(bulwark_bin, d, [(ZONE, path)], 0, taken_ports, tag="bulwark-sigterm")
    start = time.time()
    b.signal(signal.SIGTERM)
    try:
        status = b.proc.wait(timeout=5)
    except Exception:
        status = None
    took = time.time() - start
    stop_bulwark(b)
    assert status is not None, "still running 5 s after SIGTERM"
    assert status in (0, -signal.SIGTERM, 128 + signal.SIGTERM), \
        f"exit status {status} on SIGTERM\n{b.log_tail()}"
    print(f"\nexited with status {status} in {took:.2f}s")
