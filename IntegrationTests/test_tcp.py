"""TCP: pipelined queries, idle timeout, messages split across segments."""
import os
import socket
import struct
import time

import dns.message

from conftest import start_bulwark, stop_bulwark
from dnsclient import Query, ask, normalize, same, tcp_read_msg, fmt_norm

PIPELINE = [("www.example.", "A"), ("types.example.", "TXT"), ("nx.example.", "A"),
            ("big.example.", "TXT"), ("foo.wild.example.", "MX"), ("host.deleg.example.", "A"),
            ("example.", "SOA"), ("x.dname.example.", "A"), ("alias1.example.", "A"),
            ("www.other.test.", "A"), ("biga.example.", "A"), ("www.example.net.", "A")]


def test_pipelined_queries_on_one_connection(subject):
    """All queries written at once; every reply arrives (any order, matched by ID) and
    equals the reply to the same query sent alone."""
    msgs = {}
    blob = b""
    for i, (n, t) in enumerate(PIPELINE):
        m = Query(n, t, tcp=True, edns=1232).message(qid=1000 + i)
        msgs[m.id] = (Query(n, t, tcp=True, edns=1232), m)
        w = m.to_wire()
        blob += struct.pack("!H", len(w)) + w
    got = {}
    with socket.create_connection(subject.addr, timeout=3) as s:
        s.sendall(blob)
        for _ in PIPELINE:
            w = tcp_read_msg(s)
            assert w is not None, f"connection closed after {len(got)} of {len(PIPELINE)} replies"
            got[struct.unpack("!H", w[:2])[0]] = w
    assert sorted(got) == sorted(msgs), f"reply IDs {sorted(got)} != query IDs {sorted(msgs)}"
    for qid, (q, m) in msgs.items():
        piped = normalize(got[qid], m)
        alone = normalize(*ask(subject.addr, q))
        assert same(piped, alone), f"{q}: pipelined\n{fmt_norm(piped)}\nalone\n{fmt_norm(alone)}"


def test_query_split_across_segments(subject):
    """Length prefix and message dribbled one byte at a time."""
    w = dns.message.make_query("www.example.", "A").to_wire()
    data = struct.pack("!H", len(w)) + w
    with socket.create_connection(subject.addr, timeout=3) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            s.send(data[i:i + 1])
            time.sleep(0.01)
        r = tcp_read_msg(s)
    assert r is not None
    assert dns.message.from_wire(r).answer


def test_two_queries_in_one_segment_then_more(subject):
    """Two messages in one write, a third after the first replies arrive."""
    ws = [dns.message.make_query(n, "A") for n in ("www.example.", "mail.example.", "ns1.example.")]
    frames = [struct.pack("!H", len(m.to_wire())) + m.to_wire() for m in ws]
    with socket.create_connection(subject.addr, timeout=3) as s:
        s.sendall(frames[0] + frames[1])
        a, b = tcp_read_msg(s), tcp_read_msg(s)
        s.sendall(frames[2])
        c = tcp_read_msg(s)
    ids = {struct.unpack("!H", x[:2])[0] for x in (a, b, c) if x}
    assert ids == {m.id for m in ws}


def _seconds_until_closed(addr, limit, send_query=False):
    start = time.time()
    with socket.create_connection(addr, timeout=limit) as s:
        if send_query:
            w = dns.message.make_query("www.example.", "A").to_wire()
            s.sendall(struct.pack("!H", len(w)) + w)
            assert tcp_read_msg(s) is not None
            start = time.time()
        s.settimeout(limit)
        try:
            while s.recv(4096):
                pass
        except socket.timeout:
            return None
        except ConnectionResetError:
            pass
    return time.time() - start


def test_idle_connection_closed_default(subject):
    """With no flag the server closes an idle connection (NSD/Knot: ~10 s); allow up to 20 s."""
    took = _seconds_until_closed(subject.addr, 25, send_query=True)
    assert took is not None, f"{subject} kept an idle TCP connection open for 25 s"
    assert 1.0 <= took <= 20.0, f"idle connection closed after {took:.1f}s"


def test_idle_timeout_flag(bulwark_only, bulwark_bin, main_trio, workdir, taken_ports):
    """`--tcp-idle-timeout 2` closes idle connections after about 2 s, before and after a query."""
    b = start_bulwark(bulwark_bin, os.path.join(workdir, "idle"), main_trio.zone_files, 0,
                      taken_ports, extra_args=["--tcp-idle-timeout", "2"], tag="bulwark-idle")
    try:
        for after_query in (False, True):
            took = _seconds_until_closed(b.addr, 10, send_query=after_query)
            assert took is not None and 1.0 <= took <= 5.0, \
                f"--tcp-idle-timeout 2: closed after {took} s (after a query: {after_query})"
        assert b.alive()
    finally:
        stop_bulwark(b)
