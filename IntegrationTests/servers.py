"""Start and stop the servers under comparison: NSD, Knot DNS and Bulwark.

The NSD and Knot configurations are those of ../shared/bench/peers.sh (one
worker each, same zone files), written here so that ports are parameters (two
zone sets run side by side) and NSD gets `rrl-ratelimit: 0` (NSD applies
response rate limiting by default, which would drop test queries).

Every process started is recorded in a pid file under STATE_DIR; the next
session kills what a crashed or interrupted one left behind, and only that
(the command line is checked, never a process name).
"""
import os
import signal
import socket
import subprocess
import time

import dns.message
import dns.query
import dns.rdatatype

STATE_DIR = os.environ.get(
    "BULWARK_TEST_STATE", f"/tmp/bulwark-integration-{os.getuid()}")
PID_DIR = os.path.join(STATE_DIR, "pids")


# ---------------------------------------------------------------- processes

def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _terminate(pid, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` seconds. Returns True if it went on TERM."""
    if not _alive(pid):
        return True
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.time() + grace
    while time.time() < deadline:
        try:  # reap if it is our child
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not _alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return False


# One file per started server: "<server pid> <owning session pid> <marker>", the
# marker being a string its command line contains. Concurrent sessions (other
# worktrees) each own their entries; only entries whose session is gone are stale.
def _record_path(tag):
    return os.path.join(PID_DIR, f"{os.getpid()}-{tag}")


def _record(tag, pid, marker):
    os.makedirs(PID_DIR, exist_ok=True)
    with open(_record_path(tag), "w") as f:
        f.write(f"{pid} {os.getpid()} {marker}\n")


def _unrecord(tag):
    try:
        os.unlink(_record_path(tag))
    except FileNotFoundError:
        pass


def kill_stale():
    """Stop servers that an earlier, now dead, test session left running."""
    if not os.path.isdir(PID_DIR):
        return []
    killed = []
    for entry in os.listdir(PID_DIR):
        path = os.path.join(PID_DIR, entry)
        try:
            with open(path) as f:
                pid_s, owner_s, marker = f.read().split(None, 2)
            if pid_s.startswith("@"):  # a daemon's pid file, recorded before it started
                with open(pid_s[1:]) as pf:
                    pid_s = pf.read().strip() or "0"
            pid, owner = int(pid_s), int(owner_s)
        except (OSError, ValueError):
            os.unlink(path)
            continue
        if owner != os.getpid() and _alive(owner) and "python" in _cmdline(owner):
            continue  # another live test session owns it
        if _alive(pid) and marker.strip() in _cmdline(pid):
            _terminate(pid, grace=3)
            killed.append(f"{entry} (pid {pid})")
        os.unlink(path)
    return killed


# ---------------------------------------------------------------- ports

def port_free(port, host="127.0.0.1"):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def ipv6_loopback_usable():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def pick_port(preferred, taken):
    """`preferred` if it is free on UDP and TCP (v4 and, if usable, v6), else a free one."""
    def ok(p):
        if p in taken or not port_free(p):
            return False
        if ipv6_loopback_usable():
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET6, kind)
                try:
                    s.bind(("::1", p))
                except OSError:
                    return False
                finally:
                    s.close()
        return True
    if preferred and ok(preferred):
        taken.add(preferred)
        return preferred
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if ok(p):
            taken.add(p)
            return p
    raise RuntimeError("no free port found")


# ---------------------------------------------------------------- readiness

def soa_ready(host, port, zone, timeout=0.5):
    q = dns.message.make_query(zone, dns.rdatatype.SOA)
    try:
        r = dns.query.udp(q, host, port=port, timeout=timeout)
    except Exception:
        return False
    return any(rr.rdtype == dns.rdatatype.SOA for rr in r.answer)


def wait_ready(server, zone, limit=30.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited during start-up\n{server.log_tail()}")
        if soa_ready(server.host, server.port, zone):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer SOA {zone} on port {server.port} "
                       f"within {limit:.0f}s\n{server.log_tail()}")


# ---------------------------------------------------------------- servers

class Server:
    """A running server: name, host, port; alive(); stop(); log_tail()."""
    name = "?"
    host = "127.0.0.1"

    def __init__(self, port, workdir, tag):
        self.port = port
        self.workdir = workdir
        self.tag = tag
        self.logfile = None

    @property
    def addr(self):
        return (self.host, self.port)

    def pid(self):
        raise NotImplementedError

    def alive(self):
        return _alive(self.pid())

    def log_tail(self, n=40):
        if not self.logfile or not os.path.exists(self.logfile):
            return "(no log)"
        with open(self.logfile, errors="replace") as f:
            lines = f.readlines()
        return f"--- last lines of {self.logfile} ---\n" + "".join(lines[-n:])

    def stop(self):
        pid = self.pid()
        ok = _terminate(pid) if pid else True
        _unrecord(self.tag)
        return ok

    def __repr__(self):
        return f"{self.name}@{self.host}:{self.port}"


class PidFileServer(Server):
    pidfile = None
    marker = None

    def pid(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _config_files(self, daemon):
        """`conf`, `pidfile` and `logfile` named for `daemon` in the work directory; the
        configuration's path marks the process in the pid records."""
        w = self.workdir
        self.conf = os.path.join(w, f"{daemon}.conf")
        self.pidfile = os.path.join(w, f"{daemon}.pid")
        self.logfile = os.path.join(w, f"{daemon}.log")
        self.marker = self.conf

    def _write_conf(self, lines):
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _start_daemon(self, argv):
        """Runs `argv` (a daemon that writes `pidfile`) and waits for the pid file."""
        if os.path.exists(self.pidfile):
            os.unlink(self.pidfile)
        _record(self.tag, "@" + self.pidfile, self.marker)
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_pidfile()
        return self

    def _wait_pidfile(self, limit=10.0):
        deadline = time.time() + limit
        while time.time() < deadline and not self.pid():
            time.sleep(0.05)
        if not self.pid():
            raise RuntimeError(f"{self.name} wrote no pid file\n{self.log_tail()}")


class NSD(PidFileServer):
    name = "nsd"

    def __init__(self, port, workdir, zones, tag="nsd"):
        super().__init__(port, os.path.join(workdir, "nsd"), tag)
        w = self.workdir
        os.makedirs(w, exist_ok=True)
        self._config_files("nsd")
        lines = [
            "server:",
            f"  ip-address: 127.0.0.1@{port}",
            "  server-count: 1",
            '  username: ""',
            '  database: ""',
            f'  zonelistfile: "{w}/zone.list"',
            f'  xfrdfile: "{w}/xfrd.state"',
            f'  pidfile: "{self.pidfile}"',
            f'  logfile: "{self.logfile}"',
            "  hide-version: yes",
            "  rrl-ratelimit: 0",
            "remote-control:",
            "  control-enable: no",
        ]
        for zone, path in zones:
            lines += ["zone:", f'  name: "{zone}"', f'  zonefile: "{path}"']
        self._write_conf(lines)

    def start(self):
        return self._start_daemon(["nsd", "-c", self.conf])


def knot_server_conf(server, log_level, control_socket=None):
    """The head of a knot.conf for `server` (a PidFileServer, `_config_files("knot")`):
    its port on 127.0.0.1, one worker of each kind, run directory and database in its
    work directory, log to its log file at `log_level`, and a control socket if given."""
    w = server.workdir
    lines = [
        "server:",
        f"  listen: 127.0.0.1@{server.port}",
        f'  rundir: "{w}"',
        f'  pidfile: "{server.pidfile}"',
        "  udp-workers: 1",
        "  tcp-workers: 1",
        "  background-workers: 1",
    ]
    if control_socket:
        lines += ["control:", f'  listen: "{control_socket}"']
    return lines + [
        "database:",
        f'  storage: "{w}/db"',
        "log:",
        f'  - target: "{server.logfile}"',
        f"    any: {log_level}",
    ]


class Knot(PidFileServer):
    name = "knot"

    def __init__(self, port, workdir, zones, tag="knot"):
        super().__init__(port, os.path.join(workdir, "knot"), tag)
        w = self.workdir
        os.makedirs(os.path.join(w, "db"), exist_ok=True)
        self._config_files("knot")
        lines = knot_server_conf(self, "warning") + [
            "template:",
            "  - id: default",
            f'    storage: "{w}"',
            "    zonefile-sync: -1",
            "    journal-content: none",
            "zone:",
        ]
        for zone, path in zones:
            lines += [f'  - domain: "{zone}"', f'    file: "{path}"']
        self._write_conf(lines)

    def start(self):
        return self._start_daemon(["knotd", "-d", "-c", self.conf])


def stop_process(proc, timeout=10.0):
    """SIGTERM to a child (subprocess.Popen), SIGKILL if it has not exited within
    `timeout` seconds. Returns its exit status, None if it had to be killed."""
    status = proc.poll()
    if status is None:
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            status = None
    return status


class ProcessServer(Server):
    """A server run in the foreground as our child, stdout and stderr to `logfile`."""
    proc = None

    def _spawn(self, argv, marker, env=None, echo=False):
        """Starts `argv` (recorded with `marker`, a string its command line holds);
        `echo` writes the command line to the log first."""
        self._log = open(self.logfile, "ab")
        if echo:
            self._log.write(("$ " + " ".join(argv) + "\n").encode())
            self._log.flush()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, env=env,
                                     stdout=self._log, stderr=self._log)
        _record(self.tag, self.proc.pid, marker)
        return self

    def pid(self):
        return self.proc.pid if self.proc else 0

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        status = stop_process(self.proc)
        _unrecord(self.tag)
        self._log.close()
        return status

    def kill(self):
        """SIGKILL, as a crash would; the server can be started again."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        _unrecord(self.tag)
        self._log.close()
        self.proc = None


class Bulwark(ProcessServer):
    """`bulwark serve --listen 127.0.0.1:P [--listen [::1]:P] --zone NAME=PATH ... [extra]`."""
    name = "bulwark"

    def __init__(self, binary, port, workdir, zones, extra_args=(), tag="bulwark",
                 ipv6=None):
        super().__init__(port, os.path.join(workdir, tag), tag)
        os.makedirs(self.workdir, exist_ok=True)
        self.binary = binary
        self.logfile = os.path.join(self.workdir, "bulwark.log")
        if ipv6 is None:
            ipv6 = ipv6_loopback_usable()
        self.argv = [binary, "serve", "--listen", f"127.0.0.1:{port}"]
        if ipv6:
            self.argv += ["--listen", f"[::1]:{port}"]
        for zone, path in zones:
            self.argv += ["--zone", f"{zone}={path}"]
        self.argv += list(extra_args)

    def start(self, env=None):
        return self._spawn(self.argv, self.binary, env=env, echo=True)
