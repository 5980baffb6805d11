"""Differential conformance of signed zones: DO=1 queries to NSD, Knot and the subject.

The zones are signed here, at test time: by `dnssec-signzone` with NSEC, with NSEC3
(`-3 -`: empty salt) and NSEC3 with opt-out (`-3 - -A`), and by `ldns-signzone -n`
(NSEC3). Each has a wildcard, an empty non-terminal, a CNAME, an insecure delegation and
a secure one (with DS). Beside them: an unsigned zone with a DS at a delegation (a
referral from it carries no DS) and one with a DS at its own apex (loaded, served as
NSD and Knot do). The rule is test_conformance's: the subject's reply (answer and
authority as sets, and here the additional section too) equals NSD's or Knot's, and
both where they agree.
"""
import base64
import hashlib
import os
import shutil
import subprocess
import time

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import pytest

import servers
from conftest import REPORTS, _running, _start_peers, start_bulwark, stop_bulwark, SUBJECT
from dnsclient import Query, ask, fmt_norm, normalize, parse, same, section_set, verdict

BODY = """$TTL 300
@           SOA   ns1 hostmaster 2026120701 3600 600 86400 300
@           NS    ns1
@           MX    10 mail
ns1         A     192.0.2.1
mail        A     192.0.2.25
www         A     192.0.2.10
www         AAAA  2001:db8::10
alias       CNAME www
*.wild      A     192.0.2.99
*.wild      TXT   "synthesized"
a.b.ent     A     192.0.2.7
insecure    NS    ns.insecure
ns.insecure A     192.0.2.53
secure      NS    ns.secure
secure      DS    12345 13 2 {digest}
ns.secure   A     192.0.2.54
dangling    CNAME nothere
towild      CNAME x.wild
d.oent      NS    ns.example.net.
{extra}
"""
DIGEST = "3B0A0B4F0E5D7B2D61E3B1E1C3B0D1C35B1F36E9A6C8D23F0B5E1C2A7D9F4E6B"
# Insecure delegations only, so that opt-out leaves ranges of them uncovered.
OPTOUT_EXTRA = "\n".join(f"u{i} NS ns.u{i}\nns.u{i} A 192.0.2.{100 + i}" for i in range(8))

# zone -> how it is signed
SIGNED = {
    "nsec.test.": "nsec",
    "nsec3.test.": "nsec3",
    "optout.test.": "optout",
    "ldns.test.": "ldns",
}
UNSIGNED_DS = "plain.test."
APEX_DS = "apexds.test."


def _run(argv, cwd):
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.stdout


def _sign(zone, how, directory):
    """Writes and signs `zone`; returns the signed file's path and the DS of its key."""
    d = os.path.join(directory, zone.rstrip("."))
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "zone")
    with open(src, "w") as f:
        f.write(BODY.format(digest=DIGEST, extra=OPTOUT_EXTRA))
    out = src + ".signed"
    if how == "ldns":
        key = _run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone], d).strip()
        _run(["ldns-signzone", "-n", "-o", zone, "-f", out, src, key], d)
        ds = _run(["ldns-key2ds", "-n", "-2", key + ".key"], d)
    else:
        key = _run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-K", d, zone], d).strip()
        argv = ["dnssec-signzone", "-q", "-S", "-z", "-K", d, "-o", zone, "-f", out]
        if how in ("nsec3", "optout"):
            argv += ["-3", "-"]
        if how == "optout":
            argv += ["-A"]
        _run(argv + [src], d)
        ds = _run(["dnssec-dsfromkey", "-2", os.path.join(d, key + ".key")], d)
    return out, ds.strip()


def _need(tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (run .ci/run)")


@pytest.fixture(scope="module")
def dnssec_trio(request, workdir, taken_ports):
    _need(["dnssec-signzone", "dnssec-keygen", "dnssec-dsfromkey", "ldns-signzone", "ldns-keygen", "ldns-key2ds"])
    base = os.path.join(workdir, "dnssec")
    zdir = os.path.join(base, "zones")
    os.makedirs(zdir, exist_ok=True)
    zone_files, anchors = [], {}
    for zone, how in SIGNED.items():
        path, ds = _sign(zone, how, zdir)
        zone_files.append((zone, path))
        anchors[zone] = ds
    plain = os.path.join(zdir, "plain.zone")
    with open(plain, "w") as f:
        f.write(BODY.format(digest=DIGEST, extra=""))
    zone_files.append((UNSIGNED_DS, plain))
    apex = os.path.join(zdir, "apexds.zone")
    with open(apex, "w") as f:
        f.write(BODY.format(digest=DIGEST, extra=f"@ DS 54321 13 2 {DIGEST}"))
    zone_files.append((APEX_DS, apex))

    nsd, knot = _start_peers("dnssec", workdir, zone_files, [0, 0], taken_ports)
    started = [nsd, knot]
    if SUBJECT == "knot":
        subject = knot
    elif SUBJECT == "nsd":
        subject = nsd
    else:
        subject = start_bulwark(request.getfixturevalue("bulwark_bin"), base, zone_files, 0, taken_ports,
                                tag="bulwark-dnssec")
        started.append(subject)
    yield {"nsd": nsd, "knot": knot, "subject": subject, "zone_files": zone_files, "anchors": anchors}
    for s in started:
        if s is subject and SUBJECT == "bulwark":
            stop_bulwark(s)
            continue
        if s in _running:
            _running.remove(s)
        s.stop()


def full_normalize(wire, sent):
    """test_conformance's normal form, with the additional section (OPT aside) too."""
    out = normalize(wire, sent)
    if "error" in out or out["answer"] == "(TC: not compared)":
        return out
    out["additional"] = section_set(parse(wire).additional)
    return out


def queries_for(zone):
    z = zone
    qs = [
        # positive
        (z, "SOA"), (z, "NS"), (z, "DNSKEY"), (z, "MX"), (z, "NSEC3PARAM"), ("www." + z, "A"),
        ("www." + z, "AAAA"), ("alias." + z, "A"), ("ns1." + z, "A"), ("a.b.ent." + z, "A"),
        # NXDOMAIN, some below existing names, some under the delegations' ranges
        ("nx." + z, "A"), ("a.b.c.nx." + z, "A"), ("zzz." + z, "TXT"), ("x.www." + z, "A"),
        ("0." + z, "A"), ("~." + z, "A"), ("c.ent." + z, "A"), ("x.a.b.ent." + z, "AAAA"),
        ("v." + z, "A"), ("t." + z, "A"), ("s." + z, "MX"), ("j." + z, "A"), ("k." + z, "A"),
        ("alias2." + z, "CNAME"),
        # NODATA
        ("www." + z, "TXT"), ("ns1." + z, "AAAA"), (z, "TXT"), ("alias." + z, "TXT"), ("mail." + z, "MX"),
        # wildcard answers, wildcard NODATA, the wildcard itself
        ("x.wild." + z, "A"), ("a.b.wild." + z, "TXT"), ("x.wild." + z, "MX"), ("*.wild." + z, "A"),
        ("*.wild." + z, "AAAA"), ("wild." + z, "A"),
        # empty non-terminals
        ("b.ent." + z, "A"), ("ent." + z, "A"), ("ent." + z, "DS"),
        # DS at the delegations, referrals below them
        ("insecure." + z, "DS"), ("secure." + z, "DS"), ("x.insecure." + z, "A"), ("x.secure." + z, "A"),
        ("insecure." + z, "NS"), ("secure." + z, "A"), ("ns.insecure." + z, "A"),
        # DS at the apex (no parent held here)
        (z, "DS"),
    ]
    # CNAME into a name error and into a wildcard; an empty non-terminal above an insecure
    # delegation only (under opt-out it has no NSEC3 of its own)
    qs += [("dangling." + z, "A"), ("towild." + z, "A"), ("oent." + z, "A"), ("oent." + z, "DS"),
           ("d.oent." + z, "DS"), ("x.d.oent." + z, "A"), ("x.oent." + z, "A")]
    qs += [(f"u{i}." + z, "DS") for i in range(8)] + [(f"x.u{i}." + z, "A") for i in range(8)]
    qs += [(f"uu{i}." + z, "A") for i in range(8)]
    return qs


ALL_ZONES = list(SIGNED) + [UNSIGNED_DS, APEX_DS]


def nsec3_owner(addr, zone, name):
    """The NSEC3 owner name that `name` hashes to (RFC 5155 §5), with the parameters of
    the zone's NSEC3PARAM as served by `addr`; None for a zone without one."""
    m = parse(ask(addr, Query(zone, "NSEC3PARAM", edns=4096))[0])
    params = [rd for rrset in m.answer for rd in rrset if rrset.rdtype == 51]
    if not params:
        return None
    p = params[0]
    digest = hashlib.sha1(dns.name.from_text(name).canonicalize().to_wire() + p.salt).digest()
    for _ in range(p.iterations):
        digest = hashlib.sha1(digest + p.salt).digest()
    label = base64.b32encode(digest).decode().translate(
        str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHIJKLMNOPQRSTUV")).lower()
    return f"{label}.{zone}"


def _check(trio, zone, do=True, payload=4096):
    qs = [Query(n, t, edns=payload, do=do) for n, t in queries_for(zone)]
    owner = nsec3_owner(trio["nsd"].addr, zone, "www." + zone)
    if owner:
        # The hashed owner names themselves (NSD and Knot differ here: either will do).
        qs += [Query(owner, t, edns=payload, do=do) for t in ("A", "NSEC3", "RRSIG")]
        qs += [Query("x." + owner, "A", edns=payload, do=do)]
    mismatches, peer_diffs = [], 0
    for q in qs:
        n, k, s = (full_normalize(*ask(srv.addr, q)) for srv in (trio["nsd"], trio["knot"], trio["subject"]))
        if not same(n, k):
            peer_diffs += 1
        why = verdict(n, k, s)
        if why:
            mismatches.append(f"{q}: {why}\n  NSD:\n{fmt_norm(n)}\n{_fmt_add(n)}  Knot:\n{fmt_norm(k)}\n{_fmt_add(k)}"
                              f"  subject:\n{fmt_norm(s)}\n{_fmt_add(s)}")
    assert trio["subject"].alive(), f"the subject died\n{trio['subject'].log_tail()}"
    if mismatches:
        path = os.path.join(REPORTS, f"mismatches-dnssec-{zone.rstrip('.')}-{'do' if do else 'nodo'}-{payload}.txt")
        with open(path, "w") as f:
            f.write("\n".join(mismatches) + "\n")
        pytest.fail(f"{len(mismatches)} of {len(qs)} queries for {zone} differ ({peer_diffs} where NSD and Knot "
                    f"differ too); full report: {path}\n\n" + "\n".join(mismatches[:4]), pytrace=False)


def _fmt_add(norm):
    add = norm.get("additional")
    if not add:
        return ""
    return "    additional:\n" + "".join(f"      {rr}\n" for rr in sorted(add))


@pytest.mark.parametrize("zone", ALL_ZONES)
def test_signed_zone_answers_with_do(dnssec_trio, zone):
    _check(dnssec_trio, zone)


@pytest.mark.parametrize("zone", ["nsec3.test.", "optout.test."])
def test_signed_zone_answers_without_do(dnssec_trio, zone):
    _check(dnssec_trio, zone, do=False)


@pytest.mark.parametrize("payload", [1232, 512])
@pytest.mark.parametrize("zone", ["nsec.test.", "nsec3.test.", "optout.test."])
def test_signed_zone_answers_in_smaller_payloads(dnssec_trio, zone, payload):
    """The same with the EDNS payload sizes of today's resolvers and the minimum: proofs
    that do not fit truncate (TC) as the peers' do."""
    _check(dnssec_trio, zone, payload=payload)


def test_nsec3_proofs_present(dnssec_trio):
    """Not only equal to a peer: the NSEC3 proofs are there (RFC 5155 §7.2.2: three
    NSEC3 at most for a name error, each signed)."""
    m = parse(ask(dnssec_trio["subject"].addr, Query("a.b.c.nx.nsec3.test.", "A", edns=4096, do=True))[0])
    nsec3 = [r for r in m.authority if r.rdtype == 50]
    assert 1 <= sum(len(r) for r in nsec3) <= 3
    sigs = [r for r in m.authority if r.rdtype == 46 and r.covers == 50]
    assert len(sigs) == len(nsec3)


# ---------------------------------------------------------------- a validating resolver

class Unbound(servers.ProcessServer):
    """unbound in the foreground, validating, with the test zones' DS as trust anchors and
    a stub zone for each, to the subject."""
    name = "unbound"

    def __init__(self, port, workdir, target, anchors):
        super().__init__(port, os.path.join(workdir, "unbound"), "unbound-dnssec")
        os.makedirs(self.workdir, exist_ok=True)
        self.logfile = os.path.join(self.workdir, "unbound.log")
        self.conf = os.path.join(self.workdir, "unbound.conf")
        w = self.workdir
        lines = ["server:", "  interface: 127.0.0.1", f"  port: {port}", "  do-ip6: no", '  username: ""',
                 '  chroot: ""', f'  directory: "{w}"', f'  pidfile: "{w}/unbound.pid"', "  use-syslog: no",
                 '  logfile: ""', "  verbosity: 1", "  val-log-level: 2", "  num-threads: 1",
                 "  do-not-query-localhost: no", "  access-control: 127.0.0.0/8 allow",
                 '  module-config: "validator iterator"', "  qname-minimisation: no", "  aggressive-nsec: no",
                 "  prefetch: no", "  val-permissive-mode: no",
                 # RFC 6761 `test.` is a default local zone of unbound's: served from here instead.
                 '  local-zone: "test." nodefault']
        for zone, ds in anchors.items():
            rdata = ds.split("DS", 1)[1].strip()
            lines.append(f'  trust-anchor: "{zone} DS {rdata}"')
        for zone in anchors:
            lines += ["stub-zone:", f'  name: "{zone}"', f"  stub-addr: {target[0]}@{target[1]}"]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        return self._spawn(["unbound", "-d", "-c", self.conf], self.conf, echo=True)


def resolve(addr, qname, qtype):
    m = dns.message.make_query(qname, qtype, want_dnssec=True)
    m.flags |= dns.flags.RD
    return dns.query.udp(m, addr[0], port=addr[1], timeout=10)


# Every answer class, and whether it must be secure (AD). Under opt-out, NXDOMAIN, wildcard
# answers and the absence of DS at an unsigned delegation rest on an NSEC3 covering the
# next closer name with the opt-out flag, which validators take as insecure (RFC 5155 §8.3,
# §8.6, §9.2; unbound does, for NSD's and Knot's same answers): only "not bogus" is required.
CLASSES = [
    ("www", "A", "NOERROR", True), ("", "NSEC3PARAM", None, True), ("", "DNSKEY", "NOERROR", True),
    ("nx", "A", "NXDOMAIN", "not-optout"), ("a.b.c.nx", "AAAA", "NXDOMAIN", "not-optout"),
    ("www", "TXT", "NOERROR", True), ("x.wild", "A", "NOERROR", "not-optout"),
    ("a.b.wild", "TXT", "NOERROR", "not-optout"), ("x.wild", "MX", "NOERROR", "not-optout"), ("b.ent", "A", "NOERROR", True), ("alias", "A", "NOERROR", True),
    ("secure", "DS", "NOERROR", True), ("insecure", "DS", "NOERROR", "not-optout"),
    ("u3", "DS", "NOERROR", "not-optout"), ("uu3", "A", "NXDOMAIN", "not-optout"),
]


def test_validating_resolver_accepts_every_answer(dnssec_trio, workdir, taken_ports):
    """unbound, anchored at each test zone's DS, resolves every answer class through the
    subject: none is bogus (SERVFAIL), and each is secure (AD) where it can be."""
    _need(["unbound"])
    subject = dnssec_trio["subject"]
    u = Unbound(servers.pick_port(0, taken_ports), os.path.join(workdir, "dnssec"), subject.addr,
                dnssec_trio["anchors"])
    u.start()
    try:
        deadline = time.time() + 20
        while True:
            try:
                resolve(u.addr, "nsec.test.", "SOA")
                break
            except Exception:
                if time.time() > deadline or not u.alive():
                    pytest.fail(f"unbound did not start\n{u.log_tail()}", pytrace=False)
                time.sleep(0.2)
        failures = []
        for zone, how in SIGNED.items():
            for label, qtype, rcode, secure in CLASSES:
                qname = (label + "." if label else "") + zone
                r = resolve(u.addr, qname, qtype)
                got = dns.rcode.to_text(r.rcode())
                ad = bool(r.flags & dns.flags.AD)
                must_be_secure = secure is True or (secure == "not-optout" and how != "optout")
                if got == "SERVFAIL" or (rcode and got != rcode) or (must_be_secure and not ad):
                    failures.append(f"{qname} {qtype}: {got} AD={ad} (want {rcode or 'any'}"
                                    f"{', AD' if must_be_secure else ''})")
        assert not failures, ("unbound through the subject:\n" + "\n".join(failures)
                              + f"\n\nunbound log:\n{u.log_tail(60)}")
    finally:
        u.stop()
