"""A replication topology in network namespaces: a Bulwark primary and two Bulwark
secondaries, each host its own namespace and address on one bridge (198.18.0.0/24,
RFC 2544's benchmarking range, reachable only inside the namespaces). One secondary is
stopped while the primary's zone changes twice (zone file + SIGHUP); restarted, it must
catch up by IXFR (its log and the primary's say so); at the end every server's AXFR
must be the same."""
import os
import re
import signal
import subprocess
import time

import pytest

import netns
import servers
from xfrpeers import write, zone_text

ZONE = "topo.test."


@pytest.fixture
def topology():
    why = netns.available()
    if why:
        pytest.skip(f"topology test skipped: network namespaces unavailable here ({why})")
    t = netns.Topology(f"bwt{os.getpid() % 10000}")
    try:
        t.__enter__()
        yield t
    finally:
        t.cleanup()


class Host:
    """`bulwark serve` inside one namespace, its log in `workdir/name.log`."""

    def __init__(self, topo, name, binary, workdir, yaml_text):
        self.topo, self.name = topo, name
        self.ns, self.address = topo.hosts[name]
        self.config = os.path.join(workdir, f"{name}.yaml")
        self.logfile = os.path.join(workdir, f"{name}.log")
        self.data_dir = os.path.join(workdir, f"{name}-data")
        with open(self.config, "w") as f:
            f.write(yaml_text)
        self.argv = [binary, "serve", "--config", self.config, "--listen", f"{self.address}:53",
                     "--data-dir", self.data_dir, "--workers", "1"]
        self.proc = None

    def start(self):
        log = open(self.logfile, "ab")
        self.proc = self.topo.popen(self.name, self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        return self

    def stop(self):
        if self.proc:
            servers.stop_process(self.proc)

    def log(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()

    def dig(self, *args, timeout=10):
        r = self.topo.run(self.name, ["dig", f"@{self.address}", "+time=1", "+tries=1"] + list(args),
                          capture_output=True, text=True, timeout=timeout)
        return r.stdout

    def serial(self):
        out = self.dig(ZONE, "SOA", "+short")
        parts = out.split()
        return int(parts[2]) if len(parts) >= 7 and parts[2].isdigit() else None

    def wait_serial(self, serial, limit=20.0):
        deadline = time.time() + limit
        last = None
        while time.time() < deadline:
            assert self.proc.poll() is None, f"{self.name} exited\n{self.log()[-3000:]}"
            last = self.serial()
            if last == serial:
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} does not serve serial {serial} within {limit}s (last {last})\n"
                             f"{self.log()[-3000:]}")

    def axfr(self):
        out = self.dig(ZONE, "AXFR", "+noall", "+answer", "+nocomments")
        assert "Transfer failed" not in out and out.strip(), f"AXFR from {self.name} failed: {out}\n{self.log()[-2000:]}"
        lines = set()
        for line in out.splitlines():
            if line.strip() and not line.startswith(";"):
                lines.add(" ".join(line.split()))
        return lines


def test_primary_and_two_secondaries_catch_up_by_ixfr(bulwark_bin, tmp_path, topology):
    workdir = str(tmp_path)
    topo = topology
    for name in ("primary", "sec1", "sec2"):
        topo.add_host(name)
    p_addr, s1_addr, s2_addr = (topo.hosts[n][1] for n in ("primary", "sec1", "sec2"))
    subnet = p_addr.rsplit(".", 1)[0] + ".0/24"
    zf = os.path.join(workdir, "topo.test.zone")
    # REFRESH 300 s: a running secondary hears of changes by NOTIFY; RETRY 2 s.
    write(zf, zone_text(ZONE, 1, ["gone IN A 192.0.2.40", "keep IN A 192.0.2.41"], refresh=300, retry=2))
    primary = Host(topo, "primary", bulwark_bin, workdir, f"""
zones:
  - name: {ZONE}
    file: {zf}
    notify: ["{s1_addr}", "{s2_addr}"]
    allow-transfer: [{{address: {subnet}}}]
""")
    secondary_yaml = f"""
transfer-acl: {{allow: [{subnet}]}}
secondary-zones:
  - name: {ZONE}
    primaries: ["{p_addr}"]
"""
    s1 = Host(topo, "sec1", bulwark_bin, workdir, secondary_yaml)
    s2 = Host(topo, "sec2", bulwark_bin, workdir, secondary_yaml)
    hosts = [primary, s1, s2]
    try:
        primary.start()
        primary.wait_serial(1)
        s1.start()
        s2.start()
        s1.wait_serial(1)
        s2.wait_serial(1)
        assert "AXFR serial 1" in s1.log() and "AXFR serial 1" in s2.log()

        s2.stop()
        # Two changes while sec2 is down, each a zone-file edit and SIGHUP.
        write(zf, zone_text(ZONE, 2, ["gone IN A 192.0.2.40", "keep IN A 192.0.2.41", "added IN A 192.0.2.42"],
                            refresh=300, retry=2))
        primary.proc.send_signal(signal.SIGHUP)
        primary.wait_serial(2)
        s1.wait_serial(2, limit=10)  # NOTIFY brings it at once
        write(zf, zone_text(ZONE, 3, ["keep IN A 192.0.2.41", "added IN A 192.0.2.43", "later IN TXT \"v3\""],
                            refresh=300, retry=2))
        primary.proc.send_signal(signal.SIGHUP)
        primary.wait_serial(3)
        s1.wait_serial(3, limit=10)
        assert "IXFR serial 1 -> 2" in s1.log() and "IXFR serial 2 -> 3" in s1.log(), s1.log()[-2000:]

        # sec2 restarts from its on-disk copy (serial 1) and catches up by IXFR.
        s2.start()
        s2.wait_serial(3, limit=20)
        assert re.search(r"IXFR serial 1 -> 3", s2.log()), s2.log()[-3000:]
        assert re.search(rf"IXFR of {re.escape(ZONE)} 1 → 3 to {re.escape(s2_addr)}", primary.log()), primary.log()[-3000:]

        # Every server's AXFR is the same zone.
        reference = primary.axfr()
        assert any("added" in line and "192.0.2.43" in line for line in reference)
        assert not any(line.startswith("gone.") for line in reference)
        for h in (s1, s2):
            assert h.axfr() == reference, f"{h.name}'s AXFR differs from the primary's"
    finally:
        for h in hosts:
            h.stop()
