"""Faults: the disk fills up, processes are killed.

The data directory is put on a small tmpfs (mount needs root; skipped otherwise), filled
to the last byte, and API writes go on: each one is either acknowledged (and then never
lost) or refused with 507/503 and a clear error, DNS keeps answering the last
acknowledged version, writes work again once space returns, and a restart finds every
acknowledged change.
"""
import os
import random
import subprocess
import threading
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

import seeds
import servers
import test_control as tc
from test_control import workdir  # noqa: F401  (fixture)


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({p.stderr.strip()}): the disk-full test needs root")


def fill(path):
    """Writes zeros to `path` until the file system refuses (ENOSPC); returns the size."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    written = 0
    chunk = b"\0" * 65536
    try:
        while True:
            try:
                written += os.write(fd, chunk)
            except OSError:
                if len(chunk) == 1:
                    break
                chunk = chunk[: len(chunk) // 2]
    finally:
        os.close(fd)
    return written


def journaling_server(bulwark_bin, workdir, tag, data):
    """An API server whose zones may be transferred to loopback: each change is journaled."""
    s = tc.ControlServer(bulwark_bin, workdir, tag, data)
    with open(os.path.join(workdir, tag, "bulwark.yaml"), "w") as f:
        f.write("api:\n  rate-limit: 0\nallow-transfer: [127.0.0.0/8]\n")
    return s.start()


def ixfr(server, zone, serial):
    """The records of an IXFR from `serial` (RFC 1995), over TCP."""
    q = dns.message.make_query(zone, dns.rdatatype.IXFR)
    q.authority.append(dns.rrset.from_text(zone, 0, "IN", "SOA", f". . {serial} 0 0 0 0"))
    r = dns.query.tcp(q, "127.0.0.1", port=server.port, timeout=5, one_rr_per_rrset=True)
    assert r.rcode() == dns.rcode.NOERROR, r
    return [rr for rrset in r.answer for rr in rrset]


def txt(server, name):
    """The TXT records of `name`, over TCP (some are larger than 512 octets)."""
    r = dns.query.tcp(dns.message.make_query(name, dns.rdatatype.TXT), "127.0.0.1", port=server.port, timeout=5)
    return tc.answer_texts(r, dns.rdatatype.TXT)


def test_disk_full_under_the_store_and_journal(bulwark_bin, bulwark_only, workdir):  # noqa: F811
    mnt = os.path.join(workdir, "small")
    mount_tmpfs(mnt, "16m")
    data = os.path.join(mnt, "data")
    journals = os.path.join(data, "journal")
    running = []
    try:
        # The journals on a file system of their own, to fill one without the other.
        mount_tmpfs(journals, "64k")
        server = journaling_server(bulwark_bin, workdir, "full0", data)
        running.append(server)
        tc.create_zone(server, "full.test.")
        acked = {}

        def write(name, value):
            status, body, headers = tc.call(server, "PUT", f"/v1/zones/full.test/rrsets/{name}/TXT", {"records": [value]})
            if status == 200:
                acked[f"{name}.full.test."] = value
            return status, body, headers

        for i in range(3):
            assert write(f"before{i}", f'"{i}"')[0] == 200
        serial0 = tc.call(server, "GET", "/v1/zones/full.test")[1]["serial"]
        assert len(ixfr(server, "full.test.", serial0 - 2)) > 2, "the journal answers IXFR"

        # 1. The journals' disk is full: changes are still made and served; the journal
        # is refused, says so, and starts again; IXFR still answers (the whole zone when
        # it cannot reach the serial asked for, RFC 1995 §4).
        journal_filler = os.path.join(journals, "filler")
        fill(journal_filler)
        def journal_refused():
            return any(" error " in line and "journal of full.test." in line for line in server.log_tail(400).splitlines())

        for i in range(40):  # until the journal's last page is full too
            status, body, _ = write(f"nojournal{i}", f'"{i} {"y" * 250}" "{"z" * 250}"')
            assert status == 200, body
            if journal_refused():
                break
        assert journal_refused(), server.log_tail(20)
        serial1 = tc.call(server, "GET", "/v1/zones/full.test")[1]["serial"]
        assert ixfr(server, "full.test.", serial0)[0].serial == serial1
        os.remove(journal_filler)
        assert write("journal-again", '"again"')[0] == 200
        incremental = ixfr(server, "full.test.", serial1)
        assert incremental[0].serial == serial1 + 1 and incremental[1].serial == serial1, incremental[:2]

        # 2. The database's disk is full, but for a little: some writes still fit (each
        # commit grows the WAL), then each is refused with 507 and nothing changes.
        filler = os.path.join(mnt, "filler")
        fill(filler)
        os.truncate(filler, os.path.getsize(filler) - 160 * 1024)
        refused = None
        for i in range(400):
            status, body, headers = write(f"h{i}", f'"{i} {"x" * 200}"')
            if status == 200:
                continue
            assert status in (503, 507), (status, body)
            assert body["error"]["code"] in ("store_full", "store_unavailable"), body
            assert headers.get("Retry-After"), headers
            refused = (status, body["error"]["message"])
            break
        assert refused is not None, f"{len(acked)} writes acknowledged on a full disk"
        print(f"\ndisk full: {len(acked)} writes acknowledged, then {refused[0]}: {refused[1]}")
        # Still refused while full; DNS answers every acknowledged change meanwhile.
        assert write("more", '"more"')[0] in (503, 507)
        for name, value in acked.items():
            assert txt(server, name) == [value], name
        # Space returns: writes work again.
        os.remove(filler)
        status, body, _ = write("after", '"after"')
        assert status == 200, body
        serial2 = tc.call(server, "GET", "/v1/zones/full.test")[1]["serial"]
        assert server.stop() == 0

        # 3. A restart finds every acknowledged change, a whole history, a readable journal.
        again = journaling_server(bulwark_bin, workdir, "full1", data)
        running.append(again)
        for name, value in acked.items():
            assert txt(again, name) == [value], name
        history = tc.call(again, "GET", "/v1/zones/full.test/history?limit=1000")[1]["changes"]
        assert len(history) == 2 + len(acked), len(history)  # create, ns1 A, one per acknowledged write
        incremental = ixfr(again, "full.test.", serial2 - 1)
        assert incremental[0].serial == serial2 and incremental[1].serial == serial2 - 1, incremental[:2]
    finally:
        for s in running:
            s.stop()
        subprocess.run(["umount", "-l", journals], capture_output=True)
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def test_disk_full_under_a_secondary(bulwark_bin, bulwark_only, workdir):  # noqa: F811
    """A secondary whose disk is full keeps following its primary (the copy it keeps on
    disk is refused, and says so), writes its copy again once space returns, and after a
    restart with the primary gone serves the last copy written."""
    mnt = os.path.join(workdir, "secondary-disk")
    mount_tmpfs(mnt, "4m")
    primary = secondary = None
    try:
        primary = journaling_server(bulwark_bin, workdir, "fault-primary", os.path.join(workdir, "primary-data"))
        tc.create_zone(primary, "sec.test.")
        taken = {primary.port, primary.api_port}
        port = servers.pick_port(0, taken)
        config = os.path.join(workdir, "secondary.yaml")
        with open(config, "w") as f:
            f.write("secondary-zones:\n  - name: sec.test.\n"
                    f"    primaries: [\"127.0.0.1:{primary.port}\"]\n"
                    f"notify: []\n")
        with open(os.path.join(workdir, "fault-primary", "bulwark.yaml"), "a") as f:
            f.write(f"notify: [\"127.0.0.1:{port}\"]\n")

        def start_secondary(tag):
            s = servers.Bulwark(bulwark_bin, port, workdir, [], tag=tag, ipv6=False,
                                extra_args=["--config", config, "--api-listen", "off", "--ops-listen", "off",
                                            "--data-dir", os.path.join(mnt, "data")])
            s.start()
            return s

        def answered(name, want, limit=10.0):
            deadline = time.time() + limit
            while time.time() < deadline:
                try:
                    if tc.answer_texts(tc.query(secondary, name, dns.rdatatype.A, timeout=0.3), dns.rdatatype.A) == want:
                        return True
                except dns.exception.Timeout:
                    pass
                time.sleep(0.05)
            return False

        secondary = start_secondary("fault-secondary0")
        assert answered("ns1.sec.test.", ["192.0.2.53"], 60), secondary.log_tail()
        filler = os.path.join(mnt, "filler")
        fill(filler)
        # The primary is restarted to NOTIFY the secondary from now on (the config above).
        assert primary.stop() == 0
        primary.start()
        for i in range(3):
            assert tc.call(primary, "PUT", "/v1/zones/sec.test/rrsets/www/A", {"records": [f"192.0.2.{i + 1}"]})[0] == 200
            assert answered("www.sec.test.", [f"192.0.2.{i + 1}"]), secondary.log_tail()
        logged = secondary.log_tail(200)
        assert "on-disk copy is not updated" in logged and "No space left on device" in logged, logged
        os.remove(filler)
        assert tc.call(primary, "PUT", "/v1/zones/sec.test/rrsets/www/A", {"records": ["192.0.2.99"]})[0] == 200
        assert answered("www.sec.test.", ["192.0.2.99"]), secondary.log_tail()
        time.sleep(0.5)  # the copy is written after the zone is served
        assert secondary.stop() == 0
        assert primary.stop() == 0
        secondary = start_secondary("fault-secondary1")
        assert answered("www.sec.test.", ["192.0.2.99"]), secondary.log_tail()
    finally:
        for s in (secondary, primary):
            if s is not None:
                s.stop()
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def test_sigkill_loop_during_writes_journal_appends_and_transfers_in(bulwark_bin, bulwark_only, workdir):  # noqa: F811
    """An API primary (each change journaled and NOTIFYing) and its Bulwark secondary
    (each NOTIFY an IXFR in and a new on-disk copy) are both SIGKILLed at a random moment
    of a stream of batches, then started again, ROUNDS times (50; BULWARK_SIGKILL_ROUNDS
    to change; the seed is printed). Batch n sets TXT "n" on a, b and c at once. After
    every restart: the primary is at a batch it acknowledged or the next one, a, b and c
    agree and the SOA serial matches; its journal answers IXFR; the secondary serves a
    whole version (a, b and c agreeing with its serial) and catches up with the primary."""
    rounds = int(os.environ.get("BULWARK_SIGKILL_ROUNDS", "50"))
    rng = random.Random(seeds.seed(20261207, f"SIGKILL loop of {rounds} rounds"))
    taken = set()
    secondary_port = servers.pick_port(0, taken)
    primary = tc.ControlServer(bulwark_bin, workdir, "kill-primary", os.path.join(workdir, "kill-primary-data"))
    with open(os.path.join(workdir, "kill-primary", "bulwark.yaml"), "w") as f:
        f.write("api:\n  rate-limit: 0\nallow-transfer: [127.0.0.0/8]\n"
                f"notify: [\"127.0.0.1:{secondary_port}\"]\n")
    config = os.path.join(workdir, "kill-secondary.yaml")
    secondary = servers.Bulwark(bulwark_bin, secondary_port, workdir, [], tag="kill-secondary", ipv6=False,
                                extra_args=["--config", config, "--api-listen", "off", "--ops-listen", "off",
                                            "--data-dir", os.path.join(workdir, "kill-secondary-data")])
    try:
        primary.start()
        tc.create_zone(primary, "kill.test.")
        base_serial = tc.call(primary, "GET", "/v1/zones/kill.test")[1]["serial"]
        with open(config, "w") as f:
            f.write(f"secondary-zones:\n  - name: kill.test.\n    primaries: [\"127.0.0.1:{primary.port}\"]\n")
        secondary.start()

        def version(server):
            """(serial, batch) as `server` answers now, or None while it changes under us."""
            try:
                serial = tc.query(server, "kill.test.", dns.rdatatype.SOA).answer[0][0].serial
                texts = {tuple(tc.answer_texts(tc.query(server, f"{o}.kill.test.", dns.rdatatype.TXT), dns.rdatatype.TXT))
                         for o in ("a", "b", "c")}
                again = tc.query(server, "kill.test.", dns.rdatatype.SOA).answer[0][0].serial
            except (dns.exception.Timeout, IndexError):
                return None
            if serial != again:
                return None
            assert len(texts) == 1, f"{server.tag}: a, b and c disagree at serial {serial}: {texts}"
            t = texts.pop()
            n = int(t[0].strip('"')) if t else 0
            assert t == tuple(sorted([f'"{n}"', f'"batch {n}"'])) or not t, t
            assert serial == base_serial + n, f"{server.tag}: serial {serial} with batch {n}"
            return serial, n

        def settled(server, want_serial, limit=10.0):
            deadline = time.time() + limit
            while time.time() < deadline:
                v = version(server)
                if v is not None and (want_serial is None or v[0] == want_serial):
                    return v
                time.sleep(0.02)
            raise AssertionError(f"{server.tag} not at serial {want_serial} after {limit} s\n{server.log_tail()}")

        settled(secondary, base_serial, 30)
        acked = 0
        for round_ in range(rounds):
            stop = threading.Event()
            counter = [acked]

            def stream():
                n = counter[0]
                while not stop.is_set():
                    n += 1
                    changes = [{"action": "replace", "name": o, "type": "TXT", "ttl": 60,
                                "records": [f'"{n}"', f'"batch {n}"']} for o in ("a", "b", "c")]
                    try:
                        status, _, _ = tc.call(primary, "PATCH", "/v1/zones/kill.test/rrsets", {"changes": changes})
                    except OSError:
                        return
                    if status != 200:
                        return
                    counter[0] = n

            t = threading.Thread(target=stream)
            t.start()
            time.sleep(0.1 + rng.random() * 0.4)
            for s in rng.sample([primary, secondary], 2):
                s.kill()
            stop.set()
            t.join(timeout=15)
            assert counter[0] > acked, f"round {round_}: no batch acknowledged before the kill"
            primary.start()
            serial, n = settled(primary, None)
            assert n in (counter[0], counter[0] + 1), f"round {round_}: primary at batch {n}, acknowledged {counter[0]}"
            # The journal was appended to when the kill came: it reads, and answers IXFR.
            if n > 1:
                q = dns.message.make_query("kill.test.", dns.rdatatype.IXFR)
                q.authority.append(dns.rrset.from_text("kill.test.", 0, "IN", "SOA", f". . {serial - 1} 0 0 0 0"))
                r = dns.query.tcp(q, "127.0.0.1", port=primary.port, timeout=5, one_rr_per_rrset=True)
                assert r.rcode() == dns.rcode.NOERROR and r.answer[0][0].serial == serial, r
            # The secondary starts from its copy (a whole version), then catches up.
            secondary.start()
            settled(secondary, serial)
            acked = n
        print(f"SIGKILL loop: {rounds} rounds, {acked} batches")
    finally:
        for s in (secondary, primary):
            if s.alive():
                s.stop()
