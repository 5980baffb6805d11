#!/usr/bin/env python3
"""Many small API zones in one Bulwark: start-up, memory per zone, and one more zone or
one change beside them.

usage: scripts/bench_many_zones.py [options]     (or: scripts/bench.sh --many-zones [options])

With the release binary (--bulwark-bin), all on 127.0.0.1 with ports of their own:
  1. `bulwark serve` on an empty data dir (it migrates the control database and stores
     the admin key): VmRSS one second after the API answers is the no-zones reference.
     Then zone0.many.test. is made through the API as a user would make it: POST
     /v1/zones (name server ns1.zone0.many.test.), PUT .../rrsets/ns1/A (glue) and PUT
     .../rrsets/www/A; the server is stopped.
  2. The database is filled beside that zone: --zones N in all (default 100,000),
     zoneI.many.test. for I < N, each a copy of zone0's rows (zones, rrsets, changes:
     the shapes SQLControlStore wrote for it) with the name, a new id and its own www
     address put in; one transaction with Python's sqlite3, then a WAL checkpoint. The
     same rows as N x 3 API calls, in seconds rather than hours.
  3. `bulwark serve` on that data dir: the time until the API answers and until the
     last zone's SOA answers over UDP (polled every 10 ms); VmRSS one second later, and
     per zone: (VmRSS - the no-zones VmRSS) / N.
  4. --count (default 50) zones created one after the other through the API, POST
     /v1/zones {"name", "nameservers"} with the others present: the time from the
     request to the reply, and to the new zone's SOA answered over UDP (queried every
     ~1 ms after the reply). Target: 10 ms.
  5. --count one-RRset changes, PUT /v1/zones/Z/rrsets/www/A in zones picked at random
     among the N (--seed), each a new address: to the reply, and to the new address
     answered over UDP.
  6. VmRSS again --settle seconds (default 120) after start-up, once the ops endpoint's
     insight view holds its per-zone history (a snapshot of every zone's counts each
     10 s slice, 7 of them).
The ops endpoint is on (--ops-listen), so each worker's per-zone counters follow every
publish, as in a default server; api.rate-limit is 0 (back-to-back requests).
Prints one markdown table (p50 / p99 / max in ms; with 50 samples p99 is the 50th, the
max), writes the raw figures to <workdir>/results.json, and prints the command line.

Options: --zones N, --count N, --bulwark-bin PATH (default .build/release/bulwark;
copied into the work dir first), --port-base P (env PORT_BASE, default 5431; uses
P..P+2: DNS, API, ops), --startup-timeout S (default 900), --visible-timeout S
(default 10), --seed N, --gap S (pause between two requests, default 0.05), --settle S.
Env: KEEP=1 keeps the whole work dir (otherwise the database is removed and only
results.json, results.md and the server logs are kept).
Bounded: every wait has a timeout; one server runs at a time and every server started
is killed on exit, also on an error, SIGTERM or Ctrl-C.
"""
import hashlib
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time

import dns.rdatatype

from benchkit import (a_set, argument_parser, binary_version, check_ports, command_line, has_soa, kill_all, ms_text,
                      on_exit, print_results, query, request, rss_mib, spawn, stop, summary, tail, wait_http, wait_soa)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN_KEY = "bench-many-zones-admin-" + os.urandom(8).hex()
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
PARENT = "many.test."
TEMPLATE = "zone0." + PARENT
TEMPLATE_WWW = "10.0.0.0"  # zone I's www address: 10.x.y.z from I



def log(msg):
    print(f"[many-zones {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- DNS and HTTP ---------------------------------------------------------------------

def poll_visible(port, name, rdtype, seen, a):
    """Queries every ~1 ms until seen(response); the time it was, or None after --visible-timeout."""
    start = time.perf_counter()
    while True:
        tq = time.perf_counter()
        if seen(query(port, name, rdtype, timeout=0.1)):
            return time.perf_counter()
        if time.perf_counter() - start > a.visible_timeout:
            return None
        time.sleep(max(0.0, 0.001 - (time.perf_counter() - tq)))


# --- the server -----------------------------------------------------------------------

class Bulwark:
    def __init__(self, work, binary, ports):
        self.work, self.bin, self.ports = work, binary, ports
        self.conf = os.path.join(work, "bulwark.yaml")
        with open(self.conf, "w") as f:
            f.write("api:\n  rate-limit: 0\n")  # back-to-back requests must not be throttled
        self.proc = None

    def start(self, data_dir, log_name, timeout):
        """Starts `bulwark serve` on data_dir; returns (the time it was started, the time
        the API answered)."""
        self.log = os.path.join(self.work, log_name)
        t = time.perf_counter()
        self.proc = spawn([self.bin, "serve", "--config", self.conf, "--listen", f"127.0.0.1:{self.ports['dns']}",
                           "--api-listen", f"127.0.0.1:{self.ports['api']}",
                           "--ops-listen", f"127.0.0.1:{self.ports['ops']}",
                           "--data-dir", data_dir, "--log-level", "warning"],
                          self.log, env=dict(os.environ, BULWARK_ADMIN_KEY=ADMIN_KEY))
        wait_http(self.ports["api"], "/v1/health", time.monotonic() + timeout, self.proc, "bulwark")
        return t, time.perf_counter()

    def call(self, method, path, body, expect):
        st, out = request(self.ports["api"], method, path, body, AUTH, timeout=60)
        if st != expect:
            raise RuntimeError(f"{method} {path}: HTTP {st}: {out[:500]!r}")

    def stop(self):
        stop(self.proc, timeout=20)
        self.proc = None


# --- the database ---------------------------------------------------------------------

def www_address(i):
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def populate(db, n):
    """Copies zone0's rows for zone1 ... zone(n-1): every text with the zone's name in
    it gets the copy's name, the www A RRset (and its history detail) the copy's address."""
    c = sqlite3.connect(db)
    try:
        c.row_factory = sqlite3.Row
        zone = c.execute("SELECT * FROM zones WHERE name = ?", (TEMPLATE,)).fetchone()
        if zone is None:
            raise RuntimeError(f"{TEMPLATE} is not in {db}")
        rrsets = [dict(r) for r in c.execute("SELECT * FROM rrsets WHERE zone_id = ?", (zone["id"],))]
        changes = [dict(r) for r in c.execute("SELECT * FROM changes WHERE zone_id = ?", (zone["id"],))]
        if not any(r["type"] == "A" and r["rdata"] == TEMPLATE_WWW for r in rrsets):
            raise RuntimeError(f"{TEMPLATE}: no www A {TEMPLATE_WWW} row to copy")
        zone = dict(zone)
        zcols, rcols, ccols = list(zone), list(rrsets[0]), list(changes[0])

        def ins(table, cols):
            return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"

        def copy(row, i, zone_id):
            name = f"zone{i}.{PARENT}"
            out = []
            for k, v in row.items():
                if k in ("id", "zone_id"):
                    v = zone_id
                elif isinstance(v, str):
                    v = v.replace(TEMPLATE, name).replace(f'"{TEMPLATE_WWW}"', f'"{www_address(i)}"')
                    if v == TEMPLATE_WWW:
                        v = www_address(i)
                out.append(v)
            return out

        def rows(template, cols):
            for i in range(1, n):
                zone_id = hashlib.sha256(f"many-zones {i}".encode()).hexdigest()[:32]  # 16 octets in hex, as KeyTokens.newID
                for r in template:
                    yield copy({k: r[k] for k in cols}, i, zone_id)

        with c:  # one transaction
            c.executemany(ins("zones", zcols), rows([zone], zcols))
            c.executemany(ins("rrsets", rcols), rows(rrsets, rcols))
            c.executemany(ins("changes", ccols), rows(changes, ccols))
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        got = c.execute("SELECT COUNT(*) FROM zones").fetchone()[0]
        if got != n:
            raise RuntimeError(f"{db}: {got} zones, expected {n}")
        return {"rrsets_per_zone": len(rrsets), "changes_per_zone": len(changes)}
    finally:
        c.close()


# --- measuring ------------------------------------------------------------------------

def timed_requests(srv, items, a, what):
    """items: (method, path, body, expect, name, rdtype, seen); each timed to the reply and
    to `seen` over UDP. Returns the rows."""
    rows = []
    for k, (method, path, body, expect, name, rdtype, seen) in enumerate(items):
        t0 = time.perf_counter()
        srv.call(method, path, body, expect)
        t1 = time.perf_counter()
        t2 = poll_visible(srv.ports["dns"], name, rdtype, seen, a)
        rows.append({"name": name, "reply_ms": (t1 - t0) * 1e3,
                     "visible_ms": None if t2 is None else (t2 - t0) * 1e3})
        if t2 is None:
            log(f"{what} {k + 1}: {name} not answered within {a.visible_timeout}s")
        if (k + 1) % 10 == 0:
            log(f"{what}: {k + 1}/{len(items)}, last reply {rows[-1]['reply_ms']:.1f} ms")
        time.sleep(a.gap)
    return rows


def table(r, a):
    def mib(v):
        return "-" if v is None else f"{v:.0f}"

    lines = ["| | Bulwark |", "|---|---|"]

    def row(label, value):
        lines.append(f"| {label} | {value} |")

    row("version", r["version"])
    row("zones in the database", f"{a.zones:,} ({r.get('populate', {}).get('rrsets_per_zone', '?')} RRsets each: SOA, NS, 2 A)")
    row("database written directly (s)",
        f"{r['populate_s']:.1f} ({r['db_bytes'] / 1e6:.0f} MB)" if "populate_s" in r else "-")
    row("start-up: until the API answers (s)", f"{r['start_api_s']:.2f}" if "start_api_s" in r else "-")
    row("start-up: until the last zone's SOA answers over UDP (s)", f"{r['start_soa_s']:.2f}" if "start_soa_s" in r else "-")
    row("RSS, no zones (MiB)", mib(r.get("rss_empty_mib")))
    row("RSS after start-up (MiB)", mib(r.get("rss_mib")))
    per = r.get("rss_per_zone")
    row("RSS per zone (octets)", "-" if per is None else f"{per:,.0f}")
    for key, label in (("create", f"create one zone (POST /v1/zones) beside {a.zones:,}"),
                       ("change", "change one RRset (PUT /v1/zones/Z/rrsets/www/A)")):
        s = r.get(key)
        if s is None:
            continue
        answered = s["visible"]["n"]
        row(f"{label}: done", f"{s['done']}/{a.count}" + (f", {answered} answered" if answered < s["done"] else ""))
        row(f"{label}: request → reply, p50 / p99 / max (ms)", ms_text(s["reply"]))
        row(f"{label}: request → answered over UDP, p50 / p99 / max (ms)", ms_text(s["visible"]))
    row("RSS after the creations and changes (MiB)", mib(r.get("rss_end_mib")))
    per = r.get("rss_settled_per_zone")
    row(f"RSS {a.settle:.0f} s after start-up (MiB; per zone, octets)",
        f"{mib(r.get('rss_settled_mib'))}; {'-' if per is None else f'{per:,.0f}'}")
    head = (f"# Many zones: {a.zones:,} API zones, {a.count} creations and {a.count} changes, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return head + "\n\n" + "\n".join(lines)


def main():
    ap = argument_parser(__doc__, 5431, ROOT)
    ap.add_argument("--zones", type=int, default=100_000)
    ap.add_argument("--count", type=int, default=50, help="zones created, and RRset changes")
    ap.add_argument("--startup-timeout", type=float, default=900)
    ap.add_argument("--visible-timeout", type=float, default=10)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--gap", type=float, default=0.05, help="seconds between two requests")
    ap.add_argument("--settle", type=float, default=120, help="seconds after start-up for the last memory reading")
    a = ap.parse_args()
    if a.zones < 1 or a.count < 1 or a.count > a.zones:
        ap.error("--zones must be at least 1 and --count between 1 and --zones")
    if not os.access(a.bulwark_bin, os.X_OK):
        sys.exit(f"bench_many_zones: {a.bulwark_bin} is not an executable (build it or give --bulwark-bin)")
    ports = {"dns": a.port_base, "api": a.port_base + 1, "ops": a.port_base + 2}
    check_ports(ports, "bench_many_zones")

    command = command_line(__file__)
    work = tempfile.mkdtemp(prefix="bulwark-many-zones.", dir="/tmp")
    keep = os.environ.get("KEEP", "0") == "1"

    def cleanup():
        kill_all()
        if not keep and os.path.isdir(work):
            for d in ("bin", "data"):
                shutil.rmtree(os.path.join(work, d), ignore_errors=True)

    on_exit(cleanup)
    log(f"work dir {work}")
    os.makedirs(os.path.join(work, "bin"))
    binary = os.path.join(work, "bin", "bulwark")
    shutil.copy2(a.bulwark_bin, binary)  # with its modification time
    r = {"version": binary_version(binary), "zones": a.zones, "count": a.count, "ports": ports}
    data = os.path.join(work, "data")
    srv = Bulwark(work, binary, ports)

    def save():
        with open(os.path.join(work, "results.json"), "w") as f:
            json.dump({"command": command, "results": r}, f, indent=1)

    try:
        # 1. The empty server: the schema, the admin key, the reference memory, zone0.
        srv.start(data, "bulwark-empty.log", 120)
        time.sleep(1)
        r["rss_empty_mib"] = rss_mib(srv.proc.pid)
        zone = TEMPLATE.rstrip(".")
        srv.call("POST", "/v1/zones", {"name": TEMPLATE, "nameservers": [f"ns1.{TEMPLATE}"]}, 201)
        srv.call("PUT", f"/v1/zones/{zone}/rrsets/ns1/A", {"ttl": 3600, "records": ["192.0.2.53"]}, 200)
        srv.call("PUT", f"/v1/zones/{zone}/rrsets/www/A", {"ttl": 300, "records": [TEMPLATE_WWW]}, 200)
        srv.stop()

        # 2. The other zones, written directly.
        log(f"writing {a.zones - 1:,} more zones into the database")
        t = time.perf_counter()
        db = os.path.join(data, "control.sqlite")
        r["populate"] = populate(db, a.zones)
        r["populate_s"] = time.perf_counter() - t
        r["db_bytes"] = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data)
                            if f.startswith("control.sqlite"))
        log(f"database written in {r['populate_s']:.1f}s ({r['db_bytes'] / 1e6:.0f} MB)")
        save()

        # 3. Start-up with every zone.
        last = f"zone{a.zones - 1}.{PARENT}"
        t0, t1 = srv.start(data, "bulwark.log", a.startup_timeout)
        r["start_api_s"] = t1 - t0
        r["start_soa_s"] = wait_soa(ports["dns"], last, t0 + a.startup_timeout, srv.proc, "bulwark") - t0
        time.sleep(1)
        r["rss_mib"] = rss_mib(srv.proc.pid)
        if r["rss_mib"] is not None and r["rss_empty_mib"] is not None:
            r["rss_per_zone"] = (r["rss_mib"] - r["rss_empty_mib"]) * (1 << 20) / a.zones
        log(f"started: API {r['start_api_s']:.2f}s, SOA of {last} {r['start_soa_s']:.2f}s, "
            f"RSS {r['rss_mib']:.0f} MiB")
        save()

        # 4. One more zone at a time.
        creations = []
        for k in range(a.count):
            name = f"new{k}.{PARENT}"
            creations.append(("POST", "/v1/zones", {"name": name, "nameservers": [f"ns1.{name}"]}, 201,
                              name, dns.rdatatype.SOA, has_soa))
        rows = timed_requests(srv, creations, a, "create")
        vis = [x["visible_ms"] for x in rows if x["visible_ms"] is not None]
        r["create"] = {"rows": rows, "done": len(rows), "reply": summary([x["reply_ms"] for x in rows]),
                       "visible": summary(vis)}
        save()

        # 5. One RRset change at a time, in zones picked at random.
        picks = random.Random(a.seed).sample(range(a.zones), a.count)
        changes = []
        for k, i in enumerate(picks, start=1):
            name = f"www.zone{i}.{PARENT}"
            addr = f"198.{18 + (k >> 16)}.{(k >> 8) & 255}.{k & 255}"  # benchmarking space, RFC 2544
            changes.append(("PUT", f"/v1/zones/zone{i}.{PARENT.rstrip('.')}/rrsets/www/A",
                            {"ttl": 300, "records": [addr]}, 200, name, dns.rdatatype.A,
                            lambda resp, name=name, addr=addr: a_set(resp, name) == [addr]))
        rows = timed_requests(srv, changes, a, "change")
        vis = [x["visible_ms"] for x in rows if x["visible_ms"] is not None]
        r["change"] = {"rows": rows, "done": len(rows), "reply": summary([x["reply_ms"] for x in rows]),
                       "visible": summary(vis)}
        r["rss_end_mib"] = rss_mib(srv.proc.pid)
        # 6. Memory once the ops endpoint's insight view holds its per-zone history.
        settle = t0 + r["start_soa_s"] + a.settle - time.perf_counter()
        if settle > 0:
            log(f"waiting {settle:.0f}s: memory {a.settle:.0f}s after start-up")
            time.sleep(settle)
        r["rss_settled_mib"] = rss_mib(srv.proc.pid)
        if r["rss_settled_mib"] is not None and r["rss_empty_mib"] is not None:
            r["rss_settled_per_zone"] = (r["rss_settled_mib"] - r["rss_empty_mib"]) * (1 << 20) / a.zones
        save()
        status = 0
    except Exception as e:  # keep what was measured
        r["error"] = f"{type(e).__name__}: {e}"
        log(f"FAILED: {r['error']}")
        if getattr(srv, "log", None) and tail(srv.log):
            log(f"tail of {srv.log}:\n{tail(srv.log)}")
        save()
        status = 1
    finally:
        srv.stop()
    print_results(table(r, a), work, command)
    if keep:
        log(f"kept {work}")
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; the server is stopped")
        sys.exit(130)
