"""Each defence of issue 4 against the running release binary, with dnspython as the
client: response rate limiting (slip, exemption by a valid server cookie, the slow
path), DNS cookies (RFC 7873, RFC 9018 server cookies, BADCOOKIE with `require`) and
the query access list (REFUSED with Extended DNS Error 18, or drop). Bulwark only.

Loopback sources: every 127/8 address is local. Each test speaks from a /24 of its
own, so the rate-limit buckets of one test never meet another's.
"""
import os
import socket
import time

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.tsig
import dns.tsigkeyring
import pytest

from conftest import SUBJECT, start_bulwark, stop_bulwark
import zones

RATE = 10
DENIED = "127.66.0.1"


def start(bulwark_bin, workdir, taken_ports, name, extra):
    if SUBJECT != "bulwark":
        pytest.skip(f"Bulwark-specific test; BULWARK_TEST_SUBJECT={SUBJECT}")
    files = zones.write_zone_set("main", os.path.join(workdir, name, "zones"))
    return start_bulwark(bulwark_bin, os.path.join(workdir, name), files, 0, taken_ports,
                         extra_args=extra, tag=f"bulwark-{name}")


@pytest.fixture(scope="module")
def guarded(bulwark_bin, workdir, taken_ports):
    b = start(bulwark_bin, workdir, taken_ports, "defences",
              ["--rate-limit", str(RATE), "--rate-limit-slip", "2", "--deny", "127.66.0.0/16"])
    yield b
    was_alive, _ = stop_bulwark(b)
    assert was_alive, f"Bulwark exited during the defence tests\n{b.log_tail()}"


@pytest.fixture(scope="module")
def strict(bulwark_bin, workdir, taken_ports):
    b = start(bulwark_bin, workdir, taken_ports, "defences-strict",
              ["--cookies", "require", "--deny", "127.66.0.0/16", "--deny-action", "drop"])
    yield b
    was_alive, _ = stop_bulwark(b)
    assert was_alive, f"Bulwark exited during the defence tests\n{b.log_tail()}"


def ask(b, message, source, timeout=2.0):
    """One UDP exchange from `source`; None on timeout."""
    try:
        return dns.query.udp(message, "127.0.0.1", port=b.port, source=source, timeout=timeout)
    except dns.exception.Timeout:
        return None


def burst(b, wires, source, settle=0.8, raw=False):
    """Sends every wire from one socket at `source` without waiting, then collects the
    replies (parsed, or as octets with `raw`) until none comes for `settle` seconds."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    s.bind((source, 0))
    for w in wires:
        s.sendto(w, ("127.0.0.1", b.port))
    s.settimeout(settle)
    replies = []
    try:
        while True:
            w = s.recv(65535)
            replies.append(w if raw else dns.message.from_wire(w, ignore_trailing=True))
    except socket.timeout:
        pass
    s.close()
    return replies


def with_cookie(name, cookie, rdtype="A"):
    return dns.message.make_query(name, rdtype, use_edns=0, payload=1232,
                                  options=[dns.edns.GenericOption(dns.edns.OptionType.COOKIE, cookie)])


def cookie_of(r):
    """The COOKIE option's octets (client cookie, then server cookie), or None."""
    for o in r.options:
        if isinstance(o, dns.edns.CookieOption):
            return o.client + o.server
        if o.otype == dns.edns.OptionType.COOKIE:
            return o.data
    return None


CLIENT_COOKIE = bytes.fromhex("2464c4abcf10c957")


# ------------------------------------------------------------------ rate limiting

def test_rate_limit_slips_and_drops_a_flood_and_spares_other_prefixes(guarded):
    src = "127.0.0.31"
    wires = []
    for i in range(300):
        m = dns.message.make_query("www.example.", "A")
        m.id = i + 1
        wires.append(m.to_wire())
    replies = burst(guarded, wires, src)
    full = [r for r in replies if not r.flags & dns.flags.TC]
    slipped = [r for r in replies if r.flags & dns.flags.TC]
    # A second's worth at once (the burst), then every other limited answer slips.
    assert RATE <= len(full) <= RATE + 5, len(full)
    assert 130 <= len(slipped) <= 150, len(slipped)
    for r in slipped:
        assert r.rcode() == dns.rcode.NOERROR and not r.answer and not r.authority
        assert len(r.question) == 1  # the question is kept so a resolver can match it
    # Another /24 is not touched.
    r = ask(guarded, dns.message.make_query("www.example.", "A"), "127.1.0.31")
    assert r is not None and r.rcode() == dns.rcode.NOERROR and r.answer and not r.flags & dns.flags.TC


def test_valid_server_cookie_exempts_from_rate_limiting(guarded):
    src = "127.2.0.31"
    first = ask(guarded, with_cookie("www.example.", CLIENT_COOKIE), src)
    cookie = cookie_of(first)
    assert cookie is not None and len(cookie) == 24 and cookie[:8] == CLIENT_COOKIE
    wires = []
    for i in range(100):
        m = with_cookie("www.example.", cookie)
        m.id = i + 1
        wires.append(m.to_wire())
    replies = burst(guarded, wires, src)
    # RFC 7873 §5.3: the source is proven, so none of the 100 is limited.
    assert len(replies) == 100
    assert all(not r.flags & dns.flags.TC and r.answer for r in replies)
    # The same flood without the cookie from the same /24 is limited.
    plain = []
    for i in range(100):
        m = dns.message.make_query("www.example.", "A")
        m.id = i + 1
        plain.append(m.to_wire())
    limited = burst(guarded, plain, "127.2.0.32")
    assert len([r for r in limited if not r.flags & dns.flags.TC]) <= RATE + 5


def test_signed_queries_with_an_unknown_key_are_rate_limited(guarded):
    """The slow path (TSIG) is limited too: a spoofed flood of signed queries does not
    reflect one BADKEY answer per query."""
    keyring = dns.tsigkeyring.from_text({"stranger.": ("hmac-sha256", "c2VjcmV0LW5vdC10aGUtc2FtZQ==")})
    wires = []
    for i in range(200):
        m = dns.message.make_query("www.example.", "A")
        m.use_tsig(keyring, keyname="stranger.")
        m.id = i + 1
        wires.append(m.to_wire())
    got = burst(guarded, wires, "127.4.0.31", raw=True)  # signed answers: not parsed without the key
    truncated = [w for w in got if w[2] & 0x02]
    assert len(got) <= RATE + 5 + 100, len(got)   # at most the burst and half the rest
    assert len(truncated) >= 80, len(truncated)


# ------------------------------------------------------------------ cookies

def test_server_cookie_follows_rfc_9018(guarded):
    src = "127.5.0.31"
    r = ask(guarded, with_cookie("www.example.", CLIENT_COOKIE), src)
    cookie = cookie_of(r)
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    # RFC 9018 §4.2: client cookie, version 1, three reserved octets, a timestamp close
    # to now, and an 8-octet hash.
    assert cookie[:8] == CLIENT_COOKIE and len(cookie) == 24
    assert cookie[8] == 1 and cookie[9:12] == b"\0\0\0"
    assert abs(int.from_bytes(cookie[12:16], "big") - time.time()) < 60
    # Presenting it is fine; a forged server cookie is answered normally with a fresh one
    # (RFC 7873 §5.2.4: not `require`).
    again = ask(guarded, with_cookie("www.example.", cookie), src)
    assert again.rcode() == dns.rcode.NOERROR and cookie_of(again)[:8] == CLIENT_COOKIE
    forged = ask(guarded, with_cookie("www.example.", CLIENT_COOKIE + bytes(16)), src)
    assert forged.rcode() == dns.rcode.NOERROR and cookie_of(forged)[8:] != bytes(16)
    # A COOKIE option of a bad length is FORMERR (RFC 7873 §5.2.2).
    bad = ask(guarded, with_cookie("www.example.", CLIENT_COOKIE[:5]), src)
    assert bad.rcode() == dns.rcode.FORMERR


def test_required_cookie_gets_badcookie_then_answers(strict):
    src = "127.6.0.31"
    first = ask(strict, with_cookie("www.example.", CLIENT_COOKIE), src)
    assert first.rcode() == dns.rcode.BADCOOKIE  # RFC 7873 §5.2.3
    cookie = cookie_of(first)
    assert cookie is not None and cookie[:8] == CLIENT_COOKIE and len(cookie) == 24
    retry = ask(strict, with_cookie("www.example.", cookie), src)
    assert retry.rcode() == dns.rcode.NOERROR and retry.answer
    # A client that sends no cookie at all is answered (RFC 7873 §5.2.1).
    plain = ask(strict, dns.message.make_query("www.example.", "A"), src)
    assert plain.rcode() == dns.rcode.NOERROR and plain.answer


# ------------------------------------------------------------------ access list

def test_denied_prefix_is_refused_with_extended_error_18(guarded):
    r = ask(guarded, dns.message.make_query("www.example.", "A", use_edns=0), DENIED)
    assert r is not None and r.rcode() == dns.rcode.REFUSED and not r.answer
    ede = [o for o in r.options if o.otype == dns.edns.OptionType.EDE]
    assert [o.code for o in ede] == [dns.edns.EDECode.PROHIBITED]  # RFC 8914 §4.19
    # Without EDNS: REFUSED, and no OPT to carry the EDE.
    r = ask(guarded, dns.message.make_query("www.example.", "A", use_edns=False), DENIED)
    assert r.rcode() == dns.rcode.REFUSED and r.edns < 0
    ok = ask(guarded, dns.message.make_query("www.example.", "A"), "127.7.0.31")
    assert ok.rcode() == dns.rcode.NOERROR and ok.answer


def test_denied_prefix_is_dropped_when_configured(strict):
    assert ask(strict, dns.message.make_query("www.example.", "A"), DENIED, timeout=1.0) is None
    ok = ask(strict, dns.message.make_query("www.example.", "A"), "127.8.0.31")
    assert ok.rcode() == dns.rcode.NOERROR
