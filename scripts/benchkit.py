"""What the benchmark scripts share (bench_changes.py, bench_many_zones.py): the servers
they start and stop, one UDP query, one HTTP request, waits with deadlines, memory and
percentiles. Imported from beside them (scripts/)."""
import argparse
import atexit
import hashlib
import http.client
import json
import math
import os
import shlex
import signal
import socket
import subprocess
import sys
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

PROCS = []  # every server process started through spawn (Popen, own session)


def kill_all():
    """Stops every process this script started: SIGTERM to its process group, SIGKILL after 10 s."""
    for p in PROCS:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + 10
    for p in PROCS:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    PROCS.clear()


def stop(p, timeout=10):
    if p is None:
        return
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait(timeout=5)
    if p in PROCS:
        PROCS.remove(p)


def spawn(cmd, logfile, env=None):
    f = open(logfile, "ab")
    p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, start_new_session=True)
    f.close()
    PROCS.append(p)
    return p


def tail(path, n=30):
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
    except OSError:
        return ""


def port_free(port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        if kind == socket.SOCK_STREAM:  # connections in TIME-WAIT don't hold a port, a listener does
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def check_ports(ports, script):
    """Exits unless every port of `ports` (what → port) is free; 53 and 5401-5403 are left
    to other runs (scripts/bench.sh, the integration tests)."""
    if any(p in (53, 5401, 5402, 5403) for p in ports.values()):
        sys.exit(f"{script}: ports 53 and 5401-5403 are left to others; choose another --port-base")
    busy = [f"{k} {p}" for k, p in ports.items() if not port_free(p)]
    if busy:
        sys.exit(f"{script}: ports in use: {', '.join(busy)} (choose another --port-base / PORT_BASE)")


def command_line(script_path):
    """The command that ran this (PORT_BASE first when the environment gave it)."""
    command = shlex.join([sys.executable, os.path.abspath(script_path)] + sys.argv[1:])
    if "PORT_BASE" in os.environ:
        command = f"PORT_BASE={shlex.quote(os.environ['PORT_BASE'])} " + command
    return command


def on_exit(cleanup):
    """Runs `cleanup` at exit, also after Ctrl-C (SIGINT, even when started in the
    background), SIGTERM or SIGHUP."""
    atexit.register(cleanup)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))


def binary_version(path):
    """A binary as the tables name it: its SHA-256 (12 digits) and modification time."""
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    mtime = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(os.path.getmtime(path)))
    return f"binary {digest} ({mtime})"


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


# --- DNS ------------------------------------------------------------------------------

def query(port, name, rdtype, timeout=0.5):
    """One UDP query; the response or None (timeout, error)."""
    q = dns.message.make_query(name, rdtype)
    q.flags &= ~dns.flags.RD
    try:
        return dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)
    except Exception:  # timeout, refused, malformed: not answered
        return None


def a_set(resp, name):
    """The A addresses answered for name, or None when there is no such answer."""
    if resp is None or resp.rcode() != dns.rcode.NOERROR:
        return None
    for rrset in resp.answer:
        if rrset.rdtype == dns.rdatatype.A and rrset.name.to_text().lower() == name.lower():
            return sorted(r.address for r in rrset)
    return None


def has_soa(resp):
    """Whether resp answers an SOA (NOERROR, an SOA in the answer)."""
    return resp is not None and resp.rcode() == dns.rcode.NOERROR and any(
        r.rdtype == dns.rdatatype.SOA for r in resp.answer)


def wait_soa(port, zone, deadline, proc=None, what="server"):
    """Polls `zone`'s SOA every 10 ms until it answers; returns the time it did. A short
    timeout per query: a server that has bound its socket but drops queries while it
    starts would otherwise round the load time up to the timeout."""
    while True:
        if has_soa(query(port, zone, dns.rdatatype.SOA, timeout=0.05)):
            return time.perf_counter()
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited (status {proc.returncode}) before {zone} SOA answered")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{what}: {zone} SOA not answered on :{port} in time")
        time.sleep(0.01)


# --- HTTP -----------------------------------------------------------------------------

def request(port, method, path, body=None, headers=None, timeout=30.0):
    """One request on a new connection (as curl would); (status, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = dict(headers or {})
        if body is not None:
            if not isinstance(body, (bytes, bytearray)):
                body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_http(port, path, deadline, proc, what, headers=None):
    while True:
        try:
            if request(port, "GET", path, headers=headers, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited (status {proc.returncode}) during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: http://127.0.0.1:{port}{path} not ready in time")
        time.sleep(0.05)



# --- figures --------------------------------------------------------------------------

def pct(values, p):
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def summary(values):
    return {"n": len(values), "p50": pct(values, 50), "p99": pct(values, 99), "max": max(values) if values else None}


def ms_text(s):
    """A summary's p50 / p99 / max in ms, as the tables show them ("-" when empty)."""
    if not s or not s.get("n"):
        return "-"

    def ms(v):
        return "-" if v is None else f"{v:.1f}" if v >= 10 else f"{v:.2f}"

    return f"{ms(s['p50'])} / {ms(s['p99'])} / {ms(s['max'])}"


# --- a run ----------------------------------------------------------------------------

def argument_parser(doc, port_base, root):
    """The parser with the options every benchmark script takes: --bulwark-bin (default
    <root>/.build/release/bulwark) and --port-base (env PORT_BASE, else `port_base`)."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc)
    ap.add_argument("--bulwark-bin", default=os.path.join(root, ".build/release/bulwark"))
    ap.add_argument("--port-base", type=int, default=int(os.environ.get("PORT_BASE", str(port_base))))
    return ap


def print_results(md, work, command):
    """Writes the table to <work>/results.md and prints it, the command and where the raw
    figures are."""
    with open(os.path.join(work, "results.md"), "w") as f:
        f.write(md + "\n\ncommand: " + command + "\n")
    print()
    print(md)
    print()
    print(f"command: {command}")
    print(f"raw figures: {os.path.join(work, 'results.json')}")
