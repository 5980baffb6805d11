"""Bulwark's own serve flags, each on an instance of its own."""
import os
import shutil

import dns.flags
import pytest

import servers
import zones
from conftest import start_bulwark, stop_bulwark
from dnsclient import Query, ask, normalize, same
from probes import make, query


def test_max_udp_size(bulwark_only, bulwark_bin, main_trio, workdir, taken_ports):
    """`--max-udp-size 1232`: a 4096-octet EDNS buffer does not lift UDP replies past
    1232 octets (the large TXT RRset, ~2.3 kB, comes back with TC); small answers are
    unaffected; TCP still carries the whole RRset."""
    b = start_bulwark(bulwark_bin, os.path.join(workdir, "maxudp"), main_trio.zone_files, 0,
                      taken_ports, extra_args=["--max-udp-size", "1232"], tag="bulwark-maxudp")
    try:
        r, w = query(b.addr, make("big.example.", "TXT", edns=0, payload=4096))
        assert r is not None and len(w) <= 1232, f"reply of {w and len(w)} octets"
        assert r.flags & dns.flags.TC, "2.3 kB answer without TC under --max-udp-size 1232"
        r, w = query(b.addr, make("biga.example.", "A", edns=0, payload=4096))
        assert r is not None and not r.flags & dns.flags.TC and sum(map(len, r.answer)) == 40
        r, _ = query(b.addr, make("big.example.", "TXT", edns=0, payload=4096), tcp=True)
        assert r is not None and sum(map(len, r.answer)) == 30
    finally:
        stop_bulwark(b)


def test_zones_dir(bulwark_only, bulwark_bin, main_trio, workdir, taken_ports):
    """`--zones-dir DIR` loads every DIR/NAME.zone as zone NAME (the peers.sh naming:
    example.zone -> example.) and answers as with --zone."""
    d = os.path.join(workdir, "zonesdir", "zones")
    os.makedirs(d, exist_ok=True)
    for zone, path in main_trio.zone_files:
        shutil.copy(path, os.path.join(d, zones.zone_file_name(zone)))
    b = start_bulwark(bulwark_bin, os.path.dirname(d), [], 0, taken_ports,
                      extra_args=["--zones-dir", d], tag="bulwark-zonesdir",
                      wait_zone="example.")
    try:
        for name, t in (("www.example.", "A"), ("host.sub.example.", "A"),
                        ("www.other.test.", "A"), ("foo.wild.example.", "TXT")):
            q = Query(name, t)
            got = normalize(*ask(b.addr, q))
            want = normalize(*ask(main_trio.subject.addr, q))
            assert same(got, want), f"{q}: --zones-dir answers differ from --zone"
    finally:
        stop_bulwark(b)


def test_ipv6_listener(bulwark_only, main_trio):
    """The session's Bulwark was started with --listen [::1]:PORT too (when the host has
    IPv6 loopback): it answers there over UDP and TCP."""
    if not servers.ipv6_loopback_usable():
        pytest.skip("no IPv6 loopback on this host")
    b = main_trio.subject
    for tcp in (False, True):
        r, _ = query(("::1", b.port), make("www.example.", "A"), tcp=tcp)
        assert r is not None and r.answer, f"no answer on [::1]:{b.port} (tcp={tcp})"
