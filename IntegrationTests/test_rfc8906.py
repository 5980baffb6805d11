"""RFC 8906 section 8 probes, one test each, as raw dnspython messages.

Each probe runs against the subject and, as a sanity check of the expectation,
against NSD and Knot (test ids [nsd], [knot], [subject]). The docstring of each
test is the dig command the RFC lists ("zone" = example., the apex served).
"""
import dns.edns
import dns.flags
import dns.opcode
import dns.rcode
import dns.rdatatype
import pytest

from probes import (EDNS_MBZ_FLAG, Z_BIT, describe, has_soa, make, opt_options, query)

ZONE = "example."


@pytest.fixture(params=["nsd", "knot", "subject"])
def target(request, main_trio):
    return {"nsd": main_trio.nsd, "knot": main_trio.knot,
            "subject": main_trio.subject}[request.param]


def ask(target, m, tcp=False):
    r, _ = query(target.addr, m, tcp=tcp)
    assert r is not None, f"{target}: no reply to\n{m.to_text()}"
    return r


def expect_soa_answer(target, r, aa=True):
    assert r.rcode() == dns.rcode.NOERROR, f"{target}: rcode\n{describe(r)}"
    assert has_soa(r), f"{target}: SOA missing from the answer\n{describe(r)}"
    if aa:
        assert r.flags & dns.flags.AA, f"{target}: AA not set\n{describe(r)}"
    assert r.flags & dns.flags.QR


def expect_opt_v0(target, r):
    assert r.edns == 0, f"{target}: OPT version 0 expected (edns={r.edns})\n{describe(r)}"


# ---------------------------------------------------------------- 8.1 basic DNS

def test_8_1_1_zone_configured(target):
    """dig +nocookie +norec +noedns soa zone @server"""
    r = ask(target, make(ZONE, "SOA"))
    expect_soa_answer(target, r)
    assert r.edns < 0, "no OPT in the reply to a query without OPT"


def test_8_1_2_unknown_type(target):
    """dig +nocookie +norec +noedns type1000 zone @server"""
    r = ask(target, make(ZONE, "TYPE1000"))
    assert r.rcode() == dns.rcode.NOERROR, describe(r)
    assert not r.answer, describe(r)
    assert r.flags & dns.flags.AA, describe(r)


def test_8_1_3_1_cd(target):
    """dig +nocookie +norec +noedns +cd soa zone @server"""
    r = ask(target, make(ZONE, "SOA", flags=dns.flags.CD))
    expect_soa_answer(target, r)
    # Neither NSD 4.6 nor Knot 3.2 copies CD into the reply; the conformance
    # test (category "flags") holds the subject to that.


def test_8_1_3_2_ad(target):
    """dig +nocookie +norec +noedns +ad soa zone @server"""
    r = ask(target, make(ZONE, "SOA", flags=dns.flags.AD))
    expect_soa_answer(target, r)
    assert not r.flags & dns.flags.AD, f"AD set for unsigned data\n{describe(r)}"


def test_8_1_3_3_reserved_z_bit(target):
    """dig +nocookie +norec +noedns +zflag soa zone @server"""
    r = ask(target, make(ZONE, "SOA", flags=Z_BIT))
    expect_soa_answer(target, r)
    assert not r.flags & Z_BIT, f"Z (MBZ) bit echoed\n{describe(r)}"


def test_8_1_3_4_recursion_desired(target):
    """dig +nocookie +noedns soa zone @server"""
    r = ask(target, make(ZONE, "SOA", rd=True))
    expect_soa_answer(target, r)
    assert r.flags & dns.flags.RD, "RD must be copied"
    assert not r.flags & dns.flags.RA, "an authoritative-only server sets no RA"


def test_8_1_4_unknown_opcode(target):
    """dig +nocookie +norec +noedns +opcode=15 +header-only @server"""
    m = make(ZONE, "SOA", opcode=15)
    m.question = []                 # +header-only: no question
    r = ask(target, m)
    assert r.rcode() == dns.rcode.NOTIMP, describe(r)
    assert r.opcode() == 15, "opcode echoed"
    assert not r.answer and not r.flags & dns.flags.AA, describe(r)


def test_8_1_4_unknown_opcode_with_question(target):
    """as 8.1.4 but with the question left in (dig without +header-only)"""
    r = ask(target, make(ZONE, "SOA", opcode=15))
    assert r.rcode() == dns.rcode.NOTIMP, describe(r)
    assert not r.answer and not r.flags & dns.flags.AA, describe(r)


def test_8_1_5_tcp(target):
    """dig +nocookie +norec +noedns +tcp soa zone @server"""
    expect_soa_answer(target, ask(target, make(ZONE, "SOA"), tcp=True))


# ---------------------------------------------------------------- 8.2 EDNS

def test_8_2_1_minimal_edns(target):
    """dig +nocookie +norec +edns=0 soa zone @server"""
    r = ask(target, make(ZONE, "SOA", edns=0))
    expect_soa_answer(target, r)
    expect_opt_v0(target, r)
    assert not r.ednsflags & dns.flags.DO, "DO set in the reply but not in the query"


def test_8_2_2_edns_version_negotiation(target):
    """dig +nocookie +norec +edns=1 +noednsneg soa zone @server"""
    r = ask(target, make(ZONE, "SOA", edns=1))
    assert r.rcode() == dns.rcode.BADVERS, describe(r)
    expect_opt_v0(target, r)
    assert not has_soa(r), describe(r)


def test_8_2_3_unknown_edns_option(target):
    """dig +nocookie +norec +ednsopt=100 soa zone @server"""
    r = ask(target, make(ZONE, "SOA", edns=0, options=[dns.edns.GenericOption(100, b"")]))
    expect_soa_answer(target, r)
    expect_opt_v0(target, r)
    assert 100 not in opt_options(r), "unknown option echoed"


def test_8_2_4_unknown_edns_flag(target):
    """dig +nocookie +norec +ednsflags=0x40 soa zone @server"""
    r = ask(target, make(ZONE, "SOA", edns=0, ednsflags=EDNS_MBZ_FLAG))
    expect_soa_answer(target, r)
    expect_opt_v0(target, r)
    assert not r.ednsflags & EDNS_MBZ_FLAG, "undefined EDNS flag echoed"


def test_8_2_5_unknown_version_and_option(target):
    """dig +nocookie +norec +edns=1 +noednsneg +ednsopt=100 soa zone @server"""
    r = ask(target, make(ZONE, "SOA", edns=1, options=[dns.edns.GenericOption(100, b"")]))
    assert r.rcode() == dns.rcode.BADVERS, describe(r)
    expect_opt_v0(target, r)
    assert 100 not in opt_options(r) and not has_soa(r), describe(r)


def test_8_2_6_unknown_version_and_flag(target):
    """dig +nocookie +norec +edns=1 +noednsneg +ednsflags=0x40 soa zone @server"""
    r = ask(target, make(ZONE, "SOA", edns=1, ednsflags=EDNS_MBZ_FLAG))
    assert r.rcode() == dns.rcode.BADVERS, describe(r)
    expect_opt_v0(target, r)
    assert not r.ednsflags & EDNS_MBZ_FLAG and not has_soa(r), describe(r)


def test_8_2_7_unknown_version_flag_and_option(target):
    """dig +nocookie +norec +edns=1 +noednsneg +ednsopt=100 +ednsflags=0x40 soa zone @server"""
    r = ask(target, make(ZONE, "SOA", edns=1, ednsflags=EDNS_MBZ_FLAG,
                         options=[dns.edns.GenericOption(100, b"")]))
    assert r.rcode() == dns.rcode.BADVERS, describe(r)
    expect_opt_v0(target, r)
    assert 100 not in opt_options(r) and not r.ednsflags & EDNS_MBZ_FLAG, describe(r)
    assert not has_soa(r), describe(r)


def test_8_2_8_truncated_edns_response(target):
    """dig +nocookie +norec +dnssec +bufsize=512 +ignore dnskey zone @server"""
    r = ask(target, make(ZONE, "DNSKEY", edns=0, payload=512, do=True))
    assert r.rcode() == dns.rcode.NOERROR, describe(r)
    expect_opt_v0(target, r)
    assert r.flags & dns.flags.TC or any(rr.rdtype == dns.rdatatype.DNSKEY for rr in r.answer)


def test_8_2_8_truncated_edns_response_large(target):
    """as 8.2.8 on an RRset larger than 512 octets: TC=1 with the OPT still present"""
    r = ask(target, make("big.example.", "TXT", edns=0, payload=512, do=True))
    assert r.rcode() == dns.rcode.NOERROR, describe(r)
    assert r.flags & dns.flags.TC, describe(r)
    expect_opt_v0(target, r)


def test_8_2_9_do_bit(target):
    """dig +nocookie +norec +dnssec soa zone @server"""
    r = ask(target, make(ZONE, "SOA", edns=0, do=True))
    expect_soa_answer(target, r)
    expect_opt_v0(target, r)
    assert r.ednsflags & dns.flags.DO, "DO=1 must be echoed (RFC 3225)"


def test_8_2_10_edns_over_tcp(target):
    """dig +nocookie +norec +edns +tcp soa zone @server"""
    r = ask(target, make(ZONE, "SOA", edns=0), tcp=True)
    expect_soa_answer(target, r)
    expect_opt_v0(target, r)


# Known options (8.2.x "Testing EDNS options"): the query is answered normally;
# where an option comes back it must be well-formed.
CLIENT_COOKIE = bytes.fromhex("0102030405060708")
KNOWN_OPTIONS = {
    "nsid": dns.edns.GenericOption(3, b""),                          # RFC 5001
    "ecs": dns.edns.ECSOption("0.0.0.0", 0),                         # RFC 7871
    "expire": dns.edns.GenericOption(9, b""),                        # RFC 7314
    "cookie": dns.edns.GenericOption(10, CLIENT_COOKIE),             # RFC 7873
    "keepalive": dns.edns.GenericOption(11, b""),                    # RFC 7828
    "padding": dns.edns.GenericOption(12, b"\x00" * 16),             # RFC 7830
    "chain": dns.edns.GenericOption(13, b"\x00"),                    # RFC 7901
}


def _check_known_options(r):
    for o in r.options:
        if o.otype == 10:
            data = o.to_wire() if hasattr(o, "to_wire") else o.data
            assert data[:8] == CLIENT_COOKIE and len(data) in (8,) + tuple(range(16, 41)), \
                f"COOKIE reply must start with the client cookie: {data.hex()}"
        if o.otype == 8:
            assert getattr(o, "srclen", 0) == 0 and getattr(o, "scopelen", 0) == 0, \
                f"ECS echoed with a prefix: {o}"


@pytest.mark.parametrize("opt", sorted(KNOWN_OPTIONS))
def test_8_2_known_option(target, opt):
    """dig +nocookie +norec +<option> soa zone @server (nsid, subnet=0/0, expire, cookie,
    keepalive, padding, ednsopt=chain)"""
    r = ask(target, make(ZONE, "SOA", edns=0, options=[KNOWN_OPTIONS[opt]]),
            tcp=(opt == "keepalive"))
    expect_soa_answer(target, r)
    expect_opt_v0(target, r)
    _check_known_options(r)


def test_8_2_all_known_options_together(target):
    """dig +norec +nsid +subnet=0.0.0.0/0 +expire +cookie +padding +ednsopt=100 soa zone"""
    opts = [KNOWN_OPTIONS[k] for k in ("nsid", "ecs", "expire", "cookie", "padding")]
    opts.append(dns.edns.GenericOption(100, b""))
    r = ask(target, make(ZONE, "SOA", edns=0, options=opts))
    expect_soa_answer(target, r)
    expect_opt_v0(target, r)
    assert 100 not in opt_options(r)
    _check_known_options(r)
