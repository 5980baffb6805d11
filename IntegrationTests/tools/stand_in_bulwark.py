#!/usr/bin/env python3
"""A stand-in for the Bulwark binary, for proving the harness while Bulwark is
not written yet: it speaks Bulwark's command line and runs Knot DNS (serve) or
nsd-checkzone (check) underneath.

    BULWARK_BIN=IntegrationTests/tools/stand_in_bulwark.py python3 -m pytest -q IntegrationTests

Then every test, including the Bulwark-only ones (flags, SIGHUP, SIGTERM,
check), runs against a known-good server. Expected failures: the two
test_malformed QDCOUNT=2 cases (Knot drops those; Bulwark must send FORMERR).
Not used by scripts/test or CI.

  serve --listen ADDR:PORT ... --zone NAME=PATH ... [--zones-dir DIR]
        [--max-udp-size N] [--tcp-idle-timeout SECONDS]
  check ZONEFILE --origin NAME
"""
import argparse
import glob
import os
import sys
import tempfile


def serve(a):
    work = tempfile.mkdtemp(prefix="stand-in-bulwark-")
    lines = ["server:", f'  rundir: "{work}"', f'  pidfile: "{work}/knot.pid"',
             "  udp-workers: 1", "  tcp-workers: 1", "  background-workers: 1"]
    for listen in a.listen:
        host, port = listen.rsplit(":", 1)
        lines.append(f"  listen: {host.strip('[]')}@{port}")
    if a.tcp_idle_timeout is not None:
        lines.append(f"  tcp-idle-timeout: {a.tcp_idle_timeout}")
    if a.max_udp_size is not None:
        lines += [f"  udp-max-payload: {a.max_udp_size}"]
    lines += ["database:", f'  storage: "{work}/db"',
              "log:", "  - target: stderr", "    any: info",
              "template:", "  - id: default", f'    storage: "{work}"',
              "    zonefile-sync: -1", "    journal-content: none", "zone:"]
    zones = list(a.zone)
    if a.zones_dir:
        for p in sorted(glob.glob(os.path.join(a.zones_dir, "*.zone"))):
            name = os.path.basename(p)[:-5]
            zones.append(f"{'.' if name == 'root' else name + '.'}={p}")
    for z in zones:
        name, path = z.split("=", 1)
        lines += [f'  - domain: "{name}"', f'    file: "{os.path.abspath(path)}"']
    conf = os.path.join(work, "knot.conf")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.execvp("knotd", ["knotd", "-c", conf])


def check(a):
    os.execvp("nsd-checkzone", ["nsd-checkzone", a.origin, a.zonefile])


def main():
    ap = argparse.ArgumentParser(prog="bulwark")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--listen", action="append", default=[])
    s.add_argument("--zone", action="append", default=[])
    s.add_argument("--zones-dir")
    s.add_argument("--max-udp-size", type=int)
    s.add_argument("--tcp-idle-timeout", type=int)
    c = sub.add_parser("check")
    c.add_argument("zonefile")
    c.add_argument("--origin", required=True)
    a = ap.parse_args()
    (serve if a.cmd == "serve" else check)(a)


if __name__ == "__main__":
    sys.exit(main())
