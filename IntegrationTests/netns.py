"""Network namespaces for topology tests: hosts with their own address on one bridge.
Needs root (CI and this machine run the tests as root); `available()` says why not."""
import os
import subprocess


def _ip(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ip"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=check)


def available():
    """None when namespaces can be made here, else the reason."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"bwprobe{os.getpid() % 100000}"
    try:
        r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"`ip netns` is not usable: {e}"
    if r.returncode != 0:
        return f"`ip netns add` is not permitted here: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return None


class Topology:
    """A bridge in a namespace of its own and one namespace per host, each host with
    one veth to the bridge and one address in `subnet` (198.18.0.0/24 by default:
    RFC 2544's benchmarking range, never routed anywhere from here)."""

    def __init__(self, prefix, subnet="198.18.0"):
        self.prefix = prefix
        self.subnet = subnet
        self.switch = f"{prefix}-sw"
        self.hosts = {}  # name -> (namespace, address)
        self.namespaces = []

    def __enter__(self):
        self._add_ns(self.switch)
        _ip("link", "add", "br0", "type", "bridge", ns=self.switch)
        _ip("link", "set", "br0", "up", ns=self.switch)
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def _add_ns(self, ns):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=10)
        self.namespaces.append(ns)
        _ip("link", "set", "lo", "up", ns=ns)

    def add_host(self, name):
        n = len(self.hosts) + 1
        ns = f"{self.prefix}-{name}"
        address = f"{self.subnet}.{n}"
        self._add_ns(ns)
        inner, outer = f"{self.prefix[:6]}h{n}", f"{self.prefix[:6]}p{n}"
        subprocess.run(["ip", "link", "add", inner, "type", "veth", "peer", "name", outer],
                       check=True, capture_output=True, timeout=10)
        subprocess.run(["ip", "link", "set", inner, "netns", ns], check=True, capture_output=True, timeout=10)
        subprocess.run(["ip", "link", "set", outer, "netns", self.switch], check=True, capture_output=True, timeout=10)
        _ip("link", "set", outer, "master", "br0", ns=self.switch)
        _ip("link", "set", outer, "up", ns=self.switch)
        _ip("link", "set", inner, "name", "eth0", ns=ns)
        _ip("addr", "add", f"{address}/24", "dev", "eth0", ns=ns)
        _ip("link", "set", "eth0", "up", ns=ns)
        self.hosts[name] = (ns, address)
        return ns, address

    def run(self, host, argv, **kw):
        ns = self.hosts[host][0]
        return subprocess.run(["ip", "netns", "exec", ns] + list(argv), **kw)

    def popen(self, host, argv, **kw):
        ns = self.hosts[host][0]
        return subprocess.Popen(["ip", "netns", "exec", ns] + list(argv), **kw)

    def cleanup(self):
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        self.namespaces = []
