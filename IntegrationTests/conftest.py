"""Fixtures: zone sets in a temp dir, NSD + Knot peers, Bulwark, all on loopback.

Environment:
  BULWARK_BIN            the binary (default $ROOT/.build/release/bulwark)
  CI=true                a missing binary fails the run instead of skipping
  BULWARK_TEST_SUBJECT   bulwark (default) | knot | nsd: the server judged
                         against the peers. `knot` proves the harness with Knot
                         standing in for Bulwark (Bulwark-only tests skip).
  BULWARK_TEST_PORTS     "NSD,KNOT,BULWARK" for the main zone set (default
                         5401,5402,5403; a busy port is replaced by a free one)
  BULWARK_TEST_REPORTS   where reports go (default $ROOT/.build/integration-reports)
"""
import atexit
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import servers  # noqa: E402
import zones  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
IN_CI = os.environ.get("CI", "").lower() == "true"
SUBJECT = os.environ.get("BULWARK_TEST_SUBJECT", "bulwark").lower()
REPORTS = os.environ.get("BULWARK_TEST_REPORTS",
                         os.path.join(ROOT, ".build", "integration-reports"))

_running = []


def _stop_all():
    while _running:
        s = _running.pop()
        try:
            s.stop()
        except Exception:
            pass


atexit.register(_stop_all)


def pytest_sessionstart(session):
    killed = servers.kill_stale()
    if killed:
        print(f"\nstopped servers left by an earlier test session: {', '.join(killed)}")
    os.makedirs(REPORTS, exist_ok=True)
    for f in os.listdir(REPORTS):  # reports of an earlier run would mislead
        if f.endswith(".txt"):
            os.unlink(os.path.join(REPORTS, f))


def _binary_status():
    path = bulwark_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return f"MISSING: {path} (build with `swift build -c release`)"
    return _missing_subcommand(path, "serve") or f"{path}"


def pytest_report_header(config):
    return [f"integration: subject={SUBJECT} CI={IN_CI} reports={REPORTS}",
            f"integration: bulwark binary: {_binary_status()}"]


def pytest_terminal_summary(terminalreporter):
    skipped = len(terminalreporter.stats.get("skipped", []))
    if skipped and SUBJECT == "bulwark" and not IN_CI:
        status = _binary_status()
        if status != bulwark_path():
            terminalreporter.write_line(
                f"NOTE: {skipped} integration tests skipped: bulwark binary {status}",
                yellow=True, bold=True)


def bulwark_path():
    return os.environ.get("BULWARK_BIN", os.path.join(ROOT, ".build", "release", "bulwark"))


def require_tools():
    missing = [t for t in ("nsd", "knotd") if shutil.which(t) is None]
    if missing:
        msg = (f"{' and '.join(missing)} not installed (run .ci/run, or "
               f"apt-get install nsd knot)")
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def bulwark_bin():
    """Path of the Bulwark binary; skips (fails when CI=true) if it is missing."""
    path = bulwark_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        msg = (f"Bulwark binary not found at {path}: build it with "
               f"`swift build -c release` or set BULWARK_BIN")
        if IN_CI:
            pytest.fail(msg + " (CI=true: a missing binary is a failure)")
        pytest.skip(msg)
    missing = _missing_subcommand(path, "serve")
    if missing:
        if IN_CI:
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing + " (skipped; with CI=true this fails)")
    return path


def _missing_subcommand(path, sub):
    """A binary built from the skeleton may not have the subcommand yet."""
    import subprocess
    try:
        p = subprocess.run([path, sub, "--help"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{path} {sub} --help failed: {e}"
    # ArgumentParser prints the root help, exit 0, for an unknown subcommand's --help:
    # look for a flag the tests rely on instead.
    flag = {"serve": "--listen", "check": "--origin"}[sub]
    if p.returncode != 0 or flag not in p.stdout + p.stderr:
        return (f"{path} has no `{sub}` subcommand yet (`{sub} --help` exited "
                f"{p.returncode} and does not mention {flag})")
    return None


@pytest.fixture(scope="session")
def bulwark_check_bin(bulwark_bin):
    missing = _missing_subcommand(bulwark_bin, "check")
    if missing:
        if IN_CI:
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing + " (skipped; with CI=true this fails)")
    return bulwark_bin


@pytest.fixture
def bulwark_only():
    """Tests of Bulwark-specific behaviour (flags, reload, check) skip in harness mode."""
    if SUBJECT != "bulwark":
        pytest.skip(f"Bulwark-specific test; BULWARK_TEST_SUBJECT={SUBJECT}")


@pytest.fixture(scope="session")
def taken_ports():
    return set()


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("integration"))


class Trio:
    """NSD, Knot and the subject serving one zone set."""

    def __init__(self, set_name, zone_files, nsd, knot, subject):
        self.set_name = set_name
        self.zone_files = zone_files
        self.nsd, self.knot, self.subject = nsd, knot, subject
        self.apex = zone_files[0][0]

    @property
    def peers(self):
        return [self.nsd, self.knot]


def _start_peers(set_name, workdir, zone_files, ports, taken):
    require_tools()
    base = os.path.join(workdir, set_name)
    nsd = servers.NSD(servers.pick_port(ports[0], taken), base, zone_files,
                      tag=f"nsd-{set_name}")
    knot = servers.Knot(servers.pick_port(ports[1], taken), base, zone_files,
                        tag=f"knot-{set_name}")
    for s in (nsd, knot):
        s.start()
        _running.append(s)
    for s in (nsd, knot):
        servers.wait_ready(s, zone_files[0][0])
    return nsd, knot


def start_bulwark(binary, workdir, zone_files, port, taken, extra_args=(), tag="bulwark",
                  wait_zone=None):
    b = servers.Bulwark(binary, servers.pick_port(port, taken), workdir, zone_files,
                        extra_args=extra_args, tag=tag)
    b.start()
    _running.append(b)
    try:
        servers.wait_ready(b, wait_zone or zone_files[0][0])
    except RuntimeError as e:
        stop_bulwark(b)
        pytest.fail(str(e), pytrace=False)
    return b


def stop_bulwark(b):
    if b in _running:
        _running.remove(b)
    was_alive = b.alive()
    status = b.stop()
    return was_alive, status


def _trio(request, set_name, ports, workdir, taken, zone_files=None):
    binary = request.getfixturevalue("bulwark_bin") if SUBJECT == "bulwark" else None
    if zone_files is None:
        zone_files = zones.write_zone_set(set_name, os.path.join(workdir, set_name, "zones"))
    nsd, knot = _start_peers(set_name, workdir, zone_files, ports, taken)

    def fin():
        for s in (nsd, knot):
            if s in _running:
                _running.remove(s)
            s.stop()
    request.addfinalizer(fin)
    if SUBJECT == "knot":
        subject = knot
    elif SUBJECT == "nsd":
        subject = nsd
    else:
        subject = start_bulwark(binary, os.path.join(workdir, set_name), zone_files,
                                ports[2], taken, tag=f"bulwark-{set_name}")

        def fin_b():
            was_alive, status = stop_bulwark(subject)
            assert was_alive, (f"Bulwark ({set_name}) had exited before the end of the "
                               f"session\n{subject.log_tail()}")
            assert status is not None, "Bulwark did not exit within 10s of SIGTERM"
        request.addfinalizer(fin_b)
    return Trio(set_name, zone_files, nsd, knot, subject)


def _ports():
    v = os.environ.get("BULWARK_TEST_PORTS", "5401,5402,5403")
    return [int(p) for p in v.split(",")]


@pytest.fixture(scope="session")
def main_trio(request, workdir, taken_ports):
    """Zone set `main` (example., sub.example., other.test.) on NSD, Knot, subject."""
    return _trio(request, "main", _ports(), workdir, taken_ports)


@pytest.fixture(scope="session")
def rfc4592_trio(request, workdir, taken_ports):
    """Zone set `rfc4592` (RFC 4592 2.2.1 verbatim as example.) on free ports."""
    return _trio(request, "rfc4592", [0, 0, 0], workdir, taken_ports)


@pytest.fixture(scope="session")
def edges_trio(request, workdir, taken_ports):
    """Zone set `edges` (edge.test.: RFC 9471 glue, SVCB/HTTPS) on free ports."""
    return _trio(request, "edges", [0, 0, 0], workdir, taken_ports)


ROOT_ZONE = os.path.join(SHARED, "data", "root.zone")


@pytest.fixture(scope="session")
def root_trio(request, workdir, taken_ports):
    """The root zone (../shared/data/root.zone) on NSD, Knot and the subject, free ports."""
    if not os.path.exists(ROOT_ZONE):
        pytest.skip(f"{ROOT_ZONE} not found")
    return _trio(request, "root", [0, 0, 0], workdir, taken_ports, zone_files=[(".", ROOT_ZONE)])


@pytest.fixture(scope="session")
def subject(main_trio):
    return main_trio.subject
