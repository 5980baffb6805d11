"""Self-tests of the comparator (no servers needed): the differential rule and
the normalisation must catch what they are meant to catch."""
import dns.flags
import dns.message
import dns.rrset

from dnsclient import Query, normalize, partial_rrsets, report, same, verdict


def reply(qname="www.example.", rrs=(), flags=dns.flags.QR | dns.flags.AA, rcode=0,
          authority=(), edns=False, additional=(), options=()):
    q = dns.message.make_query(qname, "A", use_edns=0 if edns else False)
    r = dns.message.make_response(q)
    r.flags = flags
    r.set_rcode(rcode)
    if edns:
        r.use_edns(0, 0, 1232, options=list(options))
    for owner, ttl, rtype, *data in rrs:
        r.answer.append(dns.rrset.from_text(owner, ttl, "IN", rtype, *data))
    for owner, ttl, rtype, *data in authority:
        r.authority.append(dns.rrset.from_text(owner, ttl, "IN", rtype, *data))
    for owner, ttl, rtype, *data in additional:
        r.additional.append(dns.rrset.from_text(owner, ttl, "IN", rtype, *data))
    return r.to_wire()


def sized(wire, size):
    """normalize(wire) as if the reply had `size` octets (for the size-limit rule)."""
    n = normalize(wire)
    n["_size"] = size
    return n


A = ("www.example.", 3600, "A", "192.0.2.80")


def test_equal_replies_are_equal():
    assert same(normalize(reply(rrs=[A])), normalize(reply(rrs=[A])))


def test_owner_case_and_rr_order_do_not_matter():
    a = normalize(reply(rrs=[("WWW.Example.", 3600, "A", "192.0.2.80", "192.0.2.81")]))
    b = normalize(reply(rrs=[("www.example.", 3600, "A", "192.0.2.81", "192.0.2.80")]))
    assert same(a, b)


def test_rdata_name_case_is_canonical():
    a = normalize(reply(rrs=[("www.example.", 60, "CNAME", "Target.EXAMPLE.")]))
    b = normalize(reply(rrs=[("www.example.", 60, "CNAME", "target.example.")]))
    assert same(a, b)


def test_question_case_matters():
    assert not same(normalize(reply("WwW.example.")), normalize(reply("www.example.")))


def test_ttl_flags_rcode_authority_matter():
    base = normalize(reply(rrs=[A]))
    assert not same(base, normalize(reply(rrs=[("www.example.", 60, "A", "192.0.2.80")])))
    assert not same(base, normalize(reply(rrs=[A], flags=dns.flags.QR)))
    assert not same(base, normalize(reply(rrs=[A], rcode=3)))
    assert not same(base, normalize(reply(rrs=[A], authority=[("example.", 3600, "NS", "ns1.example.")])))
    assert not same(base, normalize(reply(rrs=[A], edns=True)))


def test_rule():
    x, y, z = (normalize(reply(rrs=[A])), normalize(reply(rrs=[A], flags=dns.flags.QR)),
               normalize(None))
    assert verdict(x, x, x) is None
    assert verdict(x, x, y) is not None          # peers agree, subject differs
    assert verdict(x, y, y) is None              # peers differ, subject equals one
    assert verdict(x, y, z) is not None          # equals neither
    assert verdict(x, x, z) is not None          # timeout is a difference


def test_report_lists_every_mismatch():
    x, y = normalize(reply(rrs=[A])), normalize(reply())
    ms = [(Query(f"n{i}.example.", "A"), "why", x, x, y) for i in range(5)]
    text = report(ms, "bulwark", 5403)
    assert text.startswith("5 queries") and all(f"n{i}.example." in text for i in range(5))


def test_partial_rrset_detected():
    full = reply(rrs=[("big.example.", 60, "A", "192.0.2.1", "192.0.2.2", "192.0.2.3")])
    part = reply(rrs=[("big.example.", 60, "A", "192.0.2.1")], flags=dns.flags.QR | dns.flags.TC)
    empty = reply(flags=dns.flags.QR | dns.flags.TC)
    assert partial_rrsets(part, full)
    assert not partial_rrsets(empty, full)
    assert not partial_rrsets(full, full)


def test_any_relaxation():
    from dnsclient import any_acceptable
    a2 = ("www.example.", 3600, "A", "192.0.2.80", "192.0.2.81")
    txt = ("www.example.", 3600, "TXT", "hello")
    at = {"A": normalize(reply(rrs=[a2]))["answer"], "TXT": normalize(reply(rrs=[txt]))["answer"]}
    nsd = normalize(reply(rrs=[a2]))
    knot = normalize(reply(rrs=[txt]))
    assert any_acceptable("www.example.", nsd, knot, normalize(reply(rrs=[a2, txt])), at)
    partial = normalize(reply(rrs=[("www.example.", 3600, "A", "192.0.2.80")]))
    assert not any_acceptable("www.example.", nsd, knot, partial, at)
    hinfo = normalize(reply(rrs=[("www.example.", 3600, "HINFO", '"RFC8482" ""')]))
    assert any_acceptable("www.example.", nsd, knot, hinfo, at)
    no_aa = normalize(reply(rrs=[a2, txt], flags=dns.flags.QR))
    assert not any_acceptable("www.example.", nsd, knot, no_aa, at)


NS = ("d.example.", 3600, "NS", "ns.d.example.", "ns.other.example.")
GLUE_A = ("ns.d.example.", 3600, "A", "192.0.2.53")
GLUE_AAAA = ("ns.d.example.", 3600, "AAAA", "2001:db8::53")
OPT_A = ("ns.other.example.", 3600, "A", "192.0.2.1", "192.0.2.2")


def referral(additional, flags=dns.flags.QR):
    return reply("x.d.example.", authority=[NS], additional=additional, flags=flags)


def test_additional_section_is_compared():
    a = normalize(referral([GLUE_A, GLUE_AAAA]))
    assert not same(a, normalize(referral([GLUE_A])))
    assert verdict(a, a, normalize(referral([GLUE_A]))) is not None


def test_edns_options_are_compared_but_cookies_are_not():
    import dns.edns
    nsid = dns.edns.GenericOption(3, b"bulwark")
    cookie = lambda c: dns.edns.GenericOption(10, c)
    plain = normalize(reply(rrs=[A], edns=True))
    assert not same(plain, normalize(reply(rrs=[A], edns=True, options=[nsid])))
    assert same(normalize(reply(rrs=[A], edns=True, options=[cookie(b"\1" * 24)])),
                normalize(reply(rrs=[A], edns=True, options=[cookie(b"\2" * 24)])))


def test_truncated_replies_are_compared():
    tc = dns.flags.QR | dns.flags.AA | dns.flags.TC
    empty = normalize(reply(flags=tc))
    peer = normalize(reply(rrs=[A], flags=tc))
    assert not same(empty, peer)
    # RFC 2181 9: empty with TC where the peers truncate too is accepted ...
    assert verdict(peer, peer, empty) is None
    # ... but not without TC, not where the peers answer whole, not with other records.
    assert verdict(peer, peer, normalize(reply(flags=dns.flags.QR | dns.flags.AA))) is not None
    whole = normalize(reply(rrs=[A]))
    assert verdict(whole, whole, empty) is not None
    other = normalize(reply(rrs=[("www.example.", 3600, "TXT", "other")], flags=tc))
    assert verdict(peer, peer, other) is not None
    assert verdict(peer, peer, normalize(reply(flags=tc, rcode=dns.rcode.NXDOMAIN))) is not None


def test_additional_cut_at_the_size_limit():
    """RFC 9471 3: optional RRsets left out at the size limit are the server's choice;
    glue below the cut is not, unless TC is set; RRsets come whole."""
    peer = sized(referral([GLUE_A, GLUE_AAAA, OPT_A]), 500)
    assert verdict(peer, peer, sized(referral([GLUE_A, GLUE_AAAA]), 480)) is None
    # Not at the limit: a difference.
    assert verdict(normalize(referral([GLUE_A, GLUE_AAAA, OPT_A])), normalize(referral([GLUE_A, GLUE_AAAA, OPT_A])),
                   normalize(referral([GLUE_A, GLUE_AAAA]))) is not None
    # Required glue left out: only with TC.
    assert verdict(peer, peer, sized(referral([GLUE_A, OPT_A]), 500)) is not None
    with_tc = sized(referral([GLUE_A, OPT_A], flags=dns.flags.QR | dns.flags.TC), 500)
    tc_peer = sized(referral([GLUE_A, GLUE_AAAA, OPT_A], flags=dns.flags.QR | dns.flags.TC), 500)
    assert verdict(tc_peer, tc_peer, with_tc) is None
    # Part of an RRset, or a record the peer does not send: a difference.
    half = ("ns.other.example.", 3600, "A", "192.0.2.1")
    assert verdict(peer, peer, sized(referral([GLUE_A, GLUE_AAAA, half]), 500)) is not None
    other = ("ns.other.example.", 3600, "AAAA", "2001:db8::1")
    assert verdict(peer, peer, sized(referral([GLUE_A, GLUE_AAAA, other]), 500)) is not None


def test_svcb_service_mode_self_addresses():
    """RFC 9460 2.5.2: ServiceMode "." makes the owner the target: its addresses may be
    added; anything else extra is a difference."""
    https = ("svc.example.", 3600, "HTTPS", '1 . alpn="h2"')
    own = ("svc.example.", 3600, "A", "192.0.2.61")
    peer = normalize(reply("svc.example.", rrs=[https]))
    assert verdict(peer, peer, normalize(reply("svc.example.", rrs=[https], additional=[own]))) is None
    stranger = ("www.example.", 3600, "A", "192.0.2.80")
    assert verdict(peer, peer, normalize(reply("svc.example.", rrs=[https], additional=[stranger]))) is not None
    alias = ("svc.example.", 3600, "HTTPS", "0 .")
    peer0 = normalize(reply("svc.example.", rrs=[alias]))
    assert verdict(peer0, peer0, normalize(reply("svc.example.", rrs=[alias], additional=[own]))) is not None
