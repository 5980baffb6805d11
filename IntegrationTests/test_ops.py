"""Operations (issue 7), Bulwark only: the ops endpoint's /metrics, /insight and /status,
`bulwark status`, and the dashboard in a real headless browser (Debian's chromium).

One Bulwark with the `main` zone set, rate limiting at 50/s and its ops endpoint on a
free port. The tests run in file order: exact counts first (before any flood), then a
random-subdomain flood on other.test., then the summary and the dashboard.
"""
import json
import os
import random

from seeds import seed
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import dns.message
import dns.query
import dns.rdatatype
import pytest

from conftest import IN_CI, REPORTS, ROOT, SUBJECT, start_bulwark, stop_bulwark
import servers
import zones

RATE = 50


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ops(bulwark_bin, workdir, taken_ports):
    if SUBJECT != "bulwark":
        pytest.skip(f"Bulwark-specific test; BULWARK_TEST_SUBJECT={SUBJECT}")
    files = zones.write_zone_set("main", os.path.join(workdir, "ops", "zones"))
    port = free_port()
    query_log = os.path.join(workdir, "ops", "queries.log")
    b = start_bulwark(bulwark_bin, os.path.join(workdir, "ops"), files, 0, taken_ports,
                      extra_args=["--ops-listen", f"127.0.0.1:{port}", "--rate-limit", str(RATE),
                                  "--workers", "2", "--query-log", query_log],
                      tag="bulwark-ops")
    b.ops_port = port
    b.query_log = query_log
    deadline = time.time() + 15
    while True:
        try:
            get(b, "/status")
            break
        except OSError:
            if time.time() > deadline:
                stop_bulwark(b)
                pytest.fail(f"ops endpoint not up on {port}\n{b.log_tail()}")
            time.sleep(0.2)
    yield b
    was_alive, _ = stop_bulwark(b)
    assert was_alive, f"Bulwark exited during the ops tests\n{b.log_tail()}"


def get(b, path, timeout=5):
    with urllib.request.urlopen(f"http://127.0.0.1:{b.ops_port}{path}", timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()


def metrics(b):
    """Prometheus text → {'name{labels}': value}."""
    _, ctype, text = get(b, "/metrics")
    assert ctype.startswith("text/plain"), ctype
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        out[key] = float(value)
    return out


def q(b, name, rdtype, tcp=False):
    m = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(m, "127.0.0.1", port=b.port, timeout=3)
    return dns.query.udp(m, "127.0.0.1", port=b.port, timeout=3)


def udp_flood(port, names, stop_at=None, rate=None):
    """Sends queries without waiting for answers (bounded by len(names)); reads what comes back."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    sent = 0
    start = time.time()
    for name in names:
        if stop_at and time.time() > stop_at:
            break
        s.sendto(dns.message.make_query(name, "A").to_wire(), ("127.0.0.1", port))
        sent += 1
        if rate and sent % 50 == 0:
            ahead = sent / rate - (time.time() - start)
            if ahead > 0:
                time.sleep(ahead)
        try:
            while True:
                s.recv(4096)
        except BlockingIOError:
            pass
    s.close()
    return sent


def test_metrics_count_queries_by_type_rcode_and_zone(ops):
    before = metrics(ops)
    for i in range(25):
        r = q(ops, "example.", "MX")
        assert r.rcode() == 0
    for i in range(9):
        r = q(ops, f"nope{i}.other.test.", "AAAA")
        assert r.rcode() == 3
    for i in range(4):
        r = q(ops, "www.example.", "A", tcp=True)
        assert r.rcode() == 0
    after = metrics(ops)

    def delta(key):
        return after.get(key, 0) - before.get(key, 0)
    assert delta('bulwark_queries_total{transport="udp",qtype="MX",rcode="NOERROR"}') == 25
    assert delta('bulwark_queries_total{transport="udp",qtype="AAAA",rcode="NXDOMAIN"}') == 9
    assert delta('bulwark_queries_total{transport="tcp",qtype="A",rcode="NOERROR"}') == 4
    assert delta('bulwark_zone_queries_total{zone="other.test.",answer="NXDOMAIN"}') == 9
    assert delta('bulwark_zone_queries_total{zone="example.",answer="NOERROR"}') == 29
    # Serials per zone, as the zones say.
    soa = q(ops, "example.", "SOA").answer[0][0]
    assert after['bulwark_zone_serial{zone="example.",provenance="file"}'] == soa.serial
    assert after['bulwark_zone_serial{zone="other.test.",provenance="file"}'] == 7
    assert after["bulwark_zones"] == 3
    assert after['bulwark_zone_loads_total{provenance="file"}'] >= 3
    assert after['bulwark_reloads_total{result="ok"}'] >= 1
    # Latency histogram (UDP batches) and TCP connections.
    assert after["bulwark_udp_batch_latency_seconds_count"] >= before.get("bulwark_udp_batch_latency_seconds_count", 0) + 34
    assert after['bulwark_udp_batch_latency_seconds_bucket{le="+Inf"}'] == after["bulwark_udp_batch_latency_seconds_count"]
    assert delta("bulwark_tcp_connections_accepted_total") == 4
    # Fair UDP queues: calm under this light load (a flood that saturates a worker is in
    # Tests/BulwarkServerTests/FairQueuesTests.swift and the drill).
    assert after["bulwark_udp_fair_queues_active"] == 0
    assert after.get("bulwark_udp_fair_queue_switches_total", 0) == 0  # a series once counted


def test_random_subdomain_flood_tops_insight(ops):
    """A water-torture flood on other.test. beside steady traffic on example.: /insight
    puts other.test. first with an NXDOMAIN ratio near 1, its name first among NXDOMAIN
    parents, the steady name first among names; rate limiting shows in /metrics."""
    before = metrics(ops)
    rnd = random.Random(seed(8906, "random-subdomain flood"))
    flood = [f"{rnd.getrandbits(40):x}.other.test." for _ in range(6000)]
    steady = ["www.example."] * 2500
    mixed = []
    for i, name in enumerate(flood):
        mixed.append(name)
        if i % 3 == 0 and steady:
            mixed.append(steady.pop())
    udp_flood(ops.port, mixed, rate=4000)
    deadline = time.time() + 10
    while True:
        _, ctype, body = get(ops, "/insight?top=5")
        assert ctype.startswith("application/json")
        ins = json.loads(body)
        top = ins["zones"][0]
        parents = [x["key"] for x in ins["top_nx_domain_parents"]]
        names = [x["key"] for x in ins["top_names"]]
        if top["zone"] == "other.test." and parents[:1] == ["other.test."] and names[:1] == ["www.example."]:
            break
        assert time.time() < deadline, json.dumps(ins, indent=1)[:3000]
        time.sleep(0.3)
    assert top["nxdomain"] >= 5000, top
    assert top["nxdomain_ratio"] > 0.9, top
    example = next(z for z in ins["zones"] if z["zone"] == "example.")
    assert example["nxdomain_ratio"] < 0.1, example
    assert ins["sample_every"] >= 1 and ins["samples"] > 0
    assert ins["top_clients"][0]["key"] == "127.0.0.0/24"
    # The flood went over the limit: limited responses were slipped (TC=1) and dropped.
    after = metrics(ops)
    slipped = after.get('bulwark_rate_limited_total{transport="udp",action="slipped"}', 0)
    dropped = after.get('bulwark_rate_limited_total{transport="udp",action="dropped"}', 0)
    assert slipped - before.get('bulwark_rate_limited_total{transport="udp",action="slipped"}', 0) > 100
    assert dropped - before.get('bulwark_rate_limited_total{transport="udp",action="dropped"}', 0) > 100


def test_sampled_query_log(ops):
    """--query-log: sampled queries, one line each, at most 100 lines a second."""
    deadline = time.time() + 5
    lines = []
    while time.time() < deadline:
        with open(ops.query_log) as f:
            lines = f.read().splitlines()
        if any(".other.test. A NXDOMAIN" in l for l in lines) and any("www.example. A NOERROR" in l for l in lines):
            break
        time.sleep(0.3)
    assert any(re.match(r"^\d+\.\d{3} udp 127\.0\.0\.1 [0-9a-f]+\.other\.test\. A NXDOMAIN$", l) for l in lines), lines[:20]
    assert any(l.endswith("udp 127.0.0.1 www.example. A NOERROR") for l in lines), lines[:20]
    # The flood sent ~8,500 queries in ~2 s: the sample is 1 in 16, capped at 100 lines/s.
    per_second = {}
    for l in lines:
        if l.split()[1] in ("udp", "tcp"):
            sec = l.split(".")[0]
            per_second[sec] = per_second.get(sec, 0) + 1
    assert max(per_second.values()) <= 200, per_second  # a second's budget plus the burst


def test_status_command_prints_summary(ops, bulwark_bin):
    _, _, body = get(ops, "/status")
    status = json.loads(body)
    assert status["queries"] > 6000
    assert {z["name"] for z in status["zones"]} == {"example.", "sub.example.", "other.test."}
    p = subprocess.run([bulwark_bin, "status", "--ops", f"127.0.0.1:{ops.ops_port}"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    print(out)
    assert len(out.splitlines()) <= 30, "more than one screen"
    assert re.search(r"^queries\s+\S+ total", out, re.M), out
    assert "NXDOMAIN" in out and "NOERROR" in out
    assert f"rate limit {RATE}/s per prefix" in out
    assert re.search(r"example\.\s+serial 2026112501\s+file", out), out
    assert re.search(r"other\.test\.\s+serial 7\s+file", out), out
    assert "other.test." in out.split("last minute, by NXDOMAIN:")[1].splitlines()[1], out
    # JSON mode, and a clear error when nothing listens.
    p = subprocess.run([bulwark_bin, "status", "--ops", f"127.0.0.1:{ops.ops_port}", "--json"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0 and json.loads(p.stdout)["server"] == "bulwark"
    p = subprocess.run([bulwark_bin, "status", "--ops", f"127.0.0.1:{free_port()}"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0 and "cannot read" in p.stderr


def test_root_redirects_and_dashboard_is_self_contained(ops):
    status, ctype, html = get(ops, "/")  # urllib follows the redirect
    assert status == 200 and ctype.startswith("text/html")
    assert "<canvas" in html and "fetch(\"/status\"" in html
    assert not re.search(r"(src|href)=\"https?://", html), "the page must not load anything from elsewhere"


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if IN_CI:
        pytest.fail("chromium is not installed (.ci/run installs it)")
    pytest.skip("chromium is not installed")


def browser(url, *extra, budget=6000, timeout=90):
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--hide-scrollbars", f"--virtual-time-budget={budget}",
            "--window-size=1400,1100", *extra, url]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return p


def figures(dom):
    m = re.search(r'id="queries"[^>]*data-value="(\d+)"', dom)
    state = re.search(r'id="state"[^>]*>([^<]*)<', dom)
    return (int(m.group(1)) if m else None), (state.group(1) if state else "")


def test_dashboard_in_headless_chromium(ops):
    """The page, loaded by a real browser while traffic flows, shows the figures (queries,
    rcodes, top zones and names, rate limiting, zones with serials), and they change."""
    url = f"http://127.0.0.1:{ops.ops_port}/dashboard"
    stop = time.time() + 60
    done = threading.Event()

    traffic_seed = seed(1, "dashboard traffic")

    def traffic():
        rnd = random.Random(traffic_seed)
        while not done.is_set() and time.time() < stop:
            names = [f"{rnd.getrandbits(32):x}.other.test." if i % 2 else "www.example." for i in range(400)]
            udp_flood(ops.port, names, rate=800)
    t = threading.Thread(target=traffic, daemon=True)
    t.start()
    try:
        time.sleep(2.5)  # a few seconds of history for the graph and rates
        p1 = browser(url, "--dump-dom")
        dom1 = p1.stdout
        n1, state1 = figures(dom1)
        assert n1 is not None and n1 > 0, f"no query figure in the page\n{p1.stderr[-2000:]}\n{dom1[:3000]}"
        assert state1.startswith("live"), state1
        assert 'class="n serial">2026112501<' in dom1, "zone serials missing"
        assert ">example.<" in dom1 and ">other.test.<" in dom1
        assert ">NOERROR<" in dom1 and ">NXDOMAIN<" in dom1
        assert ">www.example.<" in dom1, "top names missing"
        assert f"{RATE}/s per prefix" in dom1, "rate limiting figures missing"
        assert "nothing yet" not in dom1.split('id="topzones"')[1].split("</table>")[0]
        time.sleep(1.5)
        p2 = browser(url, "--dump-dom")
        n2, _ = figures(p2.stdout)
        assert n2 is not None and n2 > n1, (n1, n2)
        os.makedirs(REPORTS, exist_ok=True)
        shot = os.path.join(REPORTS, "dashboard.png")
        p3 = browser(url, f"--screenshot={shot}")
        assert os.path.exists(shot) and os.path.getsize(shot) > 20000, p3.stderr[-2000:]
        if os.environ.get("BULWARK_UPDATE_SCREENSHOT") == "1":
            shutil.copy(shot, os.path.join(ROOT, "docs", "dashboard.png"))
    finally:
        done.set()
        t.join(timeout=10)
