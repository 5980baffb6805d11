"""Helpers for hand-built probes: raw messages, one exchange, parsed reply."""
import struct

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from dnsclient import parse, tcp_exchange, udp_exchange

Z_BIT = 0x0040            # header MBZ bit
EDNS_MBZ_FLAG = 0x0040    # an undefined EDNS flag (dig +ednsflags=0x40)


def make(qname="example.", qtype="SOA", rd=False, edns=None, payload=1232, do=False,
         ednsflags=0, options=(), flags=0, opcode=None):
    """A query as dig would build it; edns=None means no OPT, else the version."""
    m = dns.message.make_query(qname, dns.rdatatype.from_text(qtype),
                               use_edns=False)
    m.flags = flags | (dns.flags.RD if rd else 0)
    if opcode is not None:
        m.set_opcode(opcode)
    if edns is not None:
        m.use_edns(edns, ednsflags | (dns.flags.DO if do else 0), payload,
                   options=list(options))
    return m


def exchange(addr, wire, tcp=False, timeout=1.0):
    if isinstance(wire, dns.message.Message):
        wire = wire.to_wire()
    return tcp_exchange(wire, addr, timeout=timeout) if tcp else \
        udp_exchange(wire, addr, timeout=timeout)


def query(addr, m, tcp=False):
    """Returns (parsed reply or None, raw wire or None)."""
    w = exchange(addr, m, tcp=tcp)
    return (parse(w) if w is not None else None), w


def header(wire):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", wire[:12])
    return dict(id=qid, flags=flags, qd=qd, an=an, ns=ns, ar=ar,
                rcode=flags & 0xF, opcode=(flags >> 11) & 0xF)


def has_soa(r):
    return any(rr.rdtype == dns.rdatatype.SOA for rr in r.answer)


def opt_options(r):
    return [o.otype for o in r.options] if r.edns >= 0 else []


def describe(r):
    return "no reply" if r is None else r.to_text()
