"""Malformed and hostile queries, one raw packet each.

Each case lists what the subject may answer ("drop" = no reply) and, where NSD
4.6 and Knot 3.2 do something else, what they were seen to do (checked every
run, so the table stays true). After every case the subject must still answer.
"""
import struct

import dns.rcode
import pytest

from dnsclient import udp_exchange
from probes import header
from servers import soa_ready


def hdr(qid=0x1234, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def qname(*labels):
    return b"".join(bytes([len(x)]) + x for x in labels) + b"\x00"


Q_SOA = qname(b"example") + b"\x00\x06\x00\x01"
OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
REFUSE_XFR = {"NOTIMP", "REFUSED", "FORMERR", "NOTAUTH"}
REFUSE_OPCODE = {"NOTIMP", "REFUSED", "NOTAUTH"}

# name: (packet, subject may, {peer: what it does} where that is outside `subject may`)
CASES = {
    "qdcount-0": (hdr(qd=0), {"FORMERR"}, {}),
    "qdcount-0-with-question": (hdr(qd=0) + Q_SOA, {"FORMERR", "drop"}, {}),
    "qdcount-2": (hdr(qd=2) + Q_SOA + Q_SOA, {"FORMERR"}, {"knot": {"drop"}}),
    "qdcount-2-one-present": (hdr(qd=2) + Q_SOA, {"FORMERR"}, {"knot": {"drop"}}),
    "compression-self-loop": (hdr() + b"\xc0\x0c\x00\x06\x00\x01", {"FORMERR", "drop"}, {}),
    "compression-two-label-loop": (hdr() + b"\x03abc\xc0\x0c\x00\x06\x00\x01",
                                   {"FORMERR", "drop"}, {}),
    "compression-forward-pointer": (hdr() + b"\xc0\x12\x00\x06\x00\x01" + qname(b"example"),
                                    {"FORMERR", "drop"}, {}),
    "compression-pointer-past-end": (hdr() + b"\xc0\xff\x00\x06\x00\x01", {"FORMERR", "drop"}, {}),
    "qr-set": (hdr(flags=0x8000) + Q_SOA, {"drop"}, {}),
    "shorter-than-header": (b"\x12\x34\x00", {"drop"}, {}),
    "header-only-truncated-question": (hdr() + b"\x07exam", {"FORMERR", "drop"}, {}),
    "label-longer-than-63": (hdr() + b"\x40" + b"a" * 64 + qname(b"example") + b"\x00\x01\x00\x01",
                             {"FORMERR", "drop"}, {}),
    "name-longer-than-255": (hdr() + qname(*([b"a" * 63] * 4), b"example") + b"\x00\x01\x00\x01",
                             {"FORMERR", "drop"}, {}),
    "axfr-over-udp": (hdr() + qname(b"example") + b"\x00\xfc\x00\x01", REFUSE_XFR, {}),
    "ixfr-over-udp": (hdr() + qname(b"example") + b"\x00\xfb\x00\x01", REFUSE_XFR, {}),
    "outside-every-zone": (hdr() + qname(b"example", b"net") + b"\x00\x01\x00\x01",
                           {"REFUSED"}, {}),
    "outside-root": (hdr() + b"\x00\x00\x06\x00\x01", {"REFUSED"}, {}),
    "unknown-class-42": (hdr() + qname(b"example") + b"\x00\x06\x00\x2a", {"REFUSED"}, {}),
    "class-chaos": (hdr() + qname(b"example") + b"\x00\x06\x00\x03", {"REFUSED"}, {}),
    "trailing-garbage": (hdr() + Q_SOA + b"garbage", {"NOERROR", "FORMERR"}, {}),
    "answer-count-in-query": (hdr(an=1) + Q_SOA, {"FORMERR"}, {}),
    "two-opt-records": (hdr(ar=2) + Q_SOA + OPT + OPT, {"FORMERR"}, {}),
    "opt-in-answer-section": (hdr(an=1) + Q_SOA + OPT, {"FORMERR"}, {}),
    "opt-length-overrun": (hdr(ar=1) + Q_SOA + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x09"
                           b"\x00\x0a\x00\x08abc", {"FORMERR"}, {}),
    "opcode-iquery": (hdr(flags=1 << 11) + Q_SOA, {"NOTIMP"}, {}),
    "opcode-status": (hdr(flags=2 << 11) + Q_SOA, {"NOTIMP"}, {}),
    "opcode-notify": (hdr(flags=4 << 11) + Q_SOA, REFUSE_OPCODE, {}),
    "opcode-update": (hdr(flags=5 << 11) + Q_SOA, REFUSE_OPCODE, {}),
    "opcode-15": (hdr(flags=15 << 11) + Q_SOA, {"NOTIMP"}, {}),
}


def outcome(wire, addr):
    r = udp_exchange(wire, addr, timeout=0.4, tries=1, expect_id=0x1234)
    if r is None:
        return "drop", None
    if len(r) < 12:
        return "short reply", r
    return dns.rcode.to_text(header(r)["rcode"]), r


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed(main_trio, case):
    wire, accept, peer_seen = CASES[case]
    for peer in main_trio.peers:
        got, _ = outcome(wire, peer.addr)
        allowed = accept | peer_seen.get(peer.name, set())
        assert got in allowed, (f"harness expectation wrong: {peer} answered {got} to "
                                f"{case}, table allows {allowed}")
    subject = main_trio.subject
    if subject in main_trio.peers:  # harness mode: a peer standing in as the subject
        accept = accept | peer_seen.get(subject.name, set())
    got, reply = outcome(wire, subject.addr)
    assert got in accept, f"{subject} answered {case} with {got}; allowed: {sorted(accept)}"
    if reply is not None:
        h = header(reply)
        assert h["id"] == 0x1234 and h["flags"] & 0x8000, "reply must carry the ID and QR"
    assert subject.alive(), f"{subject} died on {case}"
    assert soa_ready(subject.host, subject.port, "example.", timeout=1.0), \
        f"{subject} no longer answers after {case}"
