"""`bulwark check ZONEFILE --origin NAME`: exit 0 on a good zone; non-zero on a
broken one, with a message naming the file and the line."""
import os
import re
import subprocess

import pytest

import zones
from conftest import SHARED

BROKEN = {
    # name: (zone text, line(s) of the error, None: any line; nsd-checkzone agrees)
    "bad-address": ("$ORIGIN example.\n$TTL 3600\n"
                    "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                    "@ NS ns1\n"
                    "ns1 A 192.0.2.1\n"
                    "www A 192.0.2.300\n", 6),
    "unknown-type": ("$ORIGIN example.\n$TTL 3600\n"
                     "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                     "@ NS ns1\n"
                     "ns1 A 192.0.2.1\n"
                     "\n"
                     "www BOGUSTYPE something\n", 7),
    "unterminated-string": ("$ORIGIN example.\n$TTL 3600\n"
                            "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                            "@ NS ns1\n"
                            "txt TXT \"no end\n", (5, 6)),  # opening line or EOF (NSD says 6)
    "cname-and-other-data": ("$ORIGIN example.\n$TTL 3600\n"
                             "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                             "@ NS ns1\n"
                             "www CNAME ns1\n"
                             "www A 192.0.2.1\n", None),
    "no-soa": ("$ORIGIN example.\n$TTL 3600\n@ NS ns1\nns1 A 192.0.2.1\n", None),
}


def run_check(binary, path, origin):
    p = subprocess.run([binary, "check", path, "--origin", origin], capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


@pytest.mark.parametrize("zone,text", [(z, t) for s in zones.ZONE_SETS.values() for z, t in s],
                         ids=lambda v: v if len(v) < 40 else "text")
def test_check_good_zone(bulwark_only, bulwark_check_bin, tmp_path, zone, text):
    path = tmp_path / zones.zone_file_name(zone)
    path.write_text(text)
    code, out = run_check(bulwark_check_bin, str(path), zone)
    assert code == 0, f"check rejected a zone NSD and Knot load:\n{out}"


def test_check_root_zone(bulwark_only, bulwark_check_bin):
    path = os.path.join(SHARED, "data", "root.zone")
    if not os.path.exists(path):
        pytest.skip(f"{path} not present")
    code, out = run_check(bulwark_check_bin, path, ".")
    assert code == 0, out[-3000:]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_check_broken_zone(bulwark_only, bulwark_check_bin, tmp_path, case):
    text, line = BROKEN[case]
    path = tmp_path / f"{case}.zone"
    path.write_text(text)
    code, out = run_check(bulwark_check_bin, str(path), "example.")
    assert code != 0, f"check accepted a broken zone ({case}):\n{out}"
    assert out.strip(), "no message"
    assert path.name in out, f"message does not name the file {path.name}:\n{out}"
    if line is not None:
        lines = line if isinstance(line, tuple) else (line,)
        assert any(re.search(rf"(:{n}\b|line {n}\b)", out) for n in lines), \
            f"message does not name line {' or '.join(map(str, lines))}:\n{out}"


def test_check_missing_file(bulwark_only, bulwark_check_bin, tmp_path):
    code, out = run_check(bulwark_check_bin, str(tmp_path / "absent.zone"), "example.")
    assert code != 0 and "absent.zone" in out
