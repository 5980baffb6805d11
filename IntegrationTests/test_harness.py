"""Self-tests of the comparator (no servers needed): the differential rule and
the normalisation must catch what they are meant to catch."""
import dns.flags
import dns.message
import dns.rrset

from dnsclient import Query, normalize, partial_rrsets, report, same, verdict


def reply(qname="www.example.", rrs=(), flags=dns.flags.QR | dns.flags.AA, rcode=0,
          authority=(), edns=False):
    q = dns.message.make_query(qname, "A", use_edns=0 if edns else False)
    r = dns.message.make_response(q)
    r.flags = flags
    r.set_rcode(rcode)
    for owner, ttl, rtype, *data in rrs:
        r.answer.append(dns.rrset.from_text(owner, ttl, "IN", rtype, *data))
    for owner, ttl, rtype, *data in authority:
        r.authority.append(dns.rrset.from_text(owner, ttl, "IN", rtype, *data))
    return r.to_wire()


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
