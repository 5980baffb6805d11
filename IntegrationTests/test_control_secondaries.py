"""Control plane → secondaries (issue 6, "Live"): a change made through the API of one
Bulwark is journaled, announced by NOTIFY (the top-level `notify:` of the API server's
configuration) and fetched by IXFR by a second Bulwark serving the zone as a secondary;
the test measures how soon after the API's reply the secondary answers the new data.
"""
import os
import statistics
import time

import dns.message
import dns.query
import dns.rdatatype
import pytest
import urllib.request

import servers
from conftest import REPORTS
from test_control import ControlServer, answer_texts, call, create_zone

ZONE = "live.test."
CHANGES = 20


def query_port(port, name, rdtype, timeout=0.5):
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)


def wait_for(port, name, rdtype, want, limit):
    """Seconds until `port` answers `name`/`rdtype` with `want` (polled every ms)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        try:
            if answer_texts(query_port(port, name, rdtype), rdtype) == want:
                return time.monotonic() - t0
        except Exception:
            pass
        time.sleep(0.001)
    return None


def transfers_counted(ops_port, kind):
    """The `bulwark_transfers_total` count of `kind` ("IXFR out", "AXFR in", ...) in /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{ops_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    total = 0
    for line in text.splitlines():
        if line.startswith("bulwark_transfers_total{") and f'kind="{kind}"' in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def zone_text(origin, names):
    """A zone of `names` owners h0..hN-1 with one A record each (as ../shared/bench's genzone.py)."""
    lines = [f"$ORIGIN {origin}", "$TTL 3600",
             "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300", "@ IN NS ns1", "ns1 IN A 192.0.2.53"]
    lines += [f"h{i} IN A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}" for i in range(names)]
    return "\n".join(lines) + "\n"


def changes_reach_a_secondary(bulwark_bin, workdir, zone, changes, report, populate, max_body=None):
    """An API server NOTIFYing a second Bulwark that serves `zone` as a secondary;
    `populate(primary)` makes the zone, then `changes` one-RRset changes are made and each
    must be answered by the secondary within a second, fetched by IXFR."""
    taken = set()
    secondary_port = servers.pick_port(0, taken)
    primary_ops, secondary_ops = servers.pick_port(0, taken), servers.pick_port(0, taken)
    primary = ControlServer(bulwark_bin, workdir, "api-primary", os.path.join(workdir, "primary-data"), zones=[])
    # The API server: every zone without settings of its own (all API zones) NOTIFYs the
    # secondary and may be transferred to loopback.
    with open(os.path.join(workdir, "api-primary", "bulwark.yaml"), "w") as f:
        f.write("api:\n  rate-limit: 0\n" + (f"  max-body: {max_body}\n" if max_body else "")
                + f"notify: [\"127.0.0.1:{secondary_port}\"]\n"
                "allow-transfer: [127.0.0.0/8]\n")
    primary.argv += ["--ops-listen", f"127.0.0.1:{primary_ops}"]
    primary.start()
    secondary = None
    try:
        populate(primary)
        config = os.path.join(workdir, "secondary.yaml")
        with open(config, "w") as f:
            f.write("secondary-zones:\n"
                    f"  - name: {zone}\n"
                    f"    primaries: [\"127.0.0.1:{primary.port}\"]\n")
        secondary = servers.Bulwark(
            bulwark_bin, secondary_port, workdir, [], tag="api-secondary", ipv6=False,
            extra_args=["--config", config, "--api-listen", "off", "--ops-listen", f"127.0.0.1:{secondary_ops}",
                        "--data-dir", os.path.join(workdir, "secondary-data")])
        secondary.start()
        assert wait_for(secondary_port, "ns1." + zone, dns.rdatatype.A, ["192.0.2.53"], 60) is not None, \
            "the secondary never answered the zone's first version\n" + secondary.log_tail()

        delays = []
        for i in range(changes):
            address = f"198.51.100.{i + 1}"
            status, body, _ = call(primary, "PUT", f"/v1/zones/{zone}/rrsets/www/A",
                                   {"ttl": 60, "records": [address]})
            assert status == 200, body
            delay = wait_for(secondary_port, "www." + zone, dns.rdatatype.A, [address], 5.0)
            assert delay is not None, f"change {i} never reached the secondary\n" + secondary.log_tail()
            delays.append(delay)

        # The secondary followed by IXFR (RFC 1995), not by whole-zone transfers.
        with open(secondary.logfile, errors="replace") as f:
            log = f.read()
        assert "IXFR" in log, log[-2000:]
        # ... and both ends counted the transfers in /metrics (operations, issue 7).
        assert transfers_counted(primary_ops, "IXFR out") >= changes
        assert transfers_counted(secondary_ops, "IXFR in") >= changes
        median, worst = statistics.median(delays), max(delays)
        with open(os.path.join(REPORTS, report), "w") as f:
            f.write(f"API reply -> secondary answers, {changes} changes: median {median * 1000:.1f} ms, "
                    f"max {worst * 1000:.1f} ms\n")
        print(f"\nAPI reply -> secondary answers: median {median * 1000:.1f} ms, max {worst * 1000:.1f} ms")
        assert worst < 1.0, delays
    finally:
        if secondary is not None:
            secondary.stop()
        primary.stop()


def test_api_changes_reach_a_secondary_within_a_second(bulwark_bin, bulwark_only, tmp_path):
    changes_reach_a_secondary(bulwark_bin, str(tmp_path), ZONE, CHANGES, "control-secondary-latency.txt",
                              lambda primary: create_zone(primary, ZONE))


def test_changes_to_a_large_zone_reach_a_secondary_within_a_second(bulwark_bin, bulwark_only, tmp_path):
    """The same with a 100,000-name zone imported through the API: each change is applied
    to the served zone and journaled as what it changed, so it costs what it touches and
    reaches the secondary as fast as on a small zone."""
    zone = "large.test."
    text = zone_text(zone, 100_000)

    def populate(primary):
        status, body, _ = call(primary, "PUT", f"/v1/zones/{zone}/zonefile", text, timeout=120)
        assert status == 201, body

    changes_reach_a_secondary(bulwark_bin, str(tmp_path), zone, 10, "control-secondary-large-latency.txt",
                              populate, max_body=64 << 20)
