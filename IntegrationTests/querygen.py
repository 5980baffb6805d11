"""Generate the conformance queries from the zone texts (deterministic).

Categories (each one test, reporting every mismatch at once):
  base      every name in the zones (owners and empty non-terminals) x TYPES, UDP, no EDNS
  nx        names that do not exist under every node (also under delegations and DNAMEs)
  wildcard  names matched by each wildcard, one and two labels deep, x TYPES
  outside   names outside every hosted zone, other classes
  case      a sample of the above with the qname in random case (must be echoed exactly)
  flags     a sample with RD, CD, AD set
  edns      every name x a few types x EDNS variants (512, 1232, 4096, DO)
  tcp       a sample of the above over TCP, and every large answer
"""
import random

import dns.name
import dns.rdatatype
import dns.zone

import seeds
import zones
from dnsclient import Query, random_case

TYPES = ["A", "AAAA", "NS", "SOA", "MX", "TXT", "CNAME", "DNAME", "SRV", "NAPTR", "CAA",
         "HINFO", "SSHFP", "TLSA", "DS", "DNSKEY", "SVCB", "HTTPS", "PTR", "RP", "LOC", "URI",
         "TYPE65280", "TYPE65281", "TYPE1000", "RRSIG", "NSEC", "ANY"]
EDNS_TYPES = ["A", "TXT", "NS", "SOA", "MX", "ANY", "DS"]
EDNS_VARIANTS = [dict(edns=512), dict(edns=1232), dict(edns=4096),
                 dict(edns=1232, do=True), dict(edns=4096, do=True)]
OUTSIDE = ["www.example.net.", ".", "net.", "test.", "nope.test.", "example.com.",
           "examplex.", "xexample.", "sub.example.net."]


def zone_names(set_name):
    """(sorted list of names in the zones incl. empty non-terminals, wildcard owners, delegations)"""
    names, wild = set(), set()
    for origin, text in zones.ZONE_SETS[set_name]:
        z = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=False)
        o = dns.name.from_text(origin)
        for n in z.nodes:
            names.add(n)
            if n.labels[0] == b"*":
                wild.add(n)
            p = n
            while p != o and p.is_subdomain(o):
                p = p.parent()
                names.add(p)
    key = lambda n: n.to_text().lower()
    return sorted(names, key=key), sorted(wild, key=key)


def rrsets_by_owner(set_name):
    """{owner lower-cased: {type: set of canon RRs}} from the zone texts (for ANY)."""
    import dns.rrset
    from dnsclient import canon_rr
    out = {}
    for origin, text in zones.ZONE_SETS[set_name]:
        z = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=False)
        for name, node in z.nodes.items():
            for rds in node.rdatasets:
                rrset = dns.rrset.from_rdata_list(name, rds.ttl, list(rds))
                key = name.to_text().lower()
                out.setdefault(key, {})[dns.rdatatype.to_text(rds.rdtype)] = \
                    {canon_rr(rrset, rd) for rd in rrset}
    return out


def generate(set_name, seed=None):
    """Deterministic for a seed: BULWARK_TEST_SEED, else 4592 (the samples of the case,
    flags and tcp categories)."""
    rnd = random.Random(seed if seed is not None else seeds.seed(4592, f"queries of {set_name}"))
    names, wild = zone_names(set_name)
    texts = [n.to_text() for n in names]
    cats = {}
    cats["base"] = [Query(t, ty) for t in texts for ty in TYPES]
    cats["nx"] = ([Query("zz-nx." + t, ty) for t in texts for ty in ("A", "TXT", "DS")]
                  + [Query("a.b.zz-nx." + t, "A") for t in texts])
    cats["wildcard"] = []
    for w in wild:
        rest = w.parent().to_text()
        for label in ("w1.", "deep.w2.", "sub.w3.", "*.x."):
            cats["wildcard"] += [Query(label + rest, ty) for ty in TYPES]
    cats["outside"] = ([Query(t, ty) for t in OUTSIDE for ty in ("A", "SOA", "NS", "ANY")]
                       + [Query(zones.ZONE_SETS[set_name][0][0], ty, qclass=c)
                          for c in ("CH", "HS", "CLASS42", "ANY") for ty in ("SOA", "A")])
    pool = cats["base"] + cats["nx"] + cats["wildcard"]
    cats["case"] = []
    for q in rnd.sample(pool, min(400, len(pool))):
        cats["case"].append(Query(random_case(q.qname, rnd), q.qtype, rd=rnd.random() < 0.5,
                                  edns=rnd.choice([None, 1232])))
    cats["flags"] = []
    for q in rnd.sample(pool, min(200, len(pool))):
        cats["flags"].append(Query(q.qname, q.qtype, rd=rnd.random() < 0.5,
                                   cd=rnd.random() < 0.5, ad=rnd.random() < 0.5,
                                   edns=rnd.choice([None, 4096]), do=rnd.random() < 0.3))
    cats["edns"] = [Query(t, ty, **v) for t in texts for ty in EDNS_TYPES for v in EDNS_VARIANTS]
    tcp = []
    for q in rnd.sample(pool, min(300, len(pool))) + rnd.sample(cats["edns"], 150):
        tcp.append(Query(q.qname, q.qtype, tcp=True, edns=q.edns, do=q.do))
    for t in texts:
        if t.lower().startswith(("big", "biga", "types")) or t.lower() in ("example.", "wild."):
            for ty in ("TXT", "A", "ANY", "NS"):
                for e in (None, 512, 4096):
                    tcp.append(Query(t, ty, tcp=True, edns=e))
    cats["tcp"] = tcp
    return cats


def truncation_queries(set_name):
    """Queries whose answers exceed 512 octets: without EDNS and with EDNS 512."""
    names, _ = zone_names(set_name)
    out = []
    for n in names:
        t = n.to_text()
        if t.split(".")[0].lower() in ("big", "biga", "types"):
            for ty in ("TXT", "A", "ANY"):
                out += [Query(t, ty), Query(t, ty, edns=512), Query(t, ty, edns=512, do=True)]
    return out
