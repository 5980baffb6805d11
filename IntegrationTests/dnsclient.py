"""Raw DNS over UDP and TCP, response normalisation and the differential rule.

A response is reduced to a `Norm` (a plain dict) holding what the servers must
agree on:
  rcode     (extended, from OPT if present)    opcode
  flags     QR AA TC RD RA AD CD, and Z when set
  question  exact, case preserved (the query's case must be echoed)
  answer, authority, additional   sets of (owner lower-cased, TTL, class, type,
            rdata in canonical form: names lower-cased as RFC 4034 6.2 says, via
            dnspython's to_digestable); the OPT record is not in `additional`
  edns      None, or (version, DO, options): the options as sorted (code, data hex),
            except COOKIE (RFC 7873: the server cookie is each server's own secret)
Truncated replies are compared like any other (all sections).
Not compared: the EDNS payload size (each server's configuration).

Documented differences the rule accepts (`verdict`, each naming its RFC):
  * RFC 1035 4.2.1 / RFC 9471 3: when the additional section was cut by the size
    limit, which optional RRsets fit is the server's choice. A reply that equals a
    peer's in everything but the additional section is accepted when that section is
    at the size limit, holds only complete RRsets that a peer sends, and carries all
    the glue below the referral's cut that a peer carries, or has TC set.
  * RFC 9460 2.5.2 / 4.2: for an SVCB/HTTPS answer in ServiceMode with TargetName
    ".", the owner is the effective target: its A/AAAA in the additional section are
    accepted beyond a peer's (Knot 3.2 and NSD 4.6 do not add them).
  * RFC 2181 9 / RFC 1035 4.1.1: a truncated reply sends the client to TCP, and what it
    carries is not to be used: Bulwark sends it with no records, where NSD and Knot send
    what fits (each its own choice: they differ from each other on signed answers). An
    empty reply with TC is accepted when the peer's has TC too and the same RCODE,
    flags, question and EDNS; any record in it is compared as usual.
"""
import difflib
import random
import socket
import struct
import time

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

TIMEOUT = 2.0   # generous: a loaded 2-core machine can stall a reply past 1 s
FLAG_NAMES = [("QR", dns.flags.QR), ("AA", dns.flags.AA), ("TC", dns.flags.TC),
              ("RD", dns.flags.RD), ("RA", dns.flags.RA), ("Z", 0x0040),
              ("AD", dns.flags.AD), ("CD", dns.flags.CD)]


# ---------------------------------------------------------------- transport

def udp_exchange(wire, addr, timeout=TIMEOUT, tries=2, expect_id=None):
    """Send one datagram, return the first reply whose ID matches (or None)."""
    if expect_id is None and len(wire) >= 2:
        expect_id = struct.unpack("!H", wire[:2])[0]
    for _ in range(tries):
        s = socket.socket(socket.AF_INET6 if ":" in addr[0] else socket.AF_INET,
                          socket.SOCK_DGRAM)
        try:
            s.settimeout(timeout)
            s.connect(addr)
            s.send(wire)
            deadline = time.time() + timeout
            while True:
                left = deadline - time.time()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    data = s.recv(65535)
                except socket.timeout:
                    break
                except ConnectionRefusedError:
                    return None
                if expect_id is None or data[:2] == struct.pack("!H", expect_id):
                    return data
        finally:
            s.close()
    return None


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_read_msg(s):
    head = recv_exact(s, 2)
    if head is None:
        return None
    (n,) = struct.unpack("!H", head)
    return recv_exact(s, n)


def tcp_exchange(wire, addr, timeout=TIMEOUT, tries=2):
    for _ in range(tries):
        try:
            with socket.create_connection(addr, timeout=timeout) as s:
                s.sendall(struct.pack("!H", len(wire)) + wire)
                data = tcp_read_msg(s)
                if data is not None:
                    return data
        except OSError:
            pass
    return None


# ---------------------------------------------------------------- queries

class Query:
    """A query description: enough to build the message and to print it."""

    def __init__(self, qname, qtype, tcp=False, edns=None, do=False, rd=False,
                 cd=False, ad=False, qclass="IN", note=""):
        self.qname = qname          # text, case as it must be sent
        self.qtype = qtype          # text ("A", "TYPE1000", "ANY")
        self.tcp = tcp
        self.edns = edns            # None or payload size
        self.do = do and edns is not None   # DO lives in the OPT record
        self.rd = rd
        self.cd = cd
        self.ad = ad
        self.qclass = qclass
        self.note = note

    def message(self, qid=None):
        m = dns.message.make_query(
            dns.name.from_text(self.qname), dns.rdatatype.from_text(self.qtype),
            dns.rdataclass.from_text(self.qclass),
            use_edns=(0 if self.edns is not None else False),
            payload=self.edns or 1232, want_dnssec=self.do and self.edns is not None)
        m.flags = 0
        if self.rd:
            m.flags |= dns.flags.RD
        if self.cd:
            m.flags |= dns.flags.CD
        if self.ad:
            m.flags |= dns.flags.AD
        m.id = random.randrange(65536) if qid is None else qid
        return m

    def wire(self, qid=None):
        return self.message(qid).to_wire()

    def __str__(self):
        bits = [self.qname, self.qclass if self.qclass != "IN" else None, self.qtype,
                "tcp" if self.tcp else "udp",
                "noedns" if self.edns is None else f"edns={self.edns}",
                "do" if self.do else None, "rd" if self.rd else None,
                "cd" if self.cd else None, "ad" if self.ad else None,
                f"({self.note})" if self.note else None]
        return " ".join(b for b in bits if b)

    def dig(self, port):
        """The equivalent dig command, for reproducing a failure by hand."""
        opts = ["+norec" if not self.rd else "+rec",
                "+noedns" if self.edns is None else f"+bufsize={self.edns}",
                "+nocookie"] + (["+dnssec"] if self.do else []) + \
               (["+tcp"] if self.tcp else ["+notcp", "+ignore"]) + \
               (["+cd"] if self.cd else []) + (["+adflag"] if self.ad else ["+noadflag"])
        return f"dig -p {port} @127.0.0.1 {' '.join(opts)} '{self.qname}' {self.qclass} {self.qtype}"


def ask(server_addr, query):
    """Send `query` (a Query) to (host, port); return (wire reply or None, sent message)."""
    m = query.message()
    m._tcp = query.tcp   # for the size limit (normalize)
    wire = m.to_wire()
    if query.tcp:
        return tcp_exchange(wire, server_addr), m
    return udp_exchange(wire, server_addr), m


# ---------------------------------------------------------------- normalisation

def parse(wire):
    return dns.message.from_wire(wire, ignore_trailing=False, one_rr_per_rrset=True)


def canon_rr(rrset, rd):
    digest = rd.to_digestable()
    try:
        text = dns.rdata.from_wire(rrset.rdclass, rrset.rdtype, digest, 0,
                                   len(digest)).to_text()
    except Exception:
        text = "\\# %d %s" % (len(digest), digest.hex())
    return (rrset.name.to_text().lower(), rrset.ttl,
            dns.rdataclass.to_text(rrset.rdclass), dns.rdatatype.to_text(rrset.rdtype), text)


def section_set(section):
    return frozenset(canon_rr(rrset, rd) for rrset in section for rd in rrset)


COOKIE = 10  # RFC 7873: not compared


def edns_options(m):
    return tuple(sorted((o.otype, o.to_wire().hex()) for o in m.options if o.otype != COOKIE))


def flags_of(flags):
    return tuple(n for n, bit in FLAG_NAMES if flags & bit)


SERVER_UDP_MAX = 1232   # NSD's, Knot's and Bulwark's largest UDP reply by default


def size_limit(sent):
    """The size limit a reply to `sent` had (RFC 1035 4.2.1, RFC 6891 6.2.5)."""
    if sent is None:
        return 512
    if getattr(sent, "_tcp", False):
        return 65535
    if sent.edns >= 0:
        return min(max(512, sent.payload), SERVER_UDP_MAX)
    return 512


def normalize(wire, sent=None):
    """Reduce a reply to the comparable Norm dict (or a dict with 'error')."""
    if wire is None:
        return {"error": "no response (timeout)"}
    try:
        m = parse(wire)
    except Exception as e:  # unparseable reply is a result, not a crash
        return {"error": f"unparseable reply: {type(e).__name__}: {e}",
                "raw": wire[:64].hex()}
    out = {
        "rcode": dns.rcode.to_text(m.rcode()),
        "opcode": dns.opcode.to_text(m.opcode()),
        "flags": flags_of(m.flags),
        "question": tuple((q.name.to_text(), dns.rdataclass.to_text(q.rdclass),
                           dns.rdatatype.to_text(q.rdtype)) for q in m.question),
        "answer": section_set(m.answer),
        "authority": section_set(m.authority),
        "additional": section_set(m.additional),
        "edns": None if m.edns < 0 else (m.edns, bool(m.ednsflags & dns.flags.DO), edns_options(m)),
        # Not compared (keys starting with "_"): what the documented differences need.
        "_size": len(wire),
        "_limit": size_limit(sent),
    }
    if sent is not None and m.id != sent.id:
        out["id"] = f"reply ID {m.id} != query ID {sent.id}"
    return out


def freeze(norm):
    return tuple(sorted((k, v if not isinstance(v, (set, frozenset)) else tuple(sorted(v)))
                        for k, v in norm.items() if not k.startswith("_")))


def same(a, b):
    return freeze(a) == freeze(b)


def _without(norm, key):
    return {k: v for k, v in norm.items() if k != key}


def _rrsets(records):
    """{(owner, type): set of records} of a section."""
    out = {}
    for rr in records:
        out.setdefault((rr[0], rr[3]), set()).add(rr)
    return out


def svcb_self_addresses(norm):
    """RFC 9460 2.5.2 / 4.2: the owners of ServiceMode SVCB/HTTPS answers whose
    TargetName is "." (their A/AAAA may be added beyond a peer's additional section)."""
    owners = set()
    for rr in norm.get("answer", ()):
        if rr[3] in ("SVCB", "HTTPS"):
            fields = rr[4].split()
            if len(fields) >= 2 and fields[0] != "0" and fields[1] == ".":
                owners.add(rr[0])
    return owners


def accepted_difference(peer, subject, other=None):
    """A documented difference between `subject` and `peer` (see the module's
    docstring), or None. Only the additional section may differ; `other`, the other
    peer, also counts for what "a peer sends" when the section was cut."""
    if "error" in peer or "error" in subject:
        return None
    # RFC 2181 9: a truncated reply sent empty.
    if "TC" in subject["flags"] and "TC" in peer["flags"] and \
            not (subject["answer"] or subject["authority"] or subject["additional"]):
        if all(subject.get(k) == peer.get(k) for k in ("rcode", "opcode", "flags", "question", "edns")):
            return "RFC 2181 9: a truncated reply sent empty"
        return None
    if not same(_without(peer, "additional"), _without(subject, "additional")):
        return None
    mine, theirs = _rrsets(subject["additional"]), _rrsets(peer["additional"])
    sent = dict(theirs)
    if other is not None and "error" not in other:
        for k, v in _rrsets(other["additional"]).items():
            sent.setdefault(k, v)
    # RFC 9460 2.5.2 / 4.2: the ServiceMode "." owner's own addresses.
    selves = svcb_self_addresses(subject)
    extra = {k for k in mine if k not in theirs}
    if extra and all(k[0] in selves and k[1] in ("A", "AAAA") for k in extra):
        mine = {k: v for k, v in mine.items() if k not in extra}
        if mine == theirs:
            return "RFC 9460 2.5.2: ServiceMode \".\" owner's addresses"
    # RFC 1035 4.2.1 / RFC 9471 3: a section cut by the size limit.
    full = subject.get("_limit", 512) - subject.get("_size", 0) < 64 or \
        peer.get("_limit", 512) - peer.get("_size", 0) < 64
    if not full:
        return None
    if any(sent.get(k) != v for k, v in mine.items()):
        return None                      # an RRset in part, or one no peer sends
    cuts = {rr[0] for rr in subject["authority"] if rr[3] == "NS"} if not subject["answer"] else set()
    below = lambda owner: any(owner == c or owner.endswith("." + c) for c in cuts if c != ".")
    missing_glue = [k for k in theirs if k not in mine and below(k[0])]
    if missing_glue and "TC" not in subject["flags"]:
        return None                      # RFC 9471 3: required glue left out without TC
    return "RFC 9471 3: additional section cut at the size limit"


def verdict(nsd, knot, subject):
    """The differential rule. Returns None when it holds, else a reason."""
    if same(nsd, knot):
        if same(subject, nsd):
            return None
        if accepted_difference(nsd, subject):
            return None
        return "differs from NSD and Knot, which agree"
    if same(subject, nsd) or same(subject, knot):
        return None
    if accepted_difference(nsd, subject, knot) or accepted_difference(knot, subject, nsd):
        return None
    return "equals neither NSD nor Knot (they differ from each other too)"


# ---------------------------------------------------------------- reporting

def fmt_norm(norm, indent="    "):
    if "error" in norm:
        return indent + norm["error"] + ("\n" + indent + "raw: " + norm["raw"]
                                         if "raw" in norm else "")
    lines = [f"{indent}{norm['opcode']} {norm['rcode']} flags={' '.join(norm['flags']) or '-'}"
             f" edns={norm['edns']}" + (f" {norm['id']}" if "id" in norm else ""),
             f"{indent}question: {norm['question']}"]
    for sec in ("answer", "authority", "additional"):
        v = norm[sec]
        if isinstance(v, str):
            lines.append(f"{indent}{sec}: {v}")
            continue
        lines.append(f"{indent}{sec}:{' (empty)' if not v else ''}")
        for rr in sorted(v):
            lines.append(f"{indent}  {rr[0]} {rr[1]} {rr[2]} {rr[3]} {rr[4]}")
    return "\n".join(lines)


def fields_differing(a, b):
    if "error" in a or "error" in b:
        return ["error"] if a.get("error") != b.get("error") else []
    return [k for k in a if k in b and not k.startswith("_") and (freeze({k: a[k]}) != freeze({k: b[k]}))]


def report(mismatches, subject_name, subject_port, limit=40):
    """Readable multi-query diff. mismatches: [(Query, reason, nsd, knot, subject)]."""
    out = [f"{len(mismatches)} queries where {subject_name} breaks the rule "
           "(equal to at least one peer; equal to both where they agree)."]
    summary = {}
    for q, _, n, k, s in mismatches:
        dn, dk = fields_differing(n, s), fields_differing(k, s)
        key = (q.qtype, ",".join(dn if len(dn) <= len(dk) else dk))
        summary[key] = summary.get(key, 0) + 1
    out.append("By query type and the fields that differ from the closest peer:")
    for (qtype, fields), count in sorted(summary.items(), key=lambda kv: -kv[1])[:15]:
        out.append(f"  {count:5d}  {qtype:10s} {fields}")
    out.append("")
    for i, (q, reason, n, k, s) in enumerate(mismatches):
        if i == limit:
            out.append(f"... and {len(mismatches) - limit} more (see the full report file)")
            break
        diff_n = fields_differing(n, s)
        diff_k = fields_differing(k, s)
        out.append(f"#{i + 1} {q}: {reason}; vs NSD differs in {diff_n}, vs Knot in {diff_k}")
        out.append(f"  reproduce: {q.dig(subject_port)}")
        if same(n, k):
            out.append("  NSD = Knot:")
            out.append(fmt_norm(n))
        else:
            out.append("  NSD:")
            out.append(fmt_norm(n))
            out.append("  Knot:")
            out.append(fmt_norm(k))
        out.append(f"  {subject_name}:")
        out.append(fmt_norm(s))
        closest, cname = (n, "NSD") if len(diff_n) <= len(diff_k) else (k, "Knot")
        delta = [l for l in difflib.unified_diff(fmt_norm(closest).splitlines(),
                                                 fmt_norm(s).splitlines(), lineterm="", n=0)
                 if l[:1] in "+-" and not l.startswith(("+++", "---"))]
        if delta:
            out.append(f"  diff {cname} -> {subject_name}:")
            out += ["   " + l for l in delta]
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- truncation

def partial_rrsets(tc_wire, full_wire):
    """RRsets that a truncated reply carries only in part (RFC 2181 9: none allowed
    in the answer). Returns a list of descriptions; empty is good."""
    bad = []
    try:
        tc = parse(tc_wire)
        full = parse(full_wire)
    except Exception as e:
        return [f"unparseable: {e}"]
    for sec in ("answer", "authority"):
        whole = {}
        for rrset in getattr(full, sec):
            whole.setdefault((rrset.name.to_text().lower(), rrset.rdtype), set()).update(
                canon_rr(rrset, rd) for rd in rrset)
        got = {}
        for rrset in getattr(tc, sec):
            got.setdefault((rrset.name.to_text().lower(), rrset.rdtype), set()).update(
                canon_rr(rrset, rd) for rd in rrset)
        for key, rrs in got.items():
            if key in whole and rrs != whole[key]:
                bad.append(f"{sec}: {key[0]} {dns.rdatatype.to_text(key[1])} has "
                           f"{len(rrs)} of {len(whole[key])} records")
    return bad


def random_case(name, rnd):
    return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in name)


# ---------------------------------------------------------------- ANY (RFC 8482)

def any_acceptable(qname, nsd, knot, subject, rrsets_at):
    """RFC 8482 lets a server answer ANY with one RRset, several, all, or a synthesised
    HINFO; NSD 4.6 and Knot 3.2 each return one RRset but pick different ones. So for
    ANY at an existing owner, accept a subject reply that equals a peer in everything
    but the answer section, when that answer is a non-empty union of *complete* RRsets
    that exist at the name (rrsets_at: {type text: set of canon RRs}), or the RFC 8482
    HINFO. Returns True if acceptable under that relaxed rule."""
    if "error" in subject or not rrsets_at or isinstance(subject["answer"], str):
        return False
    rest = lambda n: {k: v for k, v in n.items() if k != "answer"}
    if not any("error" not in p and same(rest(p), rest(subject)) for p in (nsd, knot)):
        return False
    groups = {}
    for rr in subject["answer"]:
        if rr[0] != qname.lower():
            return False
        groups.setdefault(rr[3], set()).add(rr)
    if not groups:
        return False
    if set(groups) == {"HINFO"} and len(groups["HINFO"]) == 1 and \
            next(iter(groups["HINFO"]))[4].startswith('"RFC8482"'):
        return True
    return all(rrsets_at.get(t) == rrs for t, rrs in groups.items())
