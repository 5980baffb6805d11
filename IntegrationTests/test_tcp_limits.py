"""TCP limits (RFC 7766 §6.2.3): connections per client address and overall, idle
connections closed to make room, the I/O timeout for half-sent queries (slowloris), and
the cap on answers in flight per connection. Bulwark only: the flags are its own.

Loopback sources: every 127/8 address is local, so each test client binds its own.
"""
import os
import socket
import struct
import time

import dns.message
import pytest

from conftest import SUBJECT, start_bulwark, stop_bulwark
from dnsclient import tcp_read_msg
import zones

LEGIT = "127.0.0.10"
LIMITS = ["--tcp-max-connections", "20", "--tcp-max-connections-per-client", "4",
          "--tcp-io-timeout", "1", "--tcp-idle-timeout", "30", "--tcp-max-inflight", "4"]


@pytest.fixture(scope="module")
def limited(bulwark_bin, workdir, taken_ports):
    if SUBJECT != "bulwark":
        pytest.skip(f"Bulwark-specific test; BULWARK_TEST_SUBJECT={SUBJECT}")
    files = zones.write_zone_set("main", os.path.join(workdir, "tcplimits", "zones"))
    b = start_bulwark(bulwark_bin, os.path.join(workdir, "tcplimits"), files, 0, taken_ports,
                      extra_args=LIMITS, tag="bulwark-tcplimits")
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
        assert 0.8 <= closed_after <= 2.5, f"slowloris closed after {closed_after:.2f}s (io timeout 1 s)"
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
