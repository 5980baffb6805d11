"""Primaries for the secondary-side transfer tests: Knot and BIND (real servers, plain
processes on loopback with temporary configurations), a small dnspython primary for
the cases a real server cannot be made to produce (malformed, broken, bad TSIG), and a
Bulwark secondary started from a YAML configuration."""
import base64
import os
import signal
import socket
import struct
import subprocess
import threading
import time

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.zone
import dns.flags

import dnsclient
import servers

TSIG_NAME = "xfr-key."
TSIG_SECRET = base64.b64encode(b"bulwark-secondary-test-key-32oct").decode()


def zone_text(origin, serial, extra=(), refresh=3600, retry=600, expire=86400, minimum=60):
    """A small zone; `extra` lines are appended (relative owners)."""
    lines = [
        f"$ORIGIN {origin}",
        "$TTL 300",
        f"@ IN SOA ns1 hostmaster {serial} {refresh} {retry} {expire} {minimum}",
        "@ IN NS ns1",
        "ns1 IN A 192.0.2.53",
        "www IN A 192.0.2.1",
        'txt IN TXT "hello" "world"',
        "mx IN MX 10 mail",
        "mail IN AAAA 2001:db8::25",
    ]
    return "\n".join(lines + list(extra)) + "\n"


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def query(port, name, rdtype, host="127.0.0.1", timeout=1.0, tcp=False):
    q = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(q, host, port=port, timeout=timeout)
    return dns.query.udp(q, host, port=port, timeout=timeout)


def serial_of(port, zone, host="127.0.0.1"):
    """The SOA serial the server answers with, or None (error, no answer)."""
    try:
        r = query(port, zone, "SOA", host=host, timeout=0.5)
    except Exception:
        return None
    if r.rcode() != dns.rcode.NOERROR:
        return None
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    return None


def wait_serial(port, zone, serial, limit=20.0, host="127.0.0.1", proc=None):
    deadline = time.time() + limit
    last = None
    while time.time() < deadline:
        last = serial_of(port, zone, host)
        if last == serial:
            return time.time()
        if proc is not None and not proc.alive():
            raise AssertionError(f"{proc.name} exited\n{proc.log_tail()}")
        time.sleep(0.1)
    raise AssertionError(f"serial {serial} of {zone} not served on port {port} within {limit}s (last: {last})"
                         + (f"\n{proc.log_tail(60)}" if proc else ""))


class KnotPrimary(servers.PidFileServer):
    """knotd as primary of one zone: journal of differences from zone-file changes
    (IXFR), NOTIFY to `notify_port`, transfers allowed with the TSIG key (or without)."""
    name = "knot-primary"

    def __init__(self, port, workdir, zone, zonefile, notify_port=None, tsig=True, tag="knot-primary"):
        super().__init__(port, os.path.join(workdir, tag), tag)
        w = self.workdir
        os.makedirs(os.path.join(w, "db"), exist_ok=True)
        self._config_files("knot")
        self.socket = os.path.join(w, "knot.sock")
        self.zone = zone
        lines = servers.knot_server_conf(self, "info", control_socket=self.socket) + [
            "key:",
            f"  - id: {TSIG_NAME}",
            "    algorithm: hmac-sha256",
            f"    secret: {TSIG_SECRET}",
            "remote:",
            "  - id: secondary",
            f"    address: 127.0.0.1@{notify_port or 9}",
        ]
        if tsig:
            lines.append(f"    key: {TSIG_NAME}")
        lines += [
            "acl:",
            "  - id: transfer",
            "    address: 127.0.0.0/8",
            "    action: transfer",
        ]
        if tsig:
            lines.append(f"    key: {TSIG_NAME}")
        lines += [
            "zone:",
            f'  - domain: "{zone}"',
            f'    file: "{zonefile}"',
            f'    storage: "{w}"',
            "    zonefile-sync: -1",
            "    zonefile-load: difference",
            "    journal-content: changes",
            "    acl: transfer",
        ]
        if notify_port:
            lines.append("    notify: secondary")
        self._write_conf(lines)

    def start(self):
        self._start_daemon(["knotd", "-d", "-c", self.conf])
        servers.wait_ready(self, self.zone)
        return self

    def reload(self):
        """Re-reads the zone file; the difference goes to the journal and NOTIFY is sent."""
        subprocess.run(["knotc", "-c", self.conf, "-s", self.socket, "zone-reload", self.zone],
                       check=True, capture_output=True, timeout=20)


class BindPrimary(servers.ProcessServer):
    """named (BIND 9) in the foreground as primary of one zone, IXFR from differences
    between zone-file versions (ixfr-from-differences), reloaded with SIGHUP."""
    name = "bind-primary"

    def __init__(self, port, workdir, zone, zonefile, tag="bind-primary"):
        super().__init__(port, os.path.join(workdir, tag), tag)
        w = self.workdir
        os.makedirs(w, exist_ok=True)
        self.zone = zone
        self.conf = os.path.join(w, "named.conf")
        self.logfile = os.path.join(w, "named.log")
        # BIND keeps its journal beside the zone file: give it a copy in its own directory.
        self.zonefile = os.path.join(w, "zone.db")
        with open(zonefile) as f:
            write(self.zonefile, f.read())
        with open(self.conf, "w") as f:
            f.write(f"""
options {{
    directory "{w}";
    pid-file "{w}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    notify no;
    ixfr-from-differences yes;
    dnssec-validation no;
    allow-transfer {{ 127.0.0.0/8; }};
}};
controls {{ }};
zone "{zone}" {{
    type primary;
    file "{self.zonefile}";
}};
""")

    def start(self):
        self._spawn(["named", "-g", "-c", self.conf, "-n", "1"], "named")
        servers.wait_ready(self, self.zone)
        return self

    def update_zone(self, text):
        write(self.zonefile, text)
        # The file's mtime must move past the loaded one for named to reload it.
        t = time.time() + 2
        os.utime(self.zonefile, (t, t))
        self.proc.send_signal(signal.SIGHUP)


class BulwarkSecondary(servers.Bulwark):
    """Bulwark with a YAML configuration (secondary zones, keys) and its own data-dir."""

    def __init__(self, binary, port, workdir, yaml_text, tag="bulwark-secondary", data_dir=None):
        super().__init__(binary, port, workdir, [], tag=tag, ipv6=False)
        self.config = os.path.join(self.workdir, "bulwark.yaml")
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        with open(self.config, "w") as f:
            f.write(yaml_text)
        self.argv += ["--config", self.config, "--data-dir", self.data_dir, "--workers", "1"]

    def log_text(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()


def secondary_yaml(zone, primaries, key=None, extra="", keys_block=None, zone_extra=""):
    """`primaries`: list of "host:port" strings."""
    lines = []
    if key:
        lines += keys_block.splitlines() if keys_block else [
            "keys:",
            f"  - name: {TSIG_NAME}",
            "    algorithm: hmac-sha256",
            f"    secret: {TSIG_SECRET}",
        ]
    lines += ["secondary-zones:", f"  - name: {zone}", "    primaries:"]
    for p in primaries:
        lines.append(f'      - {{address: "{p}", key: {key}}}' if key else f'      - "{p}"')
    lines += ["    " + l for l in zone_extra.splitlines() if l]
    return "\n".join(lines) + "\n" + extra


# ---------------------------------------------------------------- a scripted primary

class FakePrimary:
    """A TCP primary written with dnspython for what real servers cannot be made to
    send: malformed transfers, connections cut in the middle, bad TSIG. `versions`
    maps serial -> list of records (dnspython rrsets), the newest served; `mode` says
    how the next AXFR/IXFR goes wrong ("good", "cut", "garbage", "bad-closing-soa",
    "out-of-zone", "wrong-id", "stall", "tsig-wrong-key", "tsig-bad-mac",
    "tsig-stale", "tsig-unsigned-last")."""

    def __init__(self, zone, port=0, keyring=None):
        self.zone = dns.name.from_text(zone)
        self.versions = {}
        self.serial = None
        self.mode = "good"
        self.keyring = keyring
        self.transfers = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def set_zone(self, text):
        z = dns.zone.from_text(text, origin=self.zone, relativize=False)
        soa = z.get_rdataset(self.zone, "SOA")[0]
        rrsets = []
        for name, node in z.nodes.items():
            for rds in node.rdatasets:
                if rds.rdtype == dns.rdatatype.SOA:
                    continue
                rr = dns.rrset.RRset(name, rds.rdclass, rds.rdtype)
                rr.update(rds)
                rrsets.append(rr)
        self.versions[soa.serial] = (z.find_rrset(self.zone, "SOA"), rrsets)
        self.serial = soa.serial

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self._stop = True
        self.thread.join(timeout=5)
        self.sock.close()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _send(self, conn, wire):
        conn.sendall(struct.pack("!H", len(wire)) + wire)

    def _handle(self, conn):
        conn.settimeout(5)
        try:
            while True:
                wire = dnsclient.tcp_read_msg(conn)
                if wire is None:
                    return
                q = dns.message.from_wire(wire, keyring=self.keyring) if self.keyring else dns.message.from_wire(wire)
                qtype = q.question[0].rdtype
                if qtype == dns.rdatatype.SOA:
                    r = dns.message.make_response(q)
                    r.flags |= dns.flags.AA
                    r.answer.append(self.versions[self.serial][0])
                    self._send(conn, r.to_wire())
                    continue
                self.transfers.append((dns.rdatatype.to_text(qtype), self.mode))
                self._transfer(conn, q)
                return
        except Exception:
            return
        finally:
            conn.close()

    def _transfer(self, conn, q):
        soa, rrsets = self.versions[self.serial]
        mode = self.mode
        if mode == "ixfr-bad-delete" and q.question[0].rdtype == dns.rdatatype.IXFR:
            # An incremental answer deleting a record the secondary never had.
            old_soa = q.authority[0]
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            r.answer = [soa, old_soa, dns.rrset.from_text("never-there." + self.zone.to_text(), 300, "IN", "A", "192.0.2.99"),
                        soa, soa]
            self._send(conn, r.to_wire())
            return
        # Several messages: SOA + half, the other half, the closing SOA.
        half = len(rrsets) // 2
        bodies = [[soa] + rrsets[:half], rrsets[half:], [soa]]
        if mode == "bad-closing-soa":
            other = dns.rrset.from_text(self.zone, soa.ttl, "IN", "SOA",
                                        soa[0].to_text().replace(f" {soa[0].serial} ", f" {soa[0].serial + 1} "))
            bodies[-1] = [other]
        elif mode == "out-of-zone":
            bodies[1] = bodies[1] + [dns.rrset.from_text("www.elsewhere.test.", 300, "IN", "A", "192.0.2.9")]
        ctx = None
        for i, body in enumerate(bodies):
            last = i == len(bodies) - 1
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            if i > 0:
                r.question = []
            for rr in body:
                r.answer.append(rr)
            if mode == "wrong-id" and i == 1:
                r.id ^= 0x5555
            if mode == "cut" and i == 1:
                w = r.to_wire()
                conn.sendall(struct.pack("!H", len(w)) + w[: len(w) // 2])
                return  # the connection closes in the middle of a message
            if mode == "stall" and i == 1:
                time.sleep(30)
                return
            if mode == "garbage" and i == 1:
                self._send(conn, r.to_wire()[:12] + b"\xff" * 40)
                continue
            if self.keyring and q.had_tsig:
                if mode == "tsig-unsigned-last" and last:
                    r.keyring = None
                    r.tsig = None
                    wire = r.to_wire()
                else:
                    if mode == "tsig-wrong-key":
                        r.use_tsig(dns.tsigkeyring.from_text({TSIG_NAME: base64.b64encode(b"another-key-entirely-32-octets!!").decode()}),
                                   keyname=TSIG_NAME, algorithm=dns.tsig.HMAC_SHA256)
                        r.request_mac = q.mac
                    if mode == "tsig-stale":
                        real = time.time
                        time.time = lambda: real() - 3600
                        try:
                            wire = r.to_wire(multi=True, tsig_ctx=ctx)
                        finally:
                            time.time = real
                    else:
                        wire = r.to_wire(multi=True, tsig_ctx=ctx)
                    ctx = r.tsig_ctx
                    if mode == "tsig-bad-mac" and last:
                        # Flip one octet of the MAC (it sits before the last 6 octets:
                        # original ID, error, other length).
                        b = bytearray(wire)
                        b[-10] ^= 0x01
                        wire = bytes(b)
            else:
                wire = r.to_wire()
            self._send(conn, wire)
