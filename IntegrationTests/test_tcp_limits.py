"""TCP limits (RFC 7766 §6.2.3): connections per client address and overall, idle
connections closed to make room, the I/O timeout for half-sent queries (slowloris), and
the cap on answers in flight per connection. Bulwark only: the flags are its own.

Loopback sources: every 127/8 address is local, so each test client binds its own.
"""
import os
import socket
import struct
import time
import urllib.request

import dns.message
import pytest

from conftest import SUBJECT, start_bulwark, stop_bulwark
from dnsclient import tcp_read_msg
import servers
import zones

LEGIT = "127.0.0.10"
LIMITS = ["--tcp-max-connections", "20", "--tcp-max-connections-per-client", "4",
          "--tcp-io-timeout", "1", "--tcp-idle-timeout", "30", "--tcp-max-inflight", "4"]


@pytest.fixture(scope="module")
def limited(bulwark_bin, workdir, taken_ports):
    if SUBJECT != "bulwark":
        pytest.skip(f"Bulwark-specific test; BULWARK_TEST_SUBJECT={SUBJECT}")
    files = zones.write_zone_set("main", os.path.join(workdir, "tcplimits", "zones"))
    ops_port = servers.pick_port(0, taken_ports)
    b = start_bulwark(bulwark_bin, os.path.join(workdir, "tcplimits"), files, 0, taken_ports,
                      extra_args=LIMITS + ["--ops-listen", f"127.0.0.1:{ops_port}"], tag="bulwark-tcplimits")
    b.ops_port = ops_port
    yield b
    was_alive, _ = stop_bulwark(b)
    assert was_alive, f"Bulwark exited during the TCP limit tests\n{b.log_tail()}"


def query_frame(name="www.example.", qid=None):
    m = dns.message.make_query(name, "A")
    if qid is not None:
        m.id = qid
    w = m.to_wire()
    return m, struct.pack("!H", len(w)) + w


def connect(addr, src, timeout=3):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(addr)
    return s


def legit_query_answered(addr, within=1.5):
    """A fresh connection from the legitimate address gets its answer in time (a refused
    or queued connection would fail or take the 1 s SYN retry)."""
    m, frame = query_frame()
    start = time.time()
    with connect(addr, LEGIT, timeout=within) as s:
        s.sendall(frame)
        r = tcp_read_msg(s)
    took = time.time() - start
    print(f"legitimate TCP query answered in {took:.3f}s")
    assert r is not None, "legitimate TCP query not answered"
    assert dns.message.from_wire(r).id == m.id
    assert took < within, f"legitimate TCP query took {took:.2f}s"


def is_closed(s, wait=0.3):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_per_client_limit_closes_that_clients_idle_connections(limited):
    socks = [connect(limited.addr, "127.0.0.20") for _ in range(10)]
    time.sleep(0.5)
    try:
        closed = [is_closed(s) for s in socks]
        assert sum(closed) == 6, f"10 idle connections with a per-client cap of 4: closed {closed}"
        # Which six is close to oldest-first but not exact: two event loops admit
        # connections, so admission order can differ slightly from connect order.
        assert closed[0], f"the oldest idle connection goes first: {closed}"
        # The survivors still work.
        m, frame = query_frame(qid=4242)
        socks[-1].settimeout(2)
        socks[-1].sendall(frame)
        assert tcp_read_msg(socks[-1]) is not None
        legit_query_answered(limited.addr)
    finally:
        for s in socks:
            s.close()


def test_overall_limit_makes_room_for_a_newcomer(limited):
    # 30 idle connections from 30 addresses against a table of 20 (some slots may still
    # be held by the previous test's sockets until the server notices they closed).
    socks = []
    try:
        for i in range(30):
            socks.append(connect(limited.addr, f"127.5.0.{i + 1}"))
            time.sleep(0.01)
        legit_query_answered(limited.addr)
        time.sleep(0.3)
        closed = [is_closed(s, 0.05) for s in socks]
        assert sum(closed) >= 10, f"30 connections over a limit of 20, only {sum(closed)} closed"
        assert not any(closed[-5:]), f"the newest connections were closed, not the longest idle: {closed}"
        legit_query_answered(limited.addr)
    finally:
        for s in socks:
            s.close()


def test_slowloris_closed_after_io_timeout(limited):
    """One octet every 0.3 s: with --tcp-io-timeout 1 (and an idle timeout of 30 s) the
    connection is closed about 1 s after its first octet."""
    _, frame = query_frame()
    with connect(limited.addr, "127.0.0.30") as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.time()
        closed_after = None
        for i in range(len(frame)):
            try:
                s.send(frame[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.time() - start
                break
            if is_closed(s, 0.3):
                closed_after = time.time() - start
                break
        assert closed_after is not None, "a query trickled over 10 s was still being read"
        print(f"\nslowloris closed after {closed_after:.2f}s (io timeout 1 s)")
        # Generous above: a loaded 2-core machine can run the timer late.
        assert 0.8 <= closed_after <= 5.0, f"slowloris closed after {closed_after:.2f}s (io timeout 1 s)"
    legit_query_answered(limited.addr)


def test_query_completed_within_io_timeout_is_answered(limited):
    """A query in three pieces 0.2 s apart completes inside the I/O timeout: answered."""
    m, frame = query_frame()
    with connect(limited.addr, "127.0.0.31") as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for part in (frame[:1], frame[1:10], frame[10:]):
            s.sendall(part)
            time.sleep(0.2)
        r = tcp_read_msg(s)
    assert r is not None and dns.message.from_wire(r).id == m.id


def test_pipeline_beyond_inflight_cap_is_answered_in_full(limited):
    """200 pipelined queries with --tcp-max-inflight 4: reading pauses and resumes; every
    query is answered, in order (the answers are written as the queries are read)."""
    frames, ids = b"", []
    for i in range(200):
        m, f = query_frame(qid=10000 + i)
        frames += f
        ids.append(m.id)
    with connect(limited.addr, "127.0.0.32", timeout=5) as s:
        s.sendall(frames)
        got = []
        for _ in ids:
            r = tcp_read_msg(s)
            assert r is not None, f"connection closed after {len(got)} of {len(ids)} answers"
            got.append(struct.unpack("!H", r[:2])[0])
    assert got == ids


def tcp_queries_answered(b):
    """The TCP queries the server has answered so far (its ops endpoint's counters)."""
    deadline = time.time() + 10
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{b.ops_port}/metrics", timeout=5) as r:
                text = r.read().decode()
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    return sum(float(line.rpartition(" ")[2]) for line in text.splitlines()
               if line.startswith('bulwark_queries_total{transport="tcp"'))


def test_client_that_stops_reading_gets_no_more_than_the_inflight_cap(limited):
    """A client pipelines 1,000 queries for a 2.3 kB answer and reads nothing. With a
    small MSS (536) and receive buffer (4 kB) the kernel holds a few dozen answers;
    beyond them the server keeps at most --tcp-max-inflight (4) answers and stops
    reading. Without the cap it would answer hundreds (reading pauses only when its
    256 kB write buffer is full, checked between reads): measured 40 with the cap,
    530-966 with --tcp-max-inflight 65535. Then the client reads: every answer comes,
    in order (reading resumed)."""
    frames, ids = b"", []
    for i in range(1000):
        q = dns.message.make_query("big.example.", "TXT", use_edns=False)
        q.id = 20000 + i
        w = q.to_wire()
        frames += struct.pack("!H", len(w)) + w
        ids.append(q.id)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        s.bind(("127.0.0.33", 0))
        s.settimeout(5)
        s.connect(limited.addr)
        before = tcp_queries_answered(limited)
        s.setblocking(False)
        offset = 0

        def send_some():
            nonlocal offset
            try:
                while offset < len(frames):
                    offset += s.send(frames[offset:offset + 65536])
            except BlockingIOError:
                pass
        # Send everything the server takes, for 1.5 s, reading nothing.
        until = time.time() + 1.5
        while time.time() < until:
            send_some()
            time.sleep(0.01)
        answered = tcp_queries_answered(limited) - before
        print(f"\nclient not reading: {answered:.0f} of 1000 queries answered, "
              f"{offset} of {len(frames)} query octets taken")
        assert answered <= 150, (f"{answered:.0f} answers produced for a client that reads nothing: "
                                 "the in-flight cap (4) is not holding")
        assert answered >= 4, f"only {answered:.0f} answered: the pipeline did not start"
        # Now read (and send the rest): everything is answered, in order.
        got, buf = [], b""
        deadline = time.time() + 30
        while len(got) < len(ids) and time.time() < deadline:
            send_some()
            try:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            except BlockingIOError:
                time.sleep(0.002)
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                n = struct.unpack("!H", buf[:2])[0]
                got.append(struct.unpack("!H", buf[2:4])[0])
                buf = buf[2 + n:]
        assert got == ids, f"{len(got)} of {len(ids)} answers in order; first: {got[:5]}"
    finally:
        s.close()
