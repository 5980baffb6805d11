"""Differential conformance: the same queries to NSD, Knot and the subject.

Rule: the subject's normalised reply (see dnsclient.normalize) must equal at
least one peer's, and equal both where the two peers agree. All mismatches of
a category are reported at once; the full report and the list of places where
NSD and Knot differ are written to the reports directory.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import dns.flags
import dns.message
import dns.rdatatype
import pytest

import querygen
from conftest import REPORTS
from dnsclient import (any_acceptable, ask, normalize, partial_rrsets, report, same, verdict, fmt_norm,
                       tcp_exchange)

CATEGORIES = ["base", "nx", "wildcard", "outside", "case", "flags", "edns", "tcp"]
_generated = {}


def queries(set_name, category):
    if set_name not in _generated:
        _generated[set_name] = querygen.generate(set_name)
    return _generated[set_name][category]


SUBJECT_SILENCE_LIMIT = 40   # after this many unanswered queries stop asking the subject


def run_all(trio, qs):
    silent = [0]

    def one(q):
        res = [normalize(*ask(s.addr, q)) for s in (trio.nsd, trio.knot)]
        if silent[0] >= SUBJECT_SILENCE_LIMIT or not trio.subject.alive():
            return res + [{"error": "not sent: the subject stopped answering or died"}]
        s = normalize(*ask(trio.subject.addr, q))
        if s.get("error", "").startswith("no response"):
            silent[0] += 1
        return res + [s]
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, qs))


def write_report(name, text):
    path = os.path.join(REPORTS, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    return path


def check_category(trio, category, qs=None):
    qs = qs if qs is not None else queries(trio.set_name, category)
    results = run_all(trio, qs)
    mismatches, peer_diffs = [], []
    owners = querygen.rrsets_by_owner(trio.set_name) if trio.set_name in querygen.zones.ZONE_SETS else {}
    for q, (n, k, s) in zip(qs, results):
        if not same(n, k):
            peer_diffs.append((q, n, k))
        why = verdict(n, k, s)
        if why and q.qtype == "ANY" and q.qclass == "IN" and \
                any_acceptable(q.qname, n, k, s, owners.get(q.qname.lower())):
            why = None
        if why:
            mismatches.append((q, why, n, k, s))
    diff_text = "\n".join(f"{q}\n  NSD:\n{fmt_norm(n)}\n  Knot:\n{fmt_norm(k)}\n"
                          for q, n, k in peer_diffs)
    write_report(f"peer-differences-{trio.set_name}-{category}.txt",
                 f"{len(peer_diffs)} of {len(qs)} queries: NSD and Knot differ\n\n" + diff_text)
    # Where the peers themselves do not answer, the harness is broken, not the subject.
    dead = [q for q, (n, k, _) in zip(qs, results) if "error" in n and "error" in k]
    assert len(dead) < max(3, len(qs) // 50), (
        f"neither peer answered {len(dead)} queries, e.g. {dead[0]}: check the peers")
    if not trio.subject.alive():
        pytest.fail(f"{trio.subject} died during the {category} queries\n"
                    f"{trio.subject.log_tail()}", pytrace=False)
    if mismatches:
        full = report(mismatches, trio.subject.name, trio.subject.port, limit=10**9)
        path = write_report(f"mismatches-{trio.set_name}-{category}.txt", full)
        pytest.fail(report(mismatches, trio.subject.name, trio.subject.port)
                    + f"\nfull report: {path}", pytrace=False)


@pytest.mark.parametrize("category", CATEGORIES)
def test_main_zones(main_trio, category):
    check_category(main_trio, category)


@pytest.mark.parametrize("category", ["base", "nx", "wildcard", "case", "edns", "tcp"])
def test_rfc4592_zone(rfc4592_trio, category):
    check_category(rfc4592_trio, category)


@pytest.mark.parametrize("category", ["base", "nx", "edns", "tcp"])
def test_edge_zone(edges_trio, category):
    """RFC 9471 glue and RFC 9460 SVCB/HTTPS targets: the additional section counts."""
    check_category(edges_trio, category)


def test_edge_glue_rfc9471(edges_trio):
    """RFC 9471 3: without EDNS, the glue below d1's cut is in the reply although
    optional glue comes first in the NS RRset (no TC needed); d2's glue cannot fit:
    TC. Checked on the subject alone (NSD 4.6 drops glue without TC)."""
    from dnsclient import Query
    n = normalize(*ask(edges_trio.subject.addr, Query("www.d1.edge.test.", "A")))
    owners = {(rr[0], rr[3]) for rr in n["additional"]}
    assert {("zz.d1.edge.test.", "A"), ("zz.d1.edge.test.", "AAAA")} <= owners, fmt_norm(n)
    assert "TC" not in n["flags"], fmt_norm(n)
    n = normalize(*ask(edges_trio.subject.addr, Query("www.d2.edge.test.", "A")))
    assert "TC" in n["flags"] and n["authority"], fmt_norm(n)


PRIMING = [("NS", None, False), ("NS", 512, False), ("NS", 1232, False), ("NS", None, True),
           ("SOA", None, False)]
ROOT_REFERRALS = ["com.", "net.", "org.", "arpa.", "a.root-servers.net.", "nx-tld-7q."]


def test_root_priming(root_trio):
    """RFC 9609: the priming answer, compared with NSD and Knot (the rule), and without
    EDNS every root server's A record before any AAAA (as NSD), no TC; referrals from
    the root without EDNS and with 1232."""
    from dnsclient import Query
    qs = [Query(".", t, edns=e, tcp=tcp) for t, e, tcp in PRIMING]
    qs += [Query(n, t, edns=e) for n in ROOT_REFERRALS for t in ("NS", "A") for e in (None, 1232)]
    check_category(root_trio, "priming", qs)
    wire, sent = ask(root_trio.subject.addr, Query(".", "NS"))
    m = dns.message.from_wire(wire)
    assert len(wire) <= 512 and not m.flags & dns.flags.TC and m.flags & dns.flags.AA
    servers = {rr.target.to_text().lower() for rrset in m.answer for rr in rrset}
    assert len(servers) == 13
    types = [(rrset.name.to_text().lower(), rrset.rdtype) for rrset in m.additional if rrset.rdtype != dns.rdatatype.OPT]
    a_owners = [o for o, t in types if t == dns.rdatatype.A]
    assert set(a_owners) == servers, f"every root server's A: {types}"
    first_aaaa = next((i for i, (_, t) in enumerate(types) if t == dns.rdatatype.AAAA), len(types))
    assert first_aaaa == len(a_owners), f"A before any AAAA: {types}"


# RFC 4592 2.2.1: the examples the RFC itself spells out, checked against the
# RFC's stated outcome (not only against the peers).
RFC4592_EXAMPLES = [
    ("host3.example.", "MX", "NOERROR", "MX"),     # synthesised from *.example
    ("host3.example.", "A", "NOERROR", None),       # NODATA: wildcard has no A
    ("foo.bar.example.", "TXT", "NOERROR", "TXT"),  # synthesised
    ("host1.example.", "MX", "NOERROR", None),      # host1 exists: no synthesis
    ("sub.*.example.", "MX", "NOERROR", None),      # exists, not a wildcard
    ("_telnet._tcp.host1.example.", "SRV", "NXDOMAIN", None),  # _tcp.host1 is an ENT
    ("ghost.*.example.", "MX", "NXDOMAIN", None),   # *.example. is not a closest encloser source here
]


@pytest.mark.parametrize("qname,qtype,rcode,answer_type", RFC4592_EXAMPLES)
def test_rfc4592_examples(rfc4592_trio, qname, qtype, rcode, answer_type):
    from dnsclient import Query
    q = Query(qname, qtype)
    for s in [rfc4592_trio.nsd, rfc4592_trio.knot, rfc4592_trio.subject]:
        n = normalize(*ask(s.addr, q))
        assert n.get("rcode") == rcode, f"{s}: {q}\n{fmt_norm(n)}"
        types = {rr[3] for rr in n["answer"]}
        assert types == ({answer_type} if answer_type else set()), f"{s}: {q}\n{fmt_norm(n)}"
        if rcode == "NOERROR" and answer_type is None or rcode == "NXDOMAIN":
            assert "AA" in n["flags"]


def test_rfc4592_referral_below_subdel(rfc4592_trio):
    from dnsclient import Query
    q = Query("host.subdel.example.", "A")
    for s in [rfc4592_trio.nsd, rfc4592_trio.knot, rfc4592_trio.subject]:
        n = normalize(*ask(s.addr, q))
        assert n["rcode"] == "NOERROR" and "AA" not in n["flags"], f"{s}\n{fmt_norm(n)}"
        assert {(rr[0], rr[3]) for rr in n["authority"]} == {("subdel.example.", "NS")}


def test_truncation_no_partial_rrsets(main_trio):
    """Answers over 512 octets: TC set exactly where the peers set it, no RRset
    carried in part, and the full answer over TCP."""
    problems = []
    for q in querygen.truncation_queries("main"):
        replies = {}
        for s in [main_trio.nsd, main_trio.knot, main_trio.subject]:
            wire, sent = ask(s.addr, q)
            replies[s.name] = (wire, normalize(wire, sent))
        tcs = {name: "TC" in r[1].get("flags", ()) for name, r in replies.items()}
        peers_tc = {tcs["nsd"], tcs["knot"]}
        if len(peers_tc) == 1 and tcs[main_trio.subject.name] not in peers_tc:
            problems.append(f"{q}: TC={tcs[main_trio.subject.name]} but both peers TC={peers_tc}")
        s_wire = replies[main_trio.subject.name][0]
        if s_wire is not None and tcs[main_trio.subject.name]:
            full = tcp_exchange(q.message().to_wire(), main_trio.subject.addr)
            if full is None:
                problems.append(f"{q}: no reply over TCP")
                continue
            bad = partial_rrsets(s_wire, full)
            if bad:
                problems.append(f"{q}: partial RRsets in the truncated reply: {bad}")
            if len(s_wire) > (q.edns or 512):
                problems.append(f"{q}: truncated reply of {len(s_wire)} octets exceeds "
                                f"{q.edns or 512}")
        if s_wire is not None and len(s_wire) > max(512, q.edns or 512):
            problems.append(f"{q}: UDP reply of {len(s_wire)} octets exceeds the limit")
    assert not problems, "\n".join(problems)
