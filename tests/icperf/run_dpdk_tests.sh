#!/usr/bin/env bash
# Tests of icperf's DPDK backend (roles/icperf/files/icperf, src/backend_dpdk.c). Run as root:
#   tests/icperf/run_dpdk_tests.sh
# Needs Debian's DPDK (apt-get install --no-install-recommends dpdk dpdk-dev libdpdk-dev
# pkg-config); without libdpdk (or root) every test is skipped: the script prints
# "SKIPPED: reason" and exits 77 (tests/run-all.sh counts the stage as skipped).
#
#  1. memif pair, no switch: recv (memif server, CPU 1) <- send (memif client, CPU 0), and a
#     client/server round trip at 1000 pps; a sender whose peer never comes up; SIGINT/SIGTERM.
#  2. generator capacity: dpdk-testpmd (rxonly, one net_vhost port, forwarding core 1) counts
#     what arrives from (a) icperf send over virtio_user (CPU 0) and (b) dpdk-testpmd txonly
#     over virtio_user (forwarding core 0); three rounds (KBPT_DPDK_ROUNDS), alternating; the
#     ratio of the best steady intervals icperf/testpmd is printed, not asserted (goal >= 0.95; both are usually
#     limited by the receiving testpmd here, so the ratio is about 1; on a loaded machine it
#     moves). Only two polling threads run at once.
#  3. af_xdp: send and recv over net_af_xdp on the two ends of a veth pair (kbpt<pid>x0/x1).
#
# Every DPDK program runs with --no-huge (no hugepages needed), its own --file-prefix and one
# core (-l). Sockets, veths, runtime directories, a bpffs mounted here and background programs
# are removed on exit. KBPT_DPDK_KEEP=DIR keeps the raw outputs (testpmd logs) in DIR.
# The last line is "N passed, M failed" (", K skipped" when some were skipped); the exit status
# is non-zero when a test failed. Takes about 2 minutes.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../../roles/icperf/files/icperf" && pwd)
ICPERF=$SRC/build/icperf
NTESTS=13
PASS=0
FAIL=0
SKIP=0
PFX=kbpt-$$
MEMIF_SOCK=/tmp/kbpt-memif.sock
VH_SOCK=/tmp/kbpt-vh0.sock
VX0=kbpt$$x0
VX1=kbpt$$x1
TMP=$(mktemp -d /tmp/kbpt-dpdk-test.XXXXXX)
BPF_MOUNTED=0
VETH_MADE=0
# dst MAC of the frames (memif and vhost deliver whatever they get; testpmd rxonly counts all)
PEER_MAC=02:00:00:00:00:02
# generator capacity: rounds of (testpmd txonly, icperf), about 28 s each
ROUNDS=${KBPT_DPDK_ROUNDS:-3}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	local p live
	# only our own background jobs still running (a finished job's pid may be reused)
	live=$(jobs -pr)
	for p in $live; do
		kill -INT "$p" 2>/dev/null
	done
	for p in $live; do
		# timeout(1) forwards the signal; give the DPDK programs a moment to close their ports
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ "$VETH_MADE" = 1 ] && ip link del "$VX0" 2>/dev/null
	[ "$BPF_MOUNTED" = 1 ] && umount /sys/fs/bpf 2>/dev/null
	rm -f "$MEMIF_SOCK" "$VH_SOCK"
	rm -rf /var/run/dpdk/"$PFX"-* 2>/dev/null
	if [ -n "${KBPT_DPDK_KEEP:-}" ]; then
		mkdir -p "$KBPT_DPDK_KEEP" && cp -a "$TMP"/. "$KBPT_DPDK_KEEP"/
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=tests/icperf/lib.sh
. "$(dirname "$0")/lib.sh"

skip() {
	SKIP=$((SKIP + $1))
	echo "skip - $2"
}

finish() {
	if [ "$SKIP" -gt 0 ]; then
		echo "$PASS passed, $FAIL failed, $SKIP skipped"
	else
		echo "$PASS passed, $FAIL failed"
	fi
	[ "$FAIL" = 0 ]
	exit $?
}

# summary FILE FIELD: one field of the summary (python expression over s)
summary() {
	python3 -c 'import json,sys
s=[json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
print(eval(sys.argv[2], {"s": s}))' "$1" "$2" 2>/dev/null
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# shellcheck disable=SC2317  # called through wait_for
memif_listening() { grep -q "@\?$MEMIF_SOCK\$" /proc/net/unix; }

# skip_all REASON: nothing can run here
skip_all() {
	echo "run_dpdk_tests.sh: SKIPPED: $1"
	echo "0 passed, 0 failed, $NTESTS skipped"
	exit 77
}

if [ "$(id -u)" != 0 ]; then
	skip_all "must run as root (DPDK, veth, bpffs)"
fi
if ! pkg-config --exists libdpdk 2>/dev/null; then
	skip_all "libdpdk is not installed (apt-get install -y --no-install-recommends dpdk dpdk-dev libdpdk-dev pkg-config)"
fi

# ---------------------------------------------------------------------------------------
# build

if make -s -C "$SRC" >"$TMP/build.log" 2>&1 && [ -x "$ICPERF" ] &&
	"$ICPERF" --help 2>/dev/null | grep -q '^  dpdk '; then
	ok "build with the dpdk backend (libdpdk $(pkg-config --modversion libdpdk))"
else
	bad "build with the dpdk backend" "$(tail -20 "$TMP/build.log")"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi

EAL_COMMON="--no-huge -m 256 --no-pci"
MEMIF_S="--vdev=net_memif0,role=server,socket=$MEMIF_SOCK"
MEMIF_C="--vdev=net_memif0,role=client,socket=$MEMIF_SOCK"

# memif_pair NAME RXMODE TXMODE DURATION [sender args...]: receiver/server = memif server on
# CPU 1, sender/client = memif client on CPU 0. Output in $TMP/NAME.rx and $TMP/NAME.tx.
memif_pair() {
	local name=$1 rxmode=$2 txmode=$3 dur=$4 pid
	shift 4
	rm -f "$MEMIF_SOCK"
	timeout $((dur + 20)) "$ICPERF" "$rxmode" --backend dpdk --duration "$dur" --warmup 1 \
		--timeout $((dur + 15)) \
		--bopt eal="$EAL_COMMON --file-prefix $PFX-mr -l 1 $MEMIF_S" \
		>"$TMP/$name.rx" 2>"$TMP/$name.rx.err" &
	pid=$!
	if ! wait_for 10 memif_listening; then
		bad "$name" "memif server did not listen: $(tail -5 "$TMP/$name.rx.err")"
		kill -INT "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	timeout $((dur + 20)) "$ICPERF" "$txmode" --backend dpdk --duration "$dur" --warmup 1 \
		--dst-mac "$PEER_MAC" --src-ip 198.18.0.1 --dst-ip 198.18.0.2 "$@" \
		--bopt eal="$EAL_COMMON --file-prefix $PFX-ms -l 0 $MEMIF_C" \
		>"$TMP/$name.tx" 2>"$TMP/$name.tx.err"
	wait "$pid"
	return 0
}

# ---------------------------------------------------------------------------------------
# 1. memif

if memif_pair memif recv send 5; then
	jcheck "memif send: sent > 0, no error" "$TMP/memif.tx" \
		's["error"] is None and s["stopped_by"] == "duration" and s["sent"] > 0'
	jcheck "memif recv: received > 0, nothing lost, all frames ours" "$TMP/memif.rx" \
		's["error"] is None and s["received"] > 0 and s["rx_pps_mean"] > 0 and s["lost"] == 0 and s["rx_invalid"] == 0'
	echo "     memif one way, 64 B: $(summary "$TMP/memif.rx" '"%.2f Mpps received (std %.2f)" % (s["rx_pps_mean"] / 1e6, s["rx_pps_std"] / 1e6)');" \
		"sender $(summary "$TMP/memif.tx" '"%.2f Mpps, tx_dropped %d" % (s["tx_pps_mean"] / 1e6, s["tx_dropped"])')"
fi

if memif_pair memif-rtt server client 5 --rate 1000 --burst 4; then
	jcheck "memif client 1000 pps burst 4: every probe answered, rtt ordered" "$TMP/memif-rtt.tx" \
		's["error"] is None and s["sent"] > 0 and s["received"] == s["sent"] and s["rtt_us"]["count"] == s["window"]["received"] < s["received"] and 0 < s["rtt_us"]["min"] <= s["rtt_us"]["p50"] <= s["rtt_us"]["p99"] <= s["rtt_us"]["max"]'
	jcheck "memif server reflected every probe" "$TMP/memif-rtt.rx" \
		's["error"] is None and s["received"] > 0 and s["sent"] == s["received"]'
	echo "     memif round trip, 1000 pps, burst 4: $(summary "$TMP/memif-rtt.tx" '"mean %.1f us, p50 %.1f, p90 %.1f, p99 %.1f, max %.1f" % tuple(s["rtt_us"][k] for k in ("mean","p50","p90","p99","max"))')"
fi

# a sender whose peer never comes up: error in the summary, exit 1
rm -f "$MEMIF_SOCK"
timeout 20 "$ICPERF" send --backend dpdk --duration 2 --dst-mac "$PEER_MAC" --dst-ip 198.18.0.2 \
	--bopt link_wait=1 --bopt eal="$EAL_COMMON --file-prefix $PFX-ms -l 0 $MEMIF_C" \
	>"$TMP/nopeer.tx" 2>"$TMP/nopeer.tx.err"
rc=$?
if [ $rc = 1 ]; then
	jcheck "no peer: exit 1, summary error names the port" "$TMP/nopeer.tx" \
		's["stopped_by"] == "error" and "net_memif0" in s["error"] and s["sent"] == 0'
else
	bad "no peer: exit 1" "rc=$rc $(tail -3 "$TMP/nopeer.tx.err")"
fi

# SIGINT to the sender, SIGTERM to the receiver: summaries printed, exit 0
rm -f "$MEMIF_SOCK"
timeout 40 "$ICPERF" recv --backend dpdk --duration 30 \
	--bopt eal="$EAL_COMMON --file-prefix $PFX-mr -l 1 $MEMIF_S" >"$TMP/sig.rx" 2>"$TMP/sig.rx.err" &
rpid=$!
if wait_for 10 memif_listening; then
	"$ICPERF" send --backend dpdk --duration 30 --rate 100000 --dst-mac "$PEER_MAC" \
		--dst-ip 198.18.0.2 --bopt eal="$EAL_COMMON --file-prefix $PFX-ms -l 0 $MEMIF_C" \
		>"$TMP/sig.tx" 2>"$TMP/sig.tx.err" &
	spid=$!
	sleep 3
	kill -INT "$spid"
	wait "$spid"
	src=$?
	sleep 0.3
	kill -TERM "$rpid" # timeout(1) passes it on
	wait "$rpid"
	rrc=$?
	if [ $src = 0 ] && [ $rrc = 0 ]; then
		jcheck "SIGINT: sender exits 0, summary with stopped_by signal" "$TMP/sig.tx" \
			's["stopped_by"] == "signal" and s["error"] is None and s["sent"] > 0'
		jcheck "SIGTERM: receiver exits 0, summary with stopped_by signal" "$TMP/sig.rx" \
			's["stopped_by"] == "signal" and s["error"] is None and s["received"] > 0'
	else
		bad "SIGINT/SIGTERM: exit codes" "send rc=$src recv rc=$rrc"
		FAIL=$((FAIL + 1))
	fi
else
	bad "SIGINT/SIGTERM" "memif server did not listen: $(tail -5 "$TMP/sig.rx.err")"
	FAIL=$((FAIL + 1))
fi

# ---------------------------------------------------------------------------------------
# 2. generator capacity: icperf vs dpdk-testpmd txonly, into dpdk-testpmd rxonly over vhost-user

# testpmd_rates FILE: the Rx-pps values of port 0 in testpmd's periodic statistics (ANSI
# escapes removed), one per line
testpmd_rates() {
	sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1" | awk '/Rx-pps:/ { print $2 }'
}

SINK_CMD=(dpdk-testpmd -l "0,1" --main-lcore 0 --no-huge -m 256 --no-pci --file-prefix "$PFX-sink"
	--vdev "net_vhost0,iface=$VH_SOCK,queues=1" --
	--forward-mode=rxonly --nb-cores=1 --total-num-mbufs=16384 --stats-period 1 --burst=32)
GEN_TESTPMD=(dpdk-testpmd -l "0,1" --main-lcore 1 --no-huge -m 256 --no-pci --file-prefix "$PFX-gen"
	--single-file-segments --vdev "net_virtio_user0,path=$VH_SOCK,queues=1" --
	--forward-mode=txonly --nb-cores=1 --total-num-mbufs=16384 --stats-period 1 --burst=32
	--txpkts=64)
GEN_ICPERF=("$ICPERF" send --backend dpdk --size 64 --burst 32 --duration 9 --warmup 2
	--dst-mac "$PEER_MAC" --src-ip 198.18.0.1 --dst-ip 198.18.0.2
	--bopt "eal=--no-huge -m 256 --no-pci --file-prefix $PFX-ic --single-file-segments -l 0 --vdev=net_virtio_user0,path=$VH_SOCK,queues=1")

# shell_words WORD...: the words as one command line, single-quoting those that need it
shell_words() {
	local w out=
	for w in "$@"; do
		if [[ $w =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then
			out+="$w "
		else
			out+="'${w//\'/\'\\\'\'}' "
		fi
	done
	echo "${out% }"
}

# capacity_run NAME GEN: sink up, generator for ~9 s, sink stopped with SIGINT
capacity_run() {
	local name=$1 gen=$2 pid
	rm -f "$VH_SOCK"
	timeout -s INT 40 "${SINK_CMD[@]}" >"$TMP/$name.sink.out" 2>"$TMP/$name.sink.err" </dev/null &
	pid=$!
	if ! wait_for 15 test -S "$VH_SOCK"; then
		echo "     $name: vhost socket did not appear: $(tail -3 "$TMP/$name.sink.err")"
		kill -INT "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	sleep 0.5
	if [ "$gen" = testpmd ]; then
		timeout -s INT 10 "${GEN_TESTPMD[@]}" >"$TMP/$name.gen.out" 2>"$TMP/$name.gen.err" </dev/null
	else
		timeout 25 "${GEN_ICPERF[@]}" >"$TMP/$name.gen.out" 2>"$TMP/$name.gen.err"
	fi
	sleep 1.5
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	testpmd_rates "$TMP/$name.sink.out" >"$TMP/$name.rates"
	return 0
}

if ! command -v dpdk-testpmd >/dev/null; then
	skip 3 "generator capacity: dpdk-testpmd not installed (package dpdk)"
else
	for round in $(seq "$ROUNDS"); do
		capacity_run "cap-testpmd-$round" testpmd
		capacity_run "cap-icperf-$round" icperf
	done
	{
		echo "# sink:    $(shell_words timeout -s INT 40 "${SINK_CMD[@]}")"
		echo "# testpmd: $(shell_words timeout -s INT 10 "${GEN_TESTPMD[@]}")"
		echo "# icperf:  $(shell_words timeout 25 "${GEN_ICPERF[@]}")"
	} >"$TMP/commands.txt"
	# steady intervals: the non-zero ones without the first and the last (generator start and
	# stop); the median also leaves out those under half the run's best (start-up spill-over)
	res=$(python3 - "$TMP" <<'EOF'
import glob, os, statistics, sys
tmp = sys.argv[1]
out = {}
for gen in ("testpmd", "icperf"):
    steady, full = [], []
    for f in sorted(glob.glob(os.path.join(tmp, "cap-%s-*.rates" % gen))):
        v = [float(x) for x in open(f).read().split()]
        nz = [x for x in v if x > 0]
        st = nz[1:-1] if len(nz) > 2 else nz
        steady += st
        full += [x for x in st if x >= 0.5 * max(st)]
    out[gen] = (max(steady) if steady else 0.0, statistics.median(full) if full else 0.0,
                len(steady))
tb, tm, tn = out["testpmd"]
ib, im, inn = out["icperf"]
print("%.0f %.0f %d %.0f %.0f %d %.3f %.3f" % (tb, tm, tn, ib, im, inn,
      ib / tb if tb else 0, im / tm if tm else 0))
EOF
	)
	read -r tbest tmed tn ibest imed inn ratio ratio_med <<<"$res"
	if [ "${tn:-0}" -gt 0 ] && python3 -c "import sys; sys.exit(not $tbest > 0)"; then
		ok "testpmd txonly -> testpmd rxonly: $tn steady intervals, best $(awk "BEGIN{printf \"%.2f\", $tbest/1e6}") Mpps"
	else
		bad "testpmd txonly -> testpmd rxonly" "no traffic counted: $(tail -5 "$TMP"/cap-testpmd-1.gen.err)"
	fi
	if [ "${inn:-0}" -gt 0 ] && python3 -c "import sys; sys.exit(not $ibest > 0)"; then
		ok "icperf send -> testpmd rxonly: $inn steady intervals, best $(awk "BEGIN{printf \"%.2f\", $ibest/1e6}") Mpps"
	else
		bad "icperf send -> testpmd rxonly" "no traffic counted: $(tail -5 "$TMP"/cap-icperf-1.gen.err)"
	fi
	echo "     received by testpmd rxonly (Mpps, best / median of steady intervals):" \
		"testpmd txonly $(awk "BEGIN{printf \"%.2f / %.2f\", $tbest/1e6, $tmed/1e6}")," \
		"icperf $(awk "BEGIN{printf \"%.2f / %.2f\", $ibest/1e6, $imed/1e6}");" \
		"icperf/testpmd $ratio (medians $ratio_med)"
	# A speed goal is measured, not asserted (the benchmark reports it): the test checks that
	# both figures exist and the ratio is a number.
	if python3 -c "import sys; sys.exit(not $ratio > 0)"; then
		ok "generator capacity measured: icperf/testpmd = $ratio (goal >= 0.95)"
	else
		bad "generator capacity" "icperf/testpmd = $ratio is not a positive ratio"
	fi
fi

# ---------------------------------------------------------------------------------------
# 3. af_xdp on a veth pair

AFXDP_LIB=$(find /usr/lib /usr/local/lib -path "*/dpdk/pmds-*/librte_net_af_xdp.so*" 2>/dev/null | head -1)
if [ -z "$AFXDP_LIB" ]; then
	skip 2 "af_xdp: DPDK's net_af_xdp driver is not installed"
elif ! { mountpoint -q /sys/fs/bpf || { mount -t bpf bpf /sys/fs/bpf && BPF_MOUNTED=1; }; }; then
	skip 2 "af_xdp: cannot mount bpffs on /sys/fs/bpf"
elif ! ip link add "$VX0" type veth peer name "$VX1"; then
	skip 2 "af_xdp: cannot create veth pair $VX0/$VX1"
else
	VETH_MADE=1
	for d in "$VX0" "$VX1"; do
		sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"
		ip link set "$d" up
	done
	MAC1=$(cat "/sys/class/net/$VX1/address")
	timeout 35 "$ICPERF" recv --backend dpdk --duration 5 --warmup 1 --timeout 25 \
		--bopt eal="$EAL_COMMON --file-prefix $PFX-xr -l 1 --vdev=net_af_xdp0,iface=$VX1,start_queue=0,queue_count=1" \
		>"$TMP/afxdp.rx" 2>"$TMP/afxdp.rx.err" &
	pid=$!
	# the receiver is ready when its XDP program sits on the interface
	if wait_for 15 sh -c "ip link show dev $VX1 | grep -q xdp"; then
		timeout 30 "$ICPERF" send --backend dpdk --duration 5 --warmup 1 --dst-mac "$MAC1" \
			--src-ip 198.18.0.1 --dst-ip 198.18.0.2 \
			--bopt eal="$EAL_COMMON --file-prefix $PFX-xs -l 0 --vdev=net_af_xdp0,iface=$VX0,start_queue=0,queue_count=1" \
			>"$TMP/afxdp.tx" 2>"$TMP/afxdp.tx.err"
		wait "$pid"
		jcheck "af_xdp send on $VX0: sent > 0" "$TMP/afxdp.tx" \
			's["error"] is None and s["sent"] > 0'
		jcheck "af_xdp recv on $VX1: received > 0" "$TMP/afxdp.rx" \
			's["error"] is None and s["received"] > 0 and s["rx_pps_mean"] > 0'
		echo "     af_xdp over veth, 64 B: $(summary "$TMP/afxdp.rx" '"%.0f kpps received, lost %d" % (s["rx_pps_mean"]/1e3, s["lost"])'), sender $(summary "$TMP/afxdp.tx" '"%.0f kpps" % (s["tx_pps_mean"]/1e3)')"
	else
		bad "af_xdp" "receiver did not attach XDP to $VX1: $(tail -5 "$TMP/afxdp.rx.err")"
		kill -INT "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		FAIL=$((FAIL + 1))
	fi
fi

finish
