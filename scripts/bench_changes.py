#!/usr/bin/env python3
"""Change latency at scale: Bulwark's API against Knot DNS and PowerDNS, one zone, one run.

usage: scripts/bench_changes.py [options]        (or: scripts/bench.sh --changes [options])

On one zone from ../shared/bench/genzone.py (--names, default 1,000,000), for each server
in turn (--servers, default knot,pdns,bulwark), all on 127.0.0.1 with ports of their own:
  - load the zone and time it until the zone's SOA answers over UDP, then read the server
    process's VmRSS (one second after);
      knot     knotd reads the zone file (start until the SOA answers); zonefile-sync: -1
               (not Knot's default 0, which writes the whole zone file back after every
               change), journal-content: changes (the default), everything else default;
      pdns     PowerDNS Authoritative, gsqlite3 backend, its own config dir: `pdnsutil
               load-zone` into a new database (timed), then start until the SOA answers
               (--pdns-import api: start, then POST the zone-file text to its API);
               packet and query caches off (cache-ttl, query-cache-ttl,
               negquery-cache-ttl = 0), everything else default;
      bulwark  `bulwark serve` with no zone, then PUT /v1/zones/Z/zonefile with the zone
               file as the body: from the request until the SOA answers (api.max-body
               raised to fit, api.rate-limit 0);
  - make --count (default 100) one-RRset changes, one after the other: the A RRset of a
    different existing owner each time (the same owners for every server), given a new
    address (unique per change):
      knot     knotc zone-begin / zone-unset OWNER A / zone-set OWNER TTL A ADDR /
               zone-commit, one knotc process each, as Knot's manual shows it (zone-set
               alone would add a record to the RRset, not replace it);
      pdns     PATCH /api/v1/servers/localhost/zones/Z. with one rrset, changetype REPLACE;
      bulwark  PUT /v1/zones/Z/rrsets/OWNER/A;
    and for each: the time from sending the change until its reply (the last knotc's
    exit, the HTTP response; a new connection per request, as curl), and until a UDP query
    returns the new data (queries every ~1 ms after the reply, up to --visible-timeout),
    and whether the first query after the reply already saw it;
  - stop it (SIGTERM) and start it again as it was started: the time until it answers the
    last change's data over UDP (Knot: zone file plus journal; PowerDNS: its database;
    Bulwark: its store, an imported zone's text plus the rows changed since).
Also bulwark-file (the default list has it): the same zone from a file at start-up, load
time and memory only, for comparing the API import with. Variants, also for --servers: knot-batch (the four knotc commands on one knotc's standard
input), pdns-norectify (default-api-rectify=no: PowerDNS's default `yes` rectifies the
whole zone after every API change).
Prints one markdown table (p50 / p99 / max in ms), writes the raw figures to
<workdir>/results.json, and prints the command line.

Options: --names N, --count N, --servers LIST, --bulwark-bin PATH (default
.build/release/bulwark; copied into the work dir first), --port-base P (env PORT_BASE,
default 5421; uses P..P+5), --import-timeout S (default 1800), --change-timeout S
(default 300, per change), --visible-timeout S (default 10), --pdns-import pdnsutil|api,
--seed N, --gap S (pause between changes, default 0.05), --time-limit S (seconds of changes
per server, default 300: a server slower than that makes fewer, and the table says so).
Env: KEEP=1 keeps the whole work dir (otherwise only results.json, results.md and the
servers' logs are kept), SHARED (default ../shared beside the repository).
Bounded: every wait has a timeout; the servers run one at a time and every server started
is killed on exit, also on an error, SIGTERM or Ctrl-C.
"""
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import dns.rdatatype

from benchkit import (a_set, argument_parser, binary_version, check_ports, command_line, kill_all, ms_text, on_exit,
                      print_results, query, request, rss_mib, spawn, stop, summary, tail, wait_http, wait_soa)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZONE = "bench.test."
TTL = 3600
ADMIN_KEY = "bench-changes-admin-" + os.urandom(8).hex()
PDNS_KEY = "bench-changes-pdns-" + os.urandom(8).hex()

KINDS = {"knot": "Knot DNS", "knot-batch": "Knot DNS (one knotc)", "pdns": "PowerDNS",
         "pdns-norectify": "PowerDNS (api-rectify off)", "bulwark": "Bulwark",
         "bulwark-file": "Bulwark (zone file, no changes)"}


def log(msg):
    print(f"[changes {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def timed_import(srv, r, what, method, path, body, headers, how):
    """An import through `srv`'s HTTP API (201 expected), timed to its reply ("import_s")
    and until the zone's SOA answers over UDP ("load_s")."""
    t0 = time.perf_counter()
    st, out = request(srv.api_port, method, path, body, headers, timeout=srv.a.import_timeout)
    t1 = time.perf_counter()
    if st != 201:
        raise RuntimeError(f"{what} import: HTTP {st}: {out[:2000]!r}")
    t2 = wait_soa(srv.port, ZONE, t0 + srv.a.import_timeout, srv.proc, what)
    r["import_s"] = t1 - t0
    r["load_s"] = t2 - t0
    r["load_what"] = how + " until the SOA answers"


# --- servers --------------------------------------------------------------------------

class Knot:
    def __init__(self, a, work, zonefile, port, batch=False):
        self.name = "knot-batch" if batch else "knot"
        self.batch = batch
        self.a, self.dir, self.zonefile, self.port = a, os.path.join(work, self.name), zonefile, port
        self.proc = None
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
        self.conf = os.path.join(self.dir, "knot.conf")
        self.log = os.path.join(self.dir, "knot.log")
        d = self.dir
        with open(self.conf, "w") as f:
            f.write(f"""server:
  listen: 127.0.0.1@{port}
  rundir: "{d}"
  pidfile: "{d}/knot.pid"
control:
  listen: "{d}/knot.sock"
database:
  storage: "{d}/db"
log:
  - target: "{d}/knot.log"
    any: notice
template:
  - id: default
    storage: "{d}"
    # Not the default (0: write the whole zone file back after every change, which on a
    # large zone would be measured instead of the change); changes go to the journal.
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: {ZONE}
    file: "{zonefile}"
""")

    def version(self):
        return subprocess.run(["knotd", "--version"], capture_output=True, text=True, timeout=10).stdout.split()[-1]

    def launch(self):
        self.proc = spawn(["knotd", "-c", self.conf], os.path.join(self.dir, "knotd.out"))

    def load(self, r):
        t0 = time.perf_counter()
        self.launch()
        t1 = wait_soa(self.port, ZONE, t0 + self.a.import_timeout, self.proc, "knotd")
        r["load_s"] = t1 - t0
        r["load_what"] = "knotd start until the SOA answers"
        return self.proc.pid

    def knotc(self, args, stdin=None):
        p = subprocess.run(["knotc", "-c", self.conf, *args], input=stdin, capture_output=True, text=True,
                           timeout=self.a.change_timeout)
        out = p.stdout + p.stderr
        if p.returncode != 0 or "error" in out.lower():
            raise RuntimeError(f"knotc {' '.join(args)}: status {p.returncode}: {out.strip()}")

    def change(self, owner, addr):
        fq = owner + "." + ZONE
        cmds = [["zone-begin", ZONE], ["zone-unset", ZONE, fq, "A"],
                ["zone-set", ZONE, fq, str(TTL), "A", addr], ["zone-commit", ZONE]]
        try:
            if self.batch:
                self.knotc([], stdin="".join(" ".join(c) + "\n" for c in cmds))
            else:
                for c in cmds:
                    self.knotc(c)
        except Exception:
            subprocess.run(["knotc", "-c", self.conf, "zone-abort", ZONE], capture_output=True, timeout=30)
            raise

    def method(self):
        if self.batch:
            return "1 knotc, stdin: zone-begin, zone-unset, zone-set, zone-commit"
        return "4 knotc: zone-begin, zone-unset, zone-set, zone-commit"


class PowerDNS:
    def __init__(self, a, work, zonefile, port, api_port, rectify=True):
        self.name = "pdns" if rectify else "pdns-norectify"
        self.rectify = "yes" if rectify else "no"
        self.a, self.dir, self.zonefile, self.port, self.api_port = a, os.path.join(work, self.name), zonefile, port, api_port
        self.proc = None
        os.makedirs(self.dir, exist_ok=True)
        self.db = os.path.join(self.dir, "pdns.sqlite3")
        zone_mb = os.path.getsize(zonefile) / 1e6
        with open(os.path.join(self.dir, "pdns.conf"), "w") as f:
            f.write(f"""launch=gsqlite3
gsqlite3-database={self.db}
local-address=127.0.0.1
local-port={port}
socket-dir={self.dir}
daemon=no
guardian=no
disable-syslog=yes
security-poll-suffix=
api=yes
api-key={PDNS_KEY}
webserver=yes
webserver-address=127.0.0.1
webserver-port={api_port}
webserver-allow-from=127.0.0.1
webserver-max-bodysize={int(zone_mb * 3) + 16}
# no cache may hide a change: the packet cache and the query cache off
cache-ttl=0
query-cache-ttl=0
negquery-cache-ttl=0
# PowerDNS's default is yes: every API change rectifies the zone (ordername, auth)
default-api-rectify={self.rectify}
""")

    def version(self):
        p = subprocess.run(["pdns_server", "--version"], capture_output=True, text=True, timeout=10)
        for w in (p.stdout + p.stderr).split():
            if w[:1].isdigit() and "." in w:
                return w
        return "?"

    def schema(self):
        for path in ("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql",
                     "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql"):
            if os.path.exists(path):
                return path
        raise RuntimeError("the gsqlite3 schema is missing: apt-get install -y pdns-backend-sqlite3")

    def launch(self):
        self.proc = spawn(["pdns_server", f"--config-dir={self.dir}"], os.path.join(self.dir, "pdns.log"))

    def start(self, deadline):
        self.launch()
        wait_http(self.api_port, "/api/v1/servers/localhost", deadline, self.proc, "pdns_server",
                  headers={"X-API-Key": PDNS_KEY})

    def load(self, r):
        with open(self.schema()) as f:
            con = sqlite3.connect(self.db)
            con.executescript(f.read())
            con.close()
        if self.a.pdns_import == "pdnsutil":
            t0 = time.perf_counter()
            p = subprocess.run(["pdnsutil", f"--config-dir={self.dir}", "load-zone", ZONE, self.zonefile],
                               capture_output=True, text=True, timeout=self.a.import_timeout)
            t1 = time.perf_counter()
            if p.returncode != 0:
                raise RuntimeError(f"pdnsutil load-zone: status {p.returncode}: {(p.stdout + p.stderr)[-2000:]}")
            r["import_s"] = t1 - t0
            t2 = time.perf_counter()
            self.launch()
            t3 = wait_soa(self.port, ZONE, t2 + self.a.import_timeout, self.proc, "pdns_server")
            r["start_s"] = t3 - t2
            r["load_s"] = (t1 - t0) + (t3 - t2)
            r["load_what"] = "pdnsutil load-zone, then pdns_server start until the SOA answers"
        else:
            t = time.perf_counter()
            self.start(t + 60)
            r["start_s"] = time.perf_counter() - t
            with open(self.zonefile) as f:
                body = {"name": ZONE, "kind": "Native", "nameservers": [], "zone": f.read()}
            body = json.dumps(body).encode()
            timed_import(self, r, "pdns_server", "POST", "/api/v1/servers/localhost/zones", body,
                         {"X-API-Key": PDNS_KEY}, "POST /api/v1/servers/localhost/zones (zone-file text)")
        if self.a.pdns_import == "pdnsutil":
            wait_http(self.api_port, "/api/v1/servers/localhost", time.monotonic() + 60, self.proc, "pdns_server",
                      headers={"X-API-Key": PDNS_KEY})
        return self.proc.pid

    def change(self, owner, addr):
        body = {"rrsets": [{"name": owner + "." + ZONE, "type": "A", "ttl": TTL, "changetype": "REPLACE",
                            "records": [{"content": addr, "disabled": False}]}]}
        st, out = request(self.api_port, "PATCH", f"/api/v1/servers/localhost/zones/{ZONE}", body,
                       {"X-API-Key": PDNS_KEY}, timeout=self.a.change_timeout)
        if st != 204:
            raise RuntimeError(f"PowerDNS PATCH: HTTP {st}: {out[:500]!r}")

    def method(self):
        return f"API PATCH zones/Z., one rrset REPLACE (api-rectify {self.rectify})"


class Bulwark:
    name = "bulwark"

    def __init__(self, a, work, zonefile, port, api_port, ops_port, binary):
        self.a, self.dir, self.zonefile = a, os.path.join(work, "bulwark"), zonefile
        self.port, self.api_port, self.ops_port, self.bin = port, api_port, ops_port, binary
        self.proc = None
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(self.dir, "bulwark.log")

    def version(self):
        return binary_version(self.bin)  # a copy with the original's modification time

    def load(self, r):
        with open(self.zonefile, "rb") as f:
            body = f.read()
        max_body = min(1 << 30, max(4 << 20, len(body) + (1 << 20)))
        conf = os.path.join(self.dir, "bulwark.yaml")
        with open(conf, "w") as f:
            # rate-limit 0: 100 changes back to back must not be throttled; max-body: the import.
            f.write(f"api:\n  max-body: {max_body}\n  rate-limit: 0\n")
        t = time.perf_counter()
        self.launch()
        wait_http(self.api_port, "/v1/health", time.monotonic() + 60, self.proc, "bulwark")
        r["start_s"] = time.perf_counter() - t
        r["import_body_bytes"] = len(body)
        timed_import(self, r, "bulwark", "PUT", f"/v1/zones/{ZONE.rstrip('.')}/zonefile", body,
                     {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "text/dns"},
                     "PUT /v1/zones/Z/zonefile (the zone file, streamed)")
        return self.proc.pid

    def launch(self):
        self.proc = spawn([self.bin, "serve", "--config", os.path.join(self.dir, "bulwark.yaml"),
                           "--listen", f"127.0.0.1:{self.port}",
                           "--api-listen", f"127.0.0.1:{self.api_port}", "--ops-listen", f"127.0.0.1:{self.ops_port}",
                           "--data-dir", os.path.join(self.dir, "data"), "--log-level", "warning"],
                          self.log, env=dict(os.environ, BULWARK_ADMIN_KEY=ADMIN_KEY))

    def change(self, owner, addr):
        st, out = request(self.api_port, "PUT", f"/v1/zones/{ZONE.rstrip('.')}/rrsets/{owner}/A",
                       {"ttl": TTL, "records": [addr]}, {"Authorization": f"Bearer {ADMIN_KEY}"},
                       timeout=self.a.change_timeout)
        if st != 200:
            raise RuntimeError(f"Bulwark PUT: HTTP {st}: {out[:500]!r}")

    def method(self):
        return "API PUT /v1/zones/Z/rrsets/OWNER/A"


class BulwarkFile(Bulwark):
    """The same zone from a file at start-up: what an API import and an API zone's memory
    are compared with. Zone-file zones are not changed through the API."""
    name = "bulwark-file"
    changes = False

    def __init__(self, *args):
        super().__init__(*args)
        self.dir = self.dir + "-file"
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(self.dir, "bulwark.log")

    def load(self, r):
        t0 = time.perf_counter()
        self.proc = spawn([self.bin, "serve", "--zone", f"{ZONE.rstrip('.')}={self.zonefile}",
                           "--listen", f"127.0.0.1:{self.port}", "--api-listen", "off",
                           "--ops-listen", f"127.0.0.1:{self.ops_port}",
                           "--data-dir", os.path.join(self.dir, "data"), "--log-level", "warning"], self.log)
        t1 = wait_soa(self.port, ZONE, t0 + self.a.import_timeout, self.proc, "bulwark")
        r["load_s"] = t1 - t0
        r["load_what"] = "bulwark serve --zone FILE start until the SOA answers"
        return self.proc.pid

    def method(self):
        return "(none: a zone file)"


# --- measuring ------------------------------------------------------------------------

def run_changes(srv, changes, a, r):
    rows = []
    r["changes"] = rows
    started = time.monotonic()
    for i, (owner, old, addr) in enumerate(changes):
        if time.monotonic() - started > a.time_limit:
            r["time_limited"] = True
            log(f"{srv.name}: stopped after {i} changes ({a.time_limit:.0f} s)")
            break
        name = owner + "." + ZONE
        before = a_set(query(srv.port, name, dns.rdatatype.A, timeout=1.0), name)
        t0 = time.perf_counter()
        srv.change(owner, addr)
        t1 = time.perf_counter()
        row = {"owner": owner, "old": old, "new": addr, "before": before, "reply_ms": (t1 - t0) * 1e3}
        queries, first_new, seen = 0, None, None
        while True:
            tq = time.perf_counter()
            got = a_set(query(srv.port, name, dns.rdatatype.A, timeout=0.1), name)
            queries += 1
            ta = time.perf_counter()
            if first_new is None:
                first_new = got == [addr]
            if got == [addr]:
                seen = ta
                break
            if ta - t1 > a.visible_timeout:
                break
            time.sleep(max(0.0, 0.001 - (time.perf_counter() - tq)))
        row["queries"] = queries
        row["first_query_new"] = first_new
        if seen is not None:
            row["visible_ms"] = (seen - t0) * 1e3
            row["visible_after_reply_ms"] = (seen - t1) * 1e3
        else:
            row["visible_ms"] = None
            log(f"{srv.name}: change {i + 1} ({name} -> {addr}) not answered within {a.visible_timeout}s")
        rows.append(row)
        if (i + 1) % 10 == 0 or i == 0:
            log(f"{srv.name}: {i + 1}/{len(changes)} changes, last reply {row['reply_ms']:.1f} ms")
        if a.gap > 0:
            time.sleep(a.gap)


def restart(srv, r):
    """Stops the server (SIGTERM) and starts it again as it was started: the time until
    it answers the last change's data over UDP (the zone as loaded plus every change)."""
    last = r["changes"][-1]
    name = last["owner"] + "." + ZONE
    stop(srv.proc)
    t0 = time.perf_counter()
    srv.launch()
    deadline = t0 + srv.a.import_timeout
    while True:
        try:
            if a_set(query(srv.port, name, dns.rdatatype.A, timeout=0.2), name) == [last["new"]]:
                break
        except Exception:  # not listening yet
            pass
        if srv.proc.poll() is not None:
            raise RuntimeError(f"{srv.name} exited during its restart")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{srv.name}: the last change not answered {srv.a.import_timeout:.0f} s after a restart")
        time.sleep(0.01)
    r["restart_s"] = time.perf_counter() - t0
    log(f"{srv.name}: restarted in {r['restart_s']:.2f}s (until the last change answers)")


def measure(srv, changes, a):
    r = {"server": srv.name, "version": srv.version(), "method": srv.method()}
    log(f"{srv.name}: loading the zone")
    try:
        pid = srv.load(r)
        r["pid"] = pid
        time.sleep(1)
        r["rss_after_load_mib"] = rss_mib(pid)
        log(f"{srv.name}: loaded in {r['load_s']:.2f}s, RSS {r['rss_after_load_mib']:.0f} MiB; {len(changes)} changes")
        if getattr(srv, "changes", True):
            run_changes(srv, changes, a, r)
        r["rss_after_changes_mib"] = rss_mib(pid)
        if r.get("changes") and hasattr(srv, "launch"):
            restart(srv, r)
    except Exception as e:  # keep what was measured; the other servers still run
        r["error"] = f"{type(e).__name__}: {e}"
        log(f"{srv.name}: FAILED: {r['error']}")
        for lf in (getattr(srv, "log", None), os.path.join(srv.dir, "pdns.log"), os.path.join(srv.dir, "knotd.out")):
            if lf and os.path.exists(lf) and tail(lf):
                log(f"{srv.name}: tail of {lf}:\n{tail(lf)}")
                break
    finally:
        stop(srv.proc)
    rows = r.get("changes", [])
    r["reply_ms"] = summary([x["reply_ms"] for x in rows])
    vis = [x["visible_ms"] for x in rows if x.get("visible_ms") is not None]
    r["visible_ms"] = summary(vis)
    r["visible_after_reply_ms"] = summary([x["visible_after_reply_ms"] for x in rows if x.get("visible_ms") is not None])
    r["first_query_new"] = sum(1 for x in rows if x["first_query_new"])
    r["visible_count"] = len(vis)
    r["done"] = len(rows)
    return r


def table(results, a, names, zone_bytes, records):
    def num(v, f="{:.2f}"):
        return "-" if v is None else f.format(v)

    cols = [r["server"] for r in results]
    lines = ["| | " + " | ".join(KINDS[c] for c in cols) + " |",
             "|---|" + "---|" * len(cols)]

    def row(label, f):
        lines.append(f"| {label} | " + " | ".join(f(r) for r in results) + " |")

    row("version", lambda r: r["version"])
    row("change made by", lambda r: r["method"])
    row("load: until the SOA answers (s)", lambda r: num(r.get("load_s")))
    row("of which import (s)", lambda r: num(r.get("import_s")))
    row("RSS after load (MiB)", lambda r: num(r.get("rss_after_load_mib"), "{:.0f}"))
    row("RSS after the changes (MiB)", lambda r: num(r.get("rss_after_changes_mib"), "{:.0f}"))
    row("changes done", lambda r: f"{r['done']}/{a.count}" + (" (failed)" if r.get("error") else "")
        + (f" (time limit {a.time_limit:.0f} s)" if r.get("time_limited") else "")
        + (f", {r['visible_count']} answered" if r["visible_count"] < r["done"] else ""))
    row("change → reply, p50 / p99 / max (ms)", lambda r: ms_text(r.get("reply_ms")))
    row("change → new data over UDP, p50 / p99 / max (ms)", lambda r: ms_text(r.get("visible_ms")))
    row("reply → new data over UDP, p50 / p99 / max (ms)", lambda r: ms_text(r.get("visible_after_reply_ms")))
    row("first query after the reply saw the new data", lambda r: f"{r['first_query_new']}/{r['done']}")
    row("restart: until the last change answers (s)", lambda r: num(r.get("restart_s")))
    head = (f"# Changes at scale: {names:,} names ({records:,} records, {zone_bytes / 1e6:.0f} MB zone file), "
            f"{a.count} one-RRset changes per server, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return head + "\n\n" + "\n".join(lines)


def main():
    ap = argument_parser(__doc__, 5421, ROOT)
    ap.add_argument("--names", type=int, default=1_000_000)
    ap.add_argument("--count", type=int, default=100, help="changes per server")
    ap.add_argument("--servers", default="knot,pdns,bulwark-file,bulwark")
    ap.add_argument("--import-timeout", type=float, default=1800)
    ap.add_argument("--change-timeout", type=float, default=300)
    ap.add_argument("--visible-timeout", type=float, default=10)
    ap.add_argument("--pdns-import", choices=["pdnsutil", "api"], default="pdnsutil")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--gap", type=float, default=0.05, help="seconds between two changes")
    ap.add_argument("--time-limit", type=float, default=300,
                    help="seconds of changes per server; a slower server stops early (its count says so)")
    a = ap.parse_args()

    servers = [s.strip() for s in a.servers.split(",") if s.strip()]
    for s in servers:
        if s not in KINDS:
            ap.error(f"unknown server {s!r} ({', '.join(KINDS)})")
    if a.count < 1 or a.count > a.names:
        ap.error("--count must be between 1 and --names")
    need = {"knot": ["knotd", "knotc"], "pdns": ["pdns_server", "pdnsutil"], "bulwark": []}
    for s in servers:
        for tool in need[s.split("-")[0]]:
            if shutil.which(tool) is None:
                sys.exit(f"bench_changes: {tool} not found (apt-get install -y knot pdns-server pdns-backend-sqlite3)")
    if any(s.startswith("bulwark") for s in servers) and not os.access(a.bulwark_bin, os.X_OK):
        sys.exit(f"bench_changes: {a.bulwark_bin} is not an executable (build it or give --bulwark-bin)")
    ports = {"knot": a.port_base, "pdns": a.port_base + 1, "pdns-api": a.port_base + 2,
             "bulwark": a.port_base + 3, "bulwark-api": a.port_base + 4, "bulwark-ops": a.port_base + 5}
    check_ports(ports, "bench_changes")

    command = command_line(__file__)
    work = tempfile.mkdtemp(prefix="bulwark-changes.", dir="/tmp")
    keep = os.environ.get("KEEP", "0") == "1"

    def cleanup():
        kill_all()
        if not keep and os.path.isdir(work):
            # Drop the bulky parts (zone, databases, binary); keep figures and logs.
            for d in ["zone", "bin", "knot/db", "knot-batch/db", "bulwark/data", "bulwark-file/data"]:
                shutil.rmtree(os.path.join(work, d), ignore_errors=True)
            for d in ("pdns", "pdns-norectify"):
                for f in ("pdns.sqlite3", "pdns.sqlite3-wal", "pdns.sqlite3-shm"):
                    try:
                        os.remove(os.path.join(work, d, f))
                    except OSError:
                        pass

    on_exit(cleanup)
    log(f"work dir {work}")
    try:
        binary = None
        if any(s.startswith("bulwark") for s in servers):
            os.makedirs(os.path.join(work, "bin"))
            binary = os.path.join(work, "bin", "bulwark")
            shutil.copy2(a.bulwark_bin, binary)
        kit = os.path.join(os.environ.get("SHARED", os.path.join(ROOT, "..", "shared")), "bench")
        log(f"generating the {a.names:,}-name zone")
        subprocess.run([sys.executable, os.path.join(kit, "genzone.py"), os.path.join(work, "zone"),
                        "--names", str(a.names), "--queries", "1"], check=True, stdout=subprocess.DEVNULL,
                       timeout=1800)
        zonefile = os.path.join(work, "zone", "bench.test.zone")
        zone_bytes = os.path.getsize(zonefile)
        with open(zonefile) as f:
            records = sum(1 for line in f if " IN " in line)
        # The owners: hN, each with one A record 10.x.y.z (genzone.py); new addresses in
        # 198.18.0.0/15 (benchmarking, RFC 2544), one per change.
        picks = random.Random(a.seed).sample(range(a.names), a.count)
        changes = [(f"h{i}", f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
                    f"198.{18 + (k >> 16)}.{(k >> 8) & 255}.{k & 255}") for k, i in enumerate(picks, start=1)]
        results = []
        for s in servers:
            if s.startswith("knot"):
                srv = Knot(a, work, zonefile, ports["knot"], batch=s == "knot-batch")
            elif s.startswith("pdns"):
                srv = PowerDNS(a, work, zonefile, ports["pdns"], ports["pdns-api"], rectify=s == "pdns")
            else:
                kind = BulwarkFile if s == "bulwark-file" else Bulwark
                srv = kind(a, work, zonefile, ports["bulwark"], ports["bulwark-api"], ports["bulwark-ops"], binary)
            results.append(measure(srv, changes, a))
            with open(os.path.join(work, "results.json"), "w") as f:
                json.dump({"command": command, "names": a.names, "records": records, "zone_bytes": zone_bytes,
                           "count": a.count, "ports": ports,
                           "pdns_import": a.pdns_import, "results": results}, f, indent=1)
        print_results(table(results, a, a.names, zone_bytes, records), work, command)
        return 1 if any(r.get("error") for r in results) else 0
    finally:
        cleanup()
        if keep:
            log(f"kept {work}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; the servers are stopped")
        sys.exit(130)
