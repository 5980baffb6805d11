#!/usr/bin/env bash
# Bulwark side by side with NSD and Knot DNS: CPU per answered query, same zone,
# same queries, one run. Uses the peer kit in ../shared/bench (see its README).
#
# usage: scripts/bench.sh [options]
#   (default)    release build, 100,000-name zone, q-hit / q-nx / q-mix over UDP then
#                TCP against NSD (:5401), Knot (:5402) and Bulwark (:5403), every server
#                pinned to CPU 1 and dnsperf to CPU 0; prints one table with the ratios
#                Bulwark/NSD and Bulwark/Knot of us_per_query (< 1: Bulwark is cheaper).
#   --udp-only   skip the TCP rows
#   --large      also: a 1,000,000-name zone; for each server the load wall time (start
#                until a SOA query answers) and memory after load
#   --workers2   also: Bulwark with 2 UDP workers against 1 (see the note it prints)
#   --micro      only the micro-benchmarks (Benchmarks/, ordo-one/benchmark): parse,
#                lookup, encode, with malloc counts; nothing else runs
#   --no-build   use the release binary already built
#   --changes [OPTIONS]  only the change-latency benchmark (scripts/bench_changes.py):
#                one zone (default 1,000,000 names) loaded into Knot, PowerDNS (gsqlite3 +
#                API) and Bulwark (API import), then 100 one-RRset changes each, timed to
#                the reply and to the new data answered over UDP; builds (unless
#                --no-build) and runs it with the release binary; every later option
#                goes to it (--names N, --servers knot,pdns,bulwark, --count, ...; see
#                scripts/bench_changes.py --help); its ports: PORT_BASE (default 5421)..+5
#   --many-zones [OPTIONS]  only the many-zones benchmark (scripts/bench_many_zones.py):
#                100,000 small API zones written into the control database, then the
#                start-up time, memory per zone, and 50 zone creations and 50 one-RRset
#                changes beside them, timed to the reply and to the answer over UDP;
#                builds (unless --no-build) and runs it with the release binary; every
#                later option goes to it (--zones N, --count N, --port-base P, ...; see
#                scripts/bench_many_zones.py --help); its ports: PORT_BASE (default 5431)..+2
# Env: BULWARK_ARGS (extra `bulwark serve` flags), SECS (seconds per measurement, default 8), REPEAT (measurements per row, the
#   median by us_per_query is kept; default 1), NAMES (default 100000), KEEP=1 keeps
#   the work directory, PORT_BASE (default 5401: NSD on it, Knot on +1, Bulwark on +2;
#   another base moves the servers peers.sh starts, for when a test run holds 5401-5403).
# Bounded: at most (3 files x 2 transports x 3 servers x REPEAT) measurements of SECS
#   each (about 2.5 minutes by default) plus the build; every server it started is
#   stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
KIT=$SHARED/bench
SECS=${SECS:-8}
REPEAT=${REPEAT:-1}
NAMES=${NAMES:-100000}
PORT_BASE=${PORT_BASE:-5401}
NPORT=$PORT_BASE KPORT=$((PORT_BASE + 1)) BPORT=$((PORT_BASE + 2))
udp_only=0 large=0 workers2=0 micro=0 build=1
script=""       # --changes or --many-zones: the Python benchmark run alone
script_args=()
for a in "$@"; do
  if [ -n "$script" ]; then  # after --changes / --many-zones: the script's options (--no-build stays ours)
    if [ "$a" = --no-build ]; then build=0; else script_args+=("$a"); fi
    continue
  fi
  case $a in
    --changes) script=bench_changes.py ;;
    --many-zones) script=bench_many_zones.py ;;
    --udp-only) udp_only=1 ;;
    --large) large=1 ;;
    --workers2) workers2=1 ;;
    --micro) micro=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

if [ $micro = 1 ]; then
  cd "$ROOT/Benchmarks"
  log "micro-benchmarks (first run builds the benchmark package, a few minutes)"
  exec swift package --disable-sandbox benchmark --grouping metric
fi

if [ -n "$script" ]; then
  cd "$ROOT"
  if [ $build = 1 ]; then
    log "swift build -c release"
    blog=$(mktemp /tmp/bulwark-build.XXXXXX.log)
    swift build -c release --product bulwark >"$blog" 2>&1 || { tail -30 "$blog"; exit 1; }
    rm -f "$blog"
  fi
  BIN=$(swift build -c release --show-bin-path)/bulwark
  [ -x "$BIN" ] || { echo "bench.sh: $BIN not built" >&2; exit 1; }
  exec python3 "$ROOT/scripts/$script" --bulwark-bin "$BIN" "${script_args[@]}"
fi

[ -x "$KIT/cost.sh" ] || { echo "bench.sh: $KIT/cost.sh not found (set SHARED)" >&2; exit 2; }
for tool in nsd knotd dig dnsperf taskset python3; do
  command -v $tool >/dev/null || { echo "bench.sh: $tool is required (apt-get install nsd knot dnsutils dnsperf util-linux)" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench.sh: needs 2 CPUs (dnsperf on CPU 0, servers on CPU 1)" >&2; exit 2; }
# The ports must be free (other benchmark and test runs use 5401-5403 too).
ports_free() {
  local p
  for p in $NPORT $KPORT $BPORT; do
    if ss -Hlnu "sport = :$p" 2>/dev/null | grep -q . || ss -Hlnt "sport = :$p" 2>/dev/null | grep -q .; then return 1; fi
  done
}
if ! ports_free; then
  log "ports $NPORT/$KPORT/$BPORT are in use (another benchmark or test run?); waiting up to ${PORT_WAIT:-300}s"
  for _ in $(seq 1 "${PORT_WAIT:-300}"); do ports_free && break; sleep 1; done
  ports_free || { echo "bench.sh: ports $NPORT, $KPORT or $BPORT still in use (try another PORT_BASE, e.g. 5461):" >&2
                  ss -Hlnup | grep -E ":($NPORT|$KPORT|$BPORT)\b" >&2; exit 2; }
fi

WORK=$(mktemp -d /tmp/bulwark-bench.XXXXXX)
BPIDS=()     # Bulwark processes we started
PEERDIRS=()  # peers.sh work directories we started
cleanup() {
  local p d
  for p in "${BPIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for d in "${PEERDIRS[@]:-}"; do [ -n "$d" ] && "$KIT/peers.sh" stop "$d" >/dev/null 2>&1 || true; done
  for p in "${BPIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build -------------------------------------------------------------------------
cd "$ROOT"
if [ $build = 1 ]; then
  log "swift build -c release"
  swift build -c release --product bulwark >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; exit 1; }
fi
BIN=$(swift build -c release --show-bin-path)/bulwark
[ -x "$BIN" ] || { echo "bench.sh: $BIN not built" >&2; exit 1; }

# --- helpers -----------------------------------------------------------------------
# Waits until PORT answers a SOA query for bench.test; prints the seconds waited.
wait_soa() {
  local port=$1 limit=${2:-120} t0 now
  t0=$(date +%s.%N)
  while :; do
    if dig +time=1 +tries=1 -p "$port" @127.0.0.1 bench.test SOA +short 2>/dev/null | grep -q .; then break; fi
    now=$(date +%s.%N)
    if awk -v a="$t0" -v b="$now" -v l="$limit" 'BEGIN{exit !(b - a > l)}'; then
      echo "bench.sh: nothing answers on :$port after ${limit}s" >&2; return 1
    fi
    sleep 0.02
  done
  now=$(date +%s.%N)
  awk -v a="$t0" -v b="$now" 'BEGIN{printf "%.2f", b - a}'
}
nsd_pids() { pgrep -f "nsd -c $1/nsd/nsd.conf" | tr '\n' ' '; }
knot_pid() { cat "$1/knot/knot.pid"; }
# peers.sh starts NSD on 5401 and Knot on 5402. Restart both from its configurations:
# NSD without response rate limiting (on by default; off for raw speed), and both on
# NPORT/KPORT when PORT_BASE moved them.
restart_peers() {
  local dir=$1
  "$KIT/peers.sh" stop "$dir" >/dev/null
  grep -q 'rrl-ratelimit' "$dir/nsd/nsd.conf" || sed -i 's/^server:$/server:\n  rrl-ratelimit: 0/' "$dir/nsd/nsd.conf"
  sed -i "s/127\.0\.0\.1@5401\$/127.0.0.1@$NPORT/" "$dir/nsd/nsd.conf"
  sed -i "s/127\.0\.0\.1@5402\$/127.0.0.1@$KPORT/" "$dir/knot/knot.conf"
  rm -f "$dir/nsd/nsd.pid" "$dir/knot/knot.pid"
}
# peers.sh writes the configurations and starts both; with PORT_BASE moved, 5401 or 5402
# may be held by another run, which makes it fail after writing them: that is fine.
start_peers() {
  "$KIT/peers.sh" start "$1" "$2" >"$WORK/peers.log" 2>&1 || [ "$PORT_BASE" != 5401 ] || { cat "$WORK/peers.log" >&2; return 1; }
  [ -s "$1/nsd/nsd.conf" ] && [ -s "$1/knot/knot.conf" ] || { cat "$WORK/peers.log" >&2; return 1; }
}
start_nsd() { nsd -c "$1/nsd/nsd.conf"; }
start_knot() { knotd -d -c "$1/knot/knot.conf"; }
start_bulwark() {  # ZONEFILE WORKERS -> sets BPID
  # BULWARK_ARGS: extra serve flags, e.g. "--ops-listen off" against "--ops-listen 127.0.0.1:9199".
  # shellcheck disable=SC2086
  "$BIN" serve --listen 127.0.0.1:$BPORT --zone "bench.test=$1" --workers "$2" --log-level warning --data-dir "$WORK/bulwark-data" ${BULWARK_ARGS:-} \
    >>"$WORK/bulwark.log" 2>&1 &
  BPID=$!; BPIDS+=("$BPID")
}
stop_bulwark() {
  kill "$BPID" 2>/dev/null || true; wait "$BPID" 2>/dev/null || true
  # Wait for the port to be free again.
  for _ in $(seq 1 50); do
    dig +time=1 +tries=1 -p $BPORT @127.0.0.1 bench.test SOA >/dev/null 2>&1 || break; sleep 0.1
  done
}
pin1() { local p; for p in "$@"; do taskset -apc 1 "$p" >/dev/null; done; }
# Memory of a set of processes: "rss_mib pss_mib" (VmRSS summed; Pss counts pages
# shared between NSD's processes once).
mem_of() {
  local rss=0 pss=0 p r s
  for p in "$@"; do
    r=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    s=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    rss=$((rss + ${r:-0})); pss=$((pss + ${s:-0}))
  done
  awk -v r=$rss -v s=$pss 'BEGIN{printf "%.1f %.1f", r / 1024, s / 1024}'
}
# One measurement: PORT QFILE PROTO PIDS... -> the cost.sh line (median of REPEAT by us_per_query).
measure() {
  local port=$1 qf=$2 proto=$3; shift 3
  local extra=() i lines=""
  [ "$proto" = tcp ] && extra=(-- -m tcp)
  for i in $(seq 1 "$REPEAT"); do
    lines+=$(RATE=10000000 SECONDS_=$SECS "$KIT/cost.sh" "$port" "$qf" "$@" "${extra[@]}")$'\n'
  done
  printf '%s' "$lines" | awk '{for(i=1;i<=NF;i++){split($i,kv,"="); if(kv[1]=="us_per_query") print kv[2], $0}}' \
    | sort -n | awk -v n="$REPEAT" 'NR == int((n + 1) / 2) {$1=""; sub(/^ /, ""); print}'
}
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

# --- the 100,000-name zone -----------------------------------------------------------
log "generating the $NAMES-name zone"
python3 "$KIT/genzone.py" "$WORK/z" --names "$NAMES" >/dev/null
ZONE=$WORK/z/bench.test.zone

log "starting NSD and Knot"
PEERDIRS+=("$WORK/run")
start_peers "$WORK/run" "$ZONE"
restart_peers "$WORK/run"
start_nsd "$WORK/run"; wait_soa $NPORT >/dev/null
start_knot "$WORK/run"; wait_soa $KPORT >/dev/null
log "starting Bulwark"
start_bulwark "$ZONE" 1
wait_soa $BPORT >/dev/null
NSD_PIDS=$(nsd_pids "$WORK/run")
KNOT_PID=$(knot_pid "$WORK/run")
# shellcheck disable=SC2086
pin1 $NSD_PIDS "$KNOT_PID" "$BPID"

ROWS=$WORK/rows
: >"$ROWS"
transports=(udp tcp); [ $udp_only = 1 ] && transports=(udp)
for proto in "${transports[@]}"; do
  for q in q-hit q-nx q-mix; do
    for s in nsd knot bulwark; do
      case $s in
        nsd) port=$NPORT pids=$NSD_PIDS ;;
        knot) port=$KPORT pids=$KNOT_PID ;;
        bulwark) port=$BPORT pids=$BPID ;;
      esac
      log "$s $q $proto"
      # shellcheck disable=SC2086
      line=$(measure $port "$WORK/z/$q.txt" $proto $pids)
      echo "$s $q $proto $line" >>"$ROWS"
    done
  done
done

# --- the table -----------------------------------------------------------------------
print_table() {
  awk '
    function f(line, k,   i, n, a, kv) { n = split(line, a, " "); for (i = 4; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == k) return kv[2] } return "" }
    { key = $2 " " $3; srv[NR] = $1; rest[NR] = $0; us[$1 " " key] = f($0, "us_per_query"); k[NR] = key }
    END {
      printf "%-8s %-6s %-5s %9s %8s %12s %8s %7s %9s %10s\n", "server", "query", "proto", "qps", "lost", "us_per_query", "user_us", "sys_us", "vs_nsd", "vs_knot"
      for (i = 1; i <= NR; i++) {
        split(rest[i], a, " ")
        r1 = "-"; r2 = "-"
        if (srv[i] == "bulwark") {
          if (us["nsd " k[i]] > 0) r1 = sprintf("%.2f", us["bulwark " k[i]] / us["nsd " k[i]])
          if (us["knot " k[i]] > 0) r2 = sprintf("%.2f", us["bulwark " k[i]] / us["knot " k[i]])
        }
        printf "%-8s %-6s %-5s %9s %8s %12s %8s %7s %9s %10s\n", a[1], a[2], a[3], f(rest[i], "qps"), f(rest[i], "lost"),
          f(rest[i], "us_per_query"), f(rest[i], "user_us"), f(rest[i], "sys_us"), r1, r2
      }
    }' "$1"
}
echo
echo "# Bulwark vs NSD $(nsd -v 2>&1 | awk 'NR==1{print $3}') and Knot $(knotd --version | awk '{print $NF}'), $NAMES names, $(date -u '+%Y-%m-%d %H:%M UTC'), ${SECS}s per row, median of $REPEAT"
echo "# servers pinned to CPU 1, dnsperf (8 clients, saturating) to CPU 0; us_per_query = server CPU per answered query"
echo "# vs_nsd / vs_knot = Bulwark us_per_query / theirs (below 1.00: Bulwark is cheaper)"
print_table "$ROWS"

# --- Bulwark with 2 UDP workers ---------------------------------------------------------
if [ $workers2 = 1 ]; then
  W=$WORK/w2rows; : >"$W"
  stop_bulwark
  for mode in "1 pinned" "2 pinned" "2 free"; do
    set -- $mode
    start_bulwark "$ZONE" "$1"
    wait_soa $BPORT >/dev/null
    if [ "$2" = pinned ]; then pin1 "$BPID"; else taskset -apc 0,1 "$BPID" >/dev/null; fi
    for q in q-hit q-mix; do
      log "bulwark workers=$1 $2 $q udp"
      line=$(measure $BPORT "$WORK/z/$q.txt" udp "$BPID")
      echo "workers=$1/$2 $q udp $line" >>"$W"
    done
    stop_bulwark
  done
  echo
  echo "# Bulwark UDP workers: 1 vs 2. This machine has 2 cores and dnsperf needs one (CPU 0):"
  echo "#  'pinned' runs every worker on CPU 1 (shows what a second worker costs per query);"
  echo "#  'free' lets the 2 workers use both cores, sharing CPU 0 with dnsperf, so qps cannot"
  echo "#  double here; throughput scaling needs a machine with a core per worker plus the load."
  print_table "$W"
  start_bulwark "$ZONE" 1; wait_soa $BPORT >/dev/null
fi

# --- 1,000,000 names: load time and memory -----------------------------------------------
if [ $large = 1 ]; then
  log "stopping the servers for the large zone"
  stop_bulwark
  "$KIT/peers.sh" stop "$WORK/run" >/dev/null
  log "generating the 1,000,000-name zone"
  python3 "$KIT/genzone.py" "$WORK/zl" --names 1000000 --queries 1000 >/dev/null
  LZONE=$WORK/zl/bench.test.zone
  L=$WORK/large; : >"$L"
  # peers.sh writes the configurations and starts both; stop them and time each alone.
  PEERDIRS+=("$WORK/runl")
  start_peers "$WORK/runl" "$LZONE"
  restart_peers "$WORK/runl"
  sync
  log "NSD: loading"
  start_nsd "$WORK/runl"; t=$(wait_soa $NPORT 600); sleep 1
  # shellcheck disable=SC2046
  echo "nsd $t $(mem_of $(nsd_pids "$WORK/runl"))" >>"$L"
  "$KIT/peers.sh" stop "$WORK/runl" >/dev/null
  log "Knot: loading"
  start_knot "$WORK/runl"; t=$(wait_soa $KPORT 600); sleep 1
  echo "knot $t $(mem_of "$(knot_pid "$WORK/runl")")" >>"$L"
  "$KIT/peers.sh" stop "$WORK/runl" >/dev/null
  log "Bulwark: loading"
  start_bulwark "$LZONE" 1; t=$(wait_soa $BPORT 600); sleep 1
  echo "bulwark $t $(mem_of "$BPID")" >>"$L"
  stop_bulwark
  echo
  echo "# 1,000,000 names ($(du -m "$LZONE" | cut -f1) MB zone file): wall time from start until a SOA query answers, memory after load"
  echo "# rss_mib = VmRSS summed over the server's processes; pss_mib = proportional set size (NSD's forked children share pages)"
  awk 'BEGIN{printf "%-8s %10s %9s %9s\n", "server", "load_s", "rss_mib", "pss_mib"} {printf "%-8s %10s %9s %9s\n", $1, $2, $3, $4}' "$L"
fi
