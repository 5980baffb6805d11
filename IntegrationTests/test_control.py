"""Control plane (issue 6): the real binary with its HTTP API and embedded SQLite.

Creates zones and records over HTTP (urllib), checks the DNS answers (dnspython),
measures how soon a change is answered after the API replies, and SIGKILLs the
server during a stream of batches to check that a restart serves a version the API
acknowledged (or the one in flight), never a mix, and that data persists.
"""
import json
import os
import random
import statistics
import threading
import time
import urllib.error
import urllib.request

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import servers
from conftest import REPORTS
from seeds import seed

ADMIN = "integration-admin-key-" + "%016x" % random.getrandbits(64)


class ControlServer(servers.Bulwark):
    """`bulwark serve` with the API on its own port and a data directory of its own."""

    def __init__(self, binary, workdir, tag, data_dir, zones=(), dns_port=None, api_port=None):
        taken = set()
        dns_port = dns_port or servers.pick_port(0, taken)
        self.api_port = api_port or servers.pick_port(0, taken)
        os.makedirs(os.path.join(workdir, tag), exist_ok=True)
        config = os.path.join(workdir, tag, "bulwark.yaml")
        with open(config, "w") as f:
            f.write("api:\n  rate-limit: 0\n")  # the batch stream must not be throttled
        super().__init__(binary, dns_port, workdir, zones, tag=tag, ipv6=False,
                         extra_args=["--config", config, "--api-listen", f"127.0.0.1:{self.api_port}",
                                     "--data-dir", data_dir])
        self.api = f"http://127.0.0.1:{self.api_port}"

    def start(self):
        super().start(env=dict(os.environ, BULWARK_ADMIN_KEY=ADMIN))
        deadline = time.time() + 30
        while time.time() < deadline:
            if not self.alive():
                raise RuntimeError(f"bulwark exited during start-up\n{self.log_tail()}")
            try:
                if call(self, "GET", "/v1/health", token=None)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"API not ready on {self.api}\n{self.log_tail()}")


def call(server, method, path, body=None, token=ADMIN, headers=None, timeout=10):
    data = None
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if body is not None:
        if isinstance(body, str):
            data = body.encode()
            h["Content-Type"] = "text/dns"
        else:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
    req = urllib.request.Request(server.api + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            status, rheaders = r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        raw, status, rheaders = e.read(), e.code, dict(e.headers)
    ctype = rheaders.get("Content-Type", "")
    payload = json.loads(raw) if raw and ctype.startswith("application/json") else raw.decode()
    return status, payload, rheaders


def query(server, name, rdtype, timeout=1.0):
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, "127.0.0.1", port=server.port, timeout=timeout)


def answer_texts(response, rdtype):
    return sorted(rd.to_text() for rrset in response.answer if rrset.rdtype == rdtype for rd in rrset)


@pytest.fixture
def workdir(tmp_path):
    return str(tmp_path)


def serving(make):
    """The body of a `started` fixture: yields `start(tag="control", zones=(), data_dir=None,
    **kw)`, which starts `make(tag, zones, data_dir, **kw)` (a ControlServer); every one
    started and still running is stopped at the end."""
    running = []

    def start(tag="control", zones=(), data_dir=None, **kw):
        s = make(tag, zones, data_dir, **kw)
        s.start()
        running.append(s)
        return s

    yield start
    for s in running:
        if s.proc is not None:
            s.stop()


@pytest.fixture
def started(bulwark_bin, bulwark_only, workdir):
    yield from serving(lambda tag, zones, data_dir, **kw: ControlServer(
        bulwark_bin, workdir, tag, data_dir or os.path.join(workdir, "data"), zones=zones, **kw))


def create_zone(server, name):
    status, body, _ = call(server, "POST", "/v1/zones", {"name": name, "nameservers": [f"ns1.{name}"], "ttl": 300})
    assert status == 201, body
    status, body, _ = call(server, "PUT", f"/v1/zones/{name}/rrsets/ns1/A", {"ttl": 300, "records": ["192.0.2.53"]})
    assert status == 200, body


def test_api_zone_is_answered_over_dns_and_fast(started):
    server = started(zones=[])
    # No key: 401; no zone files and the server still started.
    assert call(server, "GET", "/v1/zones", token=None)[0] == 401
    create_zone(server, "api.test.")
    r = query(server, "api.test.", dns.rdatatype.SOA)
    assert r.flags & dns.flags.AA and answer_texts(r, dns.rdatatype.SOA), r
    status, body, headers = call(server, "PATCH", "/v1/zones/api.test/rrsets", {"changes": [
        {"action": "replace", "name": "www", "type": "A", "ttl": 60, "records": ["192.0.2.80", "192.0.2.81"]},
        {"action": "replace", "name": "@", "type": "MX", "ttl": 60, "records": ["10 mail.api.test."]},
        {"action": "replace", "name": "mail", "type": "AAAA", "ttl": 60, "records": ["2001:db8::25"]},
    ]})
    assert status == 200, body
    assert answer_texts(query(server, "www.api.test.", dns.rdatatype.A), dns.rdatatype.A) == ["192.0.2.80", "192.0.2.81"]
    assert answer_texts(query(server, "api.test.", dns.rdatatype.MX), dns.rdatatype.MX) == ["10 mail.api.test."]
    serial = body["serial"]
    soa = query(server, "api.test.", dns.rdatatype.SOA).answer[0][0]
    assert soa.serial == serial

    # Invalid batch: 422 naming the field, nothing served changes.
    status, body, _ = call(server, "PATCH", "/v1/zones/api.test/rrsets", {"changes": [
        {"action": "replace", "name": "www", "type": "CNAME", "records": ["elsewhere.example."]}]})
    assert status == 422 and body["error"]["field"] == "changes[0]", body
    assert query(server, "api.test.", dns.rdatatype.SOA).answer[0][0].serial == serial

    # API → DNS latency: after each reply, query until the new data answers.
    latencies, rtts, extra = [], [], 0
    for i in range(60):
        value = f"v{i}-{random.getrandbits(32)}"
        t0 = time.perf_counter()
        status, body, _ = call(server, "PUT", "/v1/zones/api.test/rrsets/live/TXT", {"ttl": 1, "records": [f'"{value}"']})
        t1 = time.perf_counter()
        assert status == 200, body
        while True:
            got = answer_texts(query(server, "live.api.test.", dns.rdatatype.TXT), dns.rdatatype.TXT)
            t2 = time.perf_counter()
            if got == [f'"{value}"']:
                break
            extra += 1
            assert t2 - t1 < 2.0, f"change {i} not answered within 2 s (got {got})"
        latencies.append((t2 - t1) * 1000)
        rtts.append((t1 - t0) * 1000)
    median, worst = statistics.median(latencies), max(latencies)
    p90 = sorted(latencies)[int(len(latencies) * 0.9) - 1]
    line = (f"API→DNS latency over {len(latencies)} changes (reply received → first query answering the new data): "
            f"median {median:.2f} ms, 90th percentile {p90:.2f} ms, max {worst:.2f} ms; "
            f"API call itself median {statistics.median(rtts):.2f} ms, "
            f"max {max(rtts):.2f} ms; queries that still saw the old data: {extra}")
    print("\n" + line)
    os.makedirs(REPORTS, exist_ok=True)
    with open(os.path.join(REPORTS, "control-latency.txt"), "w") as f:
        f.write(line + "\n")
    # Answered within 50 ms of the API's reply. One change in ten may miss it
    # (a loaded 2-core machine deschedules the server now and then: the figures are
    # printed and written above); none may take a second.
    assert p90 < 50, line
    assert median < 10, line
    assert worst < 1000, line


def test_oversized_body_gets_413_without_hanging_the_client(started):
    """urllib writes the whole body before it reads the answer: a body over `api.max-body`
    (4 MiB by default) is read and dropped, so the 413 reaches it at once; one far larger
    gets the 413 and the connection closed, so the client stops sending at once instead
    of waiting out its own timeout."""
    server = started(zones=[])
    t0 = time.monotonic()
    status, body, _ = call(server, "POST", "/v1/zones", "x" * (6 << 20))
    assert status == 413 and body["error"]["code"] == "body_too_large", body
    assert time.monotonic() - t0 < 5
    t0 = time.monotonic()
    with pytest.raises((urllib.error.URLError, ConnectionError)) as raised:
        call(server, "POST", "/v1/zones", "x" * (80 << 20))
    assert time.monotonic() - t0 < 5, "the client waited for its timeout"
    assert "timed out" not in str(raised.value)
    # The server goes on answering.
    assert call(server, "GET", "/v1/health", token=None)[0] == 200


def test_zone_file_imports(started):
    """Zone-file text as the body (text/dns): PUT .../zonefile creates or replaces a zone,
    POST /v1/zones?name= creates one; read as it arrives, checked as a zone file (errors
    name their line), stored and served; a later change is answered."""
    server = started(zones=[])
    names = 50_000  # about 3 MB: under the default api.max-body of 4 MiB
    lines = ["$TTL 300", "@ IN SOA ns1 hostmaster 2026120701 7200 3600 1209600 300", "@ IN NS ns1",
             "ns1 IN A 192.0.2.53", 'txt IN TXT "a ; quoted" ( "and a paren )" )']
    lines += [f"h{i} IN A 10.0.{(i >> 8) & 255}.{i & 255}" for i in range(names)]
    status, body, _ = call(server, "PUT", "/v1/zones/import.test/zonefile", "\n".join(lines) + "\n", timeout=120)
    assert status == 201, body
    assert body["serial"] == 2026120701 and "rrsets" not in body, body
    assert answer_texts(query(server, f"h{names - 1}.import.test.", dns.rdatatype.A), dns.rdatatype.A) == \
        [f"10.0.{((names - 1) >> 8) & 255}.{(names - 1) & 255}"]
    assert answer_texts(query(server, "txt.import.test.", dns.rdatatype.TXT), dns.rdatatype.TXT) == \
        ['"a ; quoted" "and a paren )"']
    # A change after the import: the served zone edited, the serial moved on.
    status, body, _ = call(server, "PUT", "/v1/zones/import.test/rrsets/h7/A", {"ttl": 60, "records": ["192.0.2.7"]})
    assert status == 200, body
    assert answer_texts(query(server, "h7.import.test.", dns.rdatatype.A), dns.rdatatype.A) == ["192.0.2.7"]
    status, body, _ = call(server, "GET", "/v1/zones/import.test")
    assert body["serial"] == 2026120702 and len(body["rrsets"]) == names + 4, body["serial"]
    # Importing again replaces every RRset; the serial still moves forward (RFC 1982).
    status, body, _ = call(server, "PUT", "/v1/zones/import.test/zonefile", "\n".join(lines[:4]) + "\nonly IN A 192.0.2.9\n")
    assert status == 200 and body["serial"] == 2026120703, body
    assert query(server, "h7.import.test.", dns.rdatatype.A).rcode() == dns.rcode.NXDOMAIN
    # POST with text/dns and ?name=: a new zone, its RRsets listed.
    status, body, _ = call(server, "POST", "/v1/zones?name=posted.test", "\n".join(lines[:4]) + "\n")
    assert status == 201 and len(body["rrsets"]) == 3, body
    status, body, _ = call(server, "POST", "/v1/zones", "\n".join(lines[:4]) + "\n")
    assert status == 422 and body["error"]["field"] == "name", body
    # A bad record: 422 naming its line; nothing changes.
    bad = "\n".join(lines[:4] + ["ok IN A 192.0.2.1", "bad IN A 300.1.2.3"]) + "\n"
    status, body, _ = call(server, "PUT", "/v1/zones/import.test/zonefile", bad)
    assert status == 422 and body["error"]["field"] == "zonefile" and "line 6" in body["error"]["message"], body
    assert answer_texts(query(server, "only.import.test.", dns.rdatatype.A), dns.rdatatype.A) == ["192.0.2.9"]


def test_file_zone_names_are_refused_and_data_persists(started, workdir):
    zone_file = os.path.join(workdir, "file.test.zone")
    with open(zone_file, "w") as f:
        f.write("$TTL 300\n@ IN SOA ns1.file.test. h.file.test. 1 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n")
    data = os.path.join(workdir, "persist")
    server = started(tag="persist", zones=[("file.test.", zone_file)], data_dir=data)
    status, body, _ = call(server, "POST", "/v1/zones", {"name": "file.test.", "nameservers": ["ns1.file.test."]})
    assert status == 409, body
    create_zone(server, "keep.test.")
    status, body, _ = call(server, "PUT", "/v1/zones/keep.test/rrsets/www/A", {"records": ["192.0.2.10"]})
    assert status == 200
    exported = call(server, "GET", "/v1/zones/keep.test/zonefile")[1]
    assert server.stop() == 0
    assert os.path.exists(os.path.join(data, "control.sqlite"))

    again = started(tag="persist2", zones=[("file.test.", zone_file)], data_dir=data)
    assert answer_texts(query(again, "www.keep.test.", dns.rdatatype.A), dns.rdatatype.A) == ["192.0.2.10"]
    assert answer_texts(query(again, "ns1.file.test.", dns.rdatatype.A), dns.rdatatype.A) == ["192.0.2.1"]
    assert call(again, "GET", "/v1/zones/keep.test/zonefile")[1] == exported
    history = call(again, "GET", "/v1/zones/keep.test/history")[1]["changes"]
    assert [c["action"] for c in history] == ["update", "update", "create"]


def test_sigkill_during_batches_leaves_one_whole_version(started, workdir):
    """Each batch i sets TXT "i" on a, b and c at once. After SIGKILL and restart the
    zone must be at a version the API acknowledged or the next one, with a, b and c
    agreeing and the SOA serial matching that batch."""
    data = os.path.join(workdir, "crash")
    kill_at = random.Random(seed(264, "SIGKILL times"))
    server = started(tag="crash0", data_dir=data)
    create_zone(server, "crash.test.")
    base_serial = call(server, "GET", "/v1/zones/crash.test")[1]["serial"]
    batch = 0
    for round_ in range(3):
        acked = [batch]
        stop = threading.Event()

        def stream(srv=server):
            n = acked[0]
            while not stop.is_set():
                n += 1
                changes = [{"action": "replace", "name": owner, "type": "TXT", "ttl": 60, "records": [f'"{n}"', f'"batch {n}"']}
                           for owner in ("a", "b", "c")]
                try:
                    status, _, _ = call(srv, "PATCH", "/v1/zones/crash.test/rrsets", {"changes": changes})
                except OSError:
                    return
                if status != 200:
                    return
                acked[0] = n

        t = threading.Thread(target=stream)
        t.start()
        time.sleep(0.4 + kill_at.random() * 0.6)
        server.kill()
        stop.set()
        t.join(timeout=15)
        server = started(tag=f"crash{round_ + 1}", data_dir=data)
        values = set()
        for owner in ("a", "b", "c"):
            texts = answer_texts(query(server, f"{owner}.crash.test.", dns.rdatatype.TXT), dns.rdatatype.TXT)
            values.add(tuple(texts))
        assert len(values) == 1, f"a, b and c disagree after SIGKILL: {values}"
        texts = values.pop()
        n = int(texts[0].strip('"')) if texts else 0
        assert texts == tuple(sorted([f'"{n}"', f'"batch {n}"'])) or not texts, texts
        assert n in (acked[0], acked[0] + 1), f"restarted at batch {n}, API acknowledged {acked[0]}"
        serial = query(server, "crash.test.", dns.rdatatype.SOA).answer[0][0].serial
        assert serial == base_serial + n, f"serial {serial} does not match batch {n}"
        assert acked[0] > batch, "no batch was acknowledged before the kill"
        batch = n
