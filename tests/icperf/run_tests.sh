#!/usr/bin/env bash
# Functional tests of icperf (roles/icperf/files/icperf). Run as root:
#   tests/icperf/run_tests.sh
# Builds icperf, checks argument handling, then runs every backend between two network
# namespaces joined by a veth pair (names start with "icpt", addresses in 198.18.0.0/15).
# The namespaces are removed on exit. The last line is "N passed, M failed"; the exit status
# is non-zero when a test failed. Takes about 65 s.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../../roles/icperf/files/icperf" && pwd)
ICPERF=$SRC/build/icperf
PORT=9000
PASS=0
FAIL=0
NSA=icpt-$$-a
NSB=icpt-$$-b
VA=icpt$$a
VB=icpt$$b
IPA=198.18.0.1
IPB=198.18.0.2
TMP=$(mktemp -d /tmp/icpt-test.XXXXXX)
BGPIDS=()

cleanup() {
	local p
	for p in "${BGPIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=tests/icperf/lib.sh
. "$(dirname "$0")/lib.sh"

# (background jobs call "ip netns exec" directly: it execs the command, so $! is its pid)
in_a() { ip netns exec "$NSA" "$@"; }
in_b() { ip netns exec "$NSB" "$@"; }

# wait until something in namespace $1 has UDP port $PORT open (the raw backends bind it too)
wait_port() {
	local ns=$1 hex _
	hex=$(printf ':%04X ' "$PORT")
	for _ in $(seq 50); do
		if ip netns exec "$ns" cat /proc/net/udp | grep -q "$hex"; then
			sleep 0.1
			return 0
		fi
		sleep 0.05
	done
	return 1
}

if [ "$(id -u)" != 0 ]; then
	echo "run_tests.sh: must run as root (network namespaces)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# ---------------------------------------------------------------------------------------
# build and arguments

if make -s -C "$SRC" >"$TMP/build.log" 2>&1 && [ -x "$ICPERF" ]; then
	ok "build (make -C $SRC)"
else
	bad "build" "$(tail -20 "$TMP/build.log")"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi

# histogram, sequence accounting, frame code and pacing (unit_test.c)
if ${CC:-cc} -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$SRC/src" "$HERE/unit_test.c" \
	"$SRC/src/hist.c" "$SRC/src/seq.c" "$SRC/src/frame.c" "$SRC/src/pace.c" -lm \
	-o "$TMP/unit_test" >"$TMP/unit.log" 2>&1 && "$TMP/unit_test" >>"$TMP/unit.log" 2>&1; then
	ok "unit tests: $(tail -1 "$TMP/unit.log")"
else
	bad "unit tests" "$(cat "$TMP/unit.log")"
fi

want_version=$(sed -n 's/^#define ICPERF_VERSION "\(.*\)"/\1/p' "$SRC/src/version.h")
out=$("$ICPERF" --version 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$out" = "icperf $want_version" ]; then
	ok "--version prints 'icperf $want_version'"
else
	bad "--version" "rc=$rc output='$out'"
fi

out=$("$ICPERF" --help 2>/dev/null)
rc=$?
if [ $rc = 0 ] && grep -q '^usage: icperf MODE' <<<"$out"; then
	ok "--help exits 0 with usage"
else
	bad "--help" "rc=$rc"
fi

# badarg NAME WORD ARGS...: exit code 2, first stderr line names WORD, usage follows
badarg() {
	local name=$1 word=$2 rc first
	shift 2
	"$ICPERF" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	first=$(head -1 "$TMP/err")
	if [ $rc = 2 ] && grep -q -- "$word" <<<"$first" && grep -q 'allowed' <<<"$first" &&
		grep -q '^usage:' "$TMP/err" && [ ! -s "$TMP/out" ]; then
		ok "bad args: $name -> exit 2, '$first'"
	else
		bad "bad args: $name" "rc=$rc stderr='$first'"
	fi
}
badarg "size 63" "--size" send --dst-ip "$IPB" --size 63
badarg "size 9015" "--size" recv --size 9015
badarg "rate -1" "--rate" send --dst-ip "$IPB" --rate -1
badarg "unknown backend" "--backend" recv --backend nosuch
badarg "missing --dst-ip" "--dst-ip" send
badarg "missing --iface for raw" "--iface" recv --backend raw
badarg "missing --iface for ring" "--iface" recv --backend ring
badarg "ring: bad --bopt value" "--bopt qdisc_bypass" recv --backend ring --iface lo --bopt qdisc_bypass=2
badarg "ring: unknown --bopt key" "--bopt 'nosuch=1'" recv --backend ring --iface lo --bopt nosuch=1
badarg "ring: --bopt number out of range" "--bopt tx_frames" recv --backend ring --iface lo --bopt tx_frames=0
badarg "burst 0" "--burst" recv --burst 0
badarg "missing MODE" "MODE"
badarg "unknown option" "--bogus" recv --bogus

"$ICPERF" recv --backend raw --iface icpt-nosuch0 >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc = 1 ] && grep -q 'not found' "$TMP/err"; then
	ok "runtime failure exits 1 with a message"
else
	bad "runtime failure" "rc=$rc stderr='$(cat "$TMP/err")'"
fi
jcheck "runtime failure summary has error" "$TMP/out" \
	's["error"] and "icpt-nosuch0" in s["error"] and s["stopped_by"] == "error"'

# ---------------------------------------------------------------------------------------
# two namespaces and a veth pair

if ! { ip netns add "$NSA" && ip netns add "$NSB" &&
	ip link add "$VA" type veth peer name "$VB" &&
	ip link set "$VA" netns "$NSA" && ip link set "$VB" netns "$NSB"; }; then
	bad "netns setup" "cannot create namespaces / veth"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi
for ns in "$NSA" "$NSB"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip -n "$NSA" addr add "$IPA/24" dev "$VA"
ip -n "$NSB" addr add "$IPB/24" dev "$VB"
ip -n "$NSA" link set "$VA" up
ip -n "$NSB" link set "$VB" up
MACA=$(in_a cat "/sys/class/net/$VA/address")
MACB=$(in_b cat "/sys/class/net/$VB/address")
# static neighbours: no ARP resolution eating the first packets
ip -n "$NSA" neigh replace "$IPB" lladdr "$MACB" dev "$VA" nud permanent
ip -n "$NSB" neigh replace "$IPA" lladdr "$MACA" dev "$VB" nud permanent
ok "netns $NSA/$NSB with veth $VA/$VB"

CPUS=$(nproc)
CPU_A=0
CPU_B=$((CPUS > 1 ? 1 : 0))

# peer_args SIDE BACKEND: interface and MAC options of one side
peer_args() {
	case $2 in
	raw* | ring)
		if [ "$1" = a ]; then
			echo "--iface $VA --dst-mac $MACB"
		else
			echo "--iface $VB --dst-mac $MACA"
		fi
		;;
	esac
}

# run_pair NAME RXMODE TXMODE BACKEND DURATION [extra args for both sides...]
# Receiver/server in B, sender/client in A. Output in $TMP/NAME.b and $TMP/NAME.a.
run_pair() {
	local name=$1 rxmode=$2 txmode=$3 backend=$4 dur=$5 pid
	shift 5
	# shellcheck disable=SC2046
	ip netns exec "$NSB" "$ICPERF" "$rxmode" --backend "$backend" $(peer_args b "$backend") --src-ip "$IPB" \
		--port "$PORT" --duration "$dur" --warmup 1 --timeout $((dur + 10)) --cpu "$CPU_B" "$@" \
		>"$TMP/$name.b" 2>"$TMP/$name.b.err" &
	pid=$!
	BGPIDS+=("$pid")
	if ! wait_port "$NSB"; then
		bad "$name" "receiver did not open port $PORT: $(cat "$TMP/$name.b.err")"
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	# shellcheck disable=SC2046
	in_a "$ICPERF" "$txmode" --backend "$backend" $(peer_args a "$backend") --src-ip "$IPA" \
		--dst-ip "$IPB" --port "$PORT" --duration "$dur" --warmup 1 --cpu "$CPU_A" "$@" \
		>"$TMP/$name.a" 2>"$TMP/$name.a.err"
	wait "$pid"
	return 0
}

# ---------------------------------------------------------------------------------------
# throughput, unpaced, every backend

for be in udp udp-mmsg raw raw-mmsg ring; do
	run_pair "tput-$be" recv send "$be" 3 || continue
	jcheck "send $be: sender summary" "$TMP/tput-$be.a" \
		's["error"] is None and s["stopped_by"] == "duration" and s["sent"] > 0 and s["tx_pps_mean"] > 0 and len([x for x in samples if not x["partial"]]) == 3 and sum(x["partial"] for x in samples) <= 1'
	jcheck "recv $be: received > 0, rx_pps > 0, 3 full samples (and at most a partial tail)" "$TMP/tput-$be.b" \
		's["error"] is None and s["stopped_by"] == "duration" and s["received"] > 0 and s["rx_pps_mean"] > 0 and s["samples_used"] == 2 and len([x for x in samples if not x["partial"]]) == 3 and sum(x["partial"] for x in samples) <= 1 and s["duplicated"] == 0'
	jcheck "recv $be: one window, after the warm-up, of the full samples after it" "$TMP/tput-$be.b" \
		's["window"]["closed"] and abs(s["window"]["start_s"] - 1) < 0.01 and abs(s["window"]["end_s"] - 3) < 0.01 and s["window"]["received"] == sum(x["received"] for x in samples if not x["partial"] and x["t"] > 1)'
	jcheck "recv $be: the seconds' sequence gaps add up to the window's lost" "$TMP/tput-$be.b" \
		's["window"]["lost"] == sum(x["lost"] for x in samples if not x["partial"] and x["t"] > 1)'
	jcheck "send $be: one window, after the warm-up" "$TMP/tput-$be.a" \
		's["window"]["closed"] and abs(s["window"]["start_s"] - 1) < 0.01 and s["window"]["sent"] == sum(x["sent"] for x in samples if not x["partial"] and x["t"] > 1)'
	# an unpaced sender spins: it used about a core in its 2 s window (netns peers share 2 vCPUs)
	jcheck "send $be: the CPU it used inside its window" "$TMP/tput-$be.a" \
		'0.3 < s["window"]["cpu_s"] / (s["window"]["end_s"] - s["window"]["start_s"]) <= 1.05'
	sent=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1]["sent"])' "$TMP/tput-$be.a" 2>/dev/null || echo 0)
	jcheck "recv $be: lost + received consistent with sent ($sent)" "$TMP/tput-$be.b" \
		"s['received'] + s['lost'] <= $sent and s['received'] + s['lost'] >= 0.9 * $sent and s['received'] == sum(x['received'] for x in samples)"
	echo "     $be: $(python3 -c 'import json,sys; a=[json.loads(l) for l in open(sys.argv[1])][-1]; b=[json.loads(l) for l in open(sys.argv[2])][-1]; print("tx %.0f pps, rx %.0f pps, lost %d" % (a["tx_pps_mean"], b["rx_pps_mean"], b["lost"]))' "$TMP/tput-$be.a" "$TMP/tput-$be.b" 2>/dev/null)"
done

# the ring backend records the options it used; qdisc bypass on request
jcheck "ring: summary records its options (qdisc_bypass 0, the TX ring)" "$TMP/tput-ring.a" \
	's["backend_opts"]["qdisc_bypass"] == 0 and s["backend_opts"]["tx_frames"] == 4096 and s["backend_opts"]["tx_frame_size"] == 128 and s["backend_opts"]["tx_linear"] == 0 and s["backend_opts"]["rx_blocks"] == 0'
jcheck "ring: receiver records its RX ring" "$TMP/tput-ring.b" \
	's["backend_opts"]["rx_blocks"] == 64 and s["backend_opts"]["rx_block_size"] == 1048576 and s["backend_opts"]["tx_frames"] == 0'
jcheck "udp: no backend options (backend_opts null)" "$TMP/tput-udp.a" 's["backend_opts"] is None'
if run_pair qdisc-bypass recv send ring 2 --bopt qdisc_bypass=1 --bopt tx_frames=1000; then
	jcheck "ring qdisc_bypass=1: recorded in the summary, frames sent" "$TMP/qdisc-bypass.a" \
		's["error"] is None and s["backend_opts"]["qdisc_bypass"] == 1 and s["backend_opts"]["tx_frames"] == 1024 and s["sent"] > 0'
	jcheck "ring qdisc_bypass=1: received" "$TMP/qdisc-bypass.b" \
		's["error"] is None and s["received"] > 0 and s["duplicated"] == 0 and s["rx_invalid"] == 0'
fi

# ---------------------------------------------------------------------------------------
# paced

for be in udp ring; do
	run_pair "paced-$be" recv send "$be" 3 --rate 1000 --burst 10 || continue
	jcheck "paced $be 1000 pps: sender within 5%" "$TMP/paced-$be.a" 'abs(s["tx_pps_mean"] - 1000) <= 50'
	jcheck "paced $be 1000 pps: receiver within 5%" "$TMP/paced-$be.b" 'abs(s["rx_pps_mean"] - 1000) <= 50'
	# the receiver's UDP port (for ring: opened after its rings) means it is ready
	jcheck "paced $be 1000 pps: ready when its port opened (first frame received)" "$TMP/paced-$be.b" \
		's["first_seq"] == 0'
	jcheck "paced $be 1000 pps: the warm-up ended on time (no condition asked)" "$TMP/paced-$be.a" \
		's["window"]["warmup_end"] == "time" and abs(s["window"]["start_s"] - 1) < 0.01'
done

# warm-up on a condition: a paced rate is steady from its second second, so the warm-up ends
# there (stable); a condition no rate meets (0.0001 %) ends it at --warmup-max (limit). The
# means are those of the window's samples.
if run_pair warmup-stable recv send udp 5 --rate 2000 --burst 10 --warmup-stable 10 --warmup-max 3; then
	jcheck "warmup-stable: ends on the condition, after --warmup, means of its window" "$TMP/warmup-stable.b" \
		's["window"]["warmup_end"] == "stable" and 2 - 0.01 < s["window"]["start_s"] <= 3.01 and s["samples_used"] == round(5 - s["window"]["start_s"])'
fi
if run_pair warmup-limit recv send udp 5 --rate 2000 --burst 10 --warmup-stable 0.0001 --warmup-max 3; then
	jcheck "warmup-max: a condition never met ends at the limit" "$TMP/warmup-limit.a" \
		's["window"]["warmup_end"] in ("limit", "stable") and s["window"]["start_s"] <= 3.01 and s["samples_used"] == round(5 - s["window"]["start_s"])'
fi

# touch: every payload byte written and summed
for be in raw-mmsg ring; do
	run_pair "touch-$be" recv send "$be" 2 --size 1500 --touch --rate 20000 || continue
	jcheck "touch $be 1500 B: touch_sum > 0, no invalid frames" "$TMP/touch-$be.b" \
		's["touch"] is True and s["received"] > 0 and s["touch_sum"] > 0 and s["rx_invalid"] == 0'
done
# ring with tx_linear: the first 100 bytes of each frame in the skb's head, the rest fragments
if run_pair touch-ring-linear recv send ring 2 --size 1500 --touch --rate 20000 --bopt tx_linear=100; then
	jcheck "touch ring tx_linear=100: recorded, every frame valid and received" "$TMP/touch-ring-linear.b" \
		's["touch_sum"] > 0 and s["rx_invalid"] == 0 and s["lost"] == 0 and s["received"] >= 0.9 * 40000'
	jcheck "touch ring tx_linear=100: the sender records it" "$TMP/touch-ring-linear.a" \
		's["error"] is None and s["backend_opts"]["tx_linear"] == 100 and s["tx_dropped"] == 0'
fi

# ---------------------------------------------------------------------------------------
# round trip

# (ring: the round trip includes the RX rings' block retire timeout on both sides)
for be in udp raw ring; do
	run_pair "rtt-$be" server client "$be" 3 --rate 1000 --burst 4 || continue
	jcheck "client/server $be 1000 pps: rtt p50 > 0, p50 <= p99 <= max" "$TMP/rtt-$be.a" \
		's["error"] is None and s["received"] > 0 and s["rtt_us"]["count"] == s["window"]["received"] < s["received"] and 0 < s["rtt_us"]["min"] <= s["rtt_us"]["p50"] <= s["rtt_us"]["p90"] <= s["rtt_us"]["p99"] <= s["rtt_us"]["p999"] <= s["rtt_us"]["max"]'
	jcheck "client/server $be: server reflected" "$TMP/rtt-$be.b" \
		's["error"] is None and s["received"] > 0 and s["sent"] == s["received"] and s["rtt_us"] is None'
	echo "     $be rtt us: $(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1]["rtt_us"])' "$TMP/rtt-$be.a" 2>/dev/null)"
done

# ---------------------------------------------------------------------------------------
# stopping

ip netns exec "$NSB" "$ICPERF" recv --src-ip "$IPB" --port "$PORT" --duration 30 >"$TMP/sig.b" 2>"$TMP/sig.b.err" &
pid=$!
BGPIDS+=("$pid")
if wait_port "$NSB"; then
	in_a "$ICPERF" send --dst-ip "$IPB" --port "$PORT" --rate 1000 --duration 1 >/dev/null 2>&1
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	if [ $rc = 0 ]; then
		ok "SIGTERM: recv exits 0"
	else
		bad "SIGTERM: recv exit code" "rc=$rc"
	fi
	jcheck "SIGTERM: summary printed with stopped_by signal" "$TMP/sig.b" \
		's["stopped_by"] == "signal" and s["error"] is None and s["received"] > 0'
else
	bad "SIGTERM" "receiver did not start"
fi

in_b "$ICPERF" recv --port "$PORT" --duration 5 --timeout 1 >"$TMP/timeout.b" 2>&1
rc=$?
if [ $rc = 0 ]; then ok "timeout without traffic exits 0"; else bad "timeout exit code" "rc=$rc"; fi
jcheck "timeout: stopped_by timeout, nothing received" "$TMP/timeout.b" \
	's["stopped_by"] == "timeout" and s["received"] == 0 and 0.9 <= s["wait_s"] <= 2'

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
