#!/usr/bin/env bash
# The delegation hierarchy behind the relay (world-up --hierarchy
# --latency MS): every hop of Unbound's iteration pays the round trip.
#   - the working copies of the zones and the root hints name the relay's
#     twins (127.120.x.y) of the hierarchy's NSDs (127.20.x.y);
#   - a dig through the twin resolver for a name not yet cached takes
#     4 round trips (the client's hop, then the TLD's referral with the
#     DS, the provider's answer, the zone's DNSKEY for validation), the
#     same name again one (the client's hop: a cache hit); straight to
#     Unbound the same pattern less the client's hop (3, then 0);
#   - Unbound's infrastructure cache holds only twins, and its statistics
#     count the cache hits and misses and a recursion time of several
#     round trips;
#   - a scan of the catalog through the twin resolver equals the truth,
#     with NSD's response rate limiting on one provider (dns02);
#   - a flood of one query at dns02's twin is cut by RRL behind the relay
#     (few full answers, some truncated, some dropped; NSD logs the block),
#     the same flood at dns01's twin is answered in full.
#
# Usage: test_hiernet.sh STSMAP NM_RELAY   Needs root (port 53, Postfix).
set -euo pipefail

stsmap=${1:?usage: test_hiernet.sh STSMAP NM_RELAY}
export NM_RELAY=${2:?usage: test_hiernet.sh STSMAP NM_RELAY}
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
world_need_tools
[ "$(id -u)" -eq 0 ] || die "needs root: the hierarchy's servers listen on port 53"
lib_tmpdir hiernet
w=$tmp/w
rtt=40
rate=5 # dns02's RRL: responses a second per bucket
ub=127.1.0.2 ub_twin=127.101.0.2

chmod o+x "$tmp"
"$stsmap" world --out "$w" --dns-port "$dns_port" --https-port "$https_port" \
	--smtp-port "$smtp_port" --hierarchy --dns-providers 4 >"$tmp/gen.log" 2>&1 ||
	die "stsmap world --hierarchy failed: $(cat "$tmp/gen.log")"
served+=("$w")
t0=$(date +%s%N)
"$scripts/world-up" --hierarchy --rrl "dns02=$rate" --latency "$rtt" "$w" >"$tmp/up.log" 2>&1 ||
	die "world-up --hierarchy --latency failed: $(tail -20 "$tmp/up.log")"
echo "world-up --hierarchy --latency $rtt: $((($(date +%s%N) - t0) / 1000000)) ms"
ctl=(unbound-control -c "$w/run/unbound.conf")

# 1. The address plan: zones and hints name twins, the NSDs stay put.
check "the root hints Unbound reads name the twins of the root servers" \
	sh -c "grep -q 'root-hints: \"$w/run/hier/work/root.hints\"' '$w/run/unbound.conf' &&
		grep -Eq 'a\.root-servers\.test\..*A[[:space:]]+127\.120\.0\.1$' '$w/run/hier/work/root.hints' &&
		! grep -q '127\.20\.' '$w/run/hier/work/root.hints'"
check "no zone served names a hierarchy server's own address" \
	sh -c "! grep -rqE '[[:space:]]A[[:space:]]+127\.20\.' '$w/run/hier/work'"
check "the relay forwards every hierarchy address, UDP and TCP" \
	[ "$(grep -cE '^(udp|tcp):127\.120\.[0-9]+\.[12]:53=127\.20\.' "$w/run/netem.conf")" \
	-eq $((4 * $(grep -vc '^#' "$w/hier/servers.txt"))) ]

# 2. What an iteration costs: hops x RTT.
dig_ms() { # dig_ms ADDR TYPE NAME
	{ dig @"$1" -p "$dns_port" +tries=1 +time=5 "$2" "$3" 2>/dev/null || true; } |
		sed -n 's/^;; Query time: \([0-9]*\) msec/\1/p'
}
# Ten domains of the providers (not the TLD), none asked for yet.
mapfile -t doms < <(awk '$2 ~ /^dns/ { print $1 }' "$w/hier/zones.txt" | head -n 10)
for d in "${doms[@]:0:5}"; do
	dig_ms "$ub_twin" MX "$d" >>"$tmp/twin.fresh"
	dig_ms "$ub_twin" MX "$d" >>"$tmp/twin.cached"
done
for d in "${doms[@]:5:5}"; do
	dig_ms "$ub" MX "$d" >>"$tmp/direct.fresh"
	dig_ms "$ub" MX "$d" >>"$tmp/direct.cached"
done
for f in twin.fresh twin.cached direct.fresh direct.cached; do
	eval "m_${f/./_}=$(median <"$tmp/$f")"
	echo "$f: $(tr '\n' ' ' <"$tmp/$f")ms"
done
# Tolerance: the relay's timer and a busy 2-core machine's scheduling.
check "uncached MX through the twin resolver: 4 round trips ($m_twin_fresh ms, want $((4 * rtt - 5))-$((4 * rtt + 40)))" \
	within "$m_twin_fresh" $((4 * rtt - 5)) $((4 * rtt + 40))
check "cached MX through the twin resolver: 1 round trip ($m_twin_cached ms, want $((rtt - 5))-$((rtt + 15)))" \
	within "$m_twin_cached" $((rtt - 5)) $((rtt + 15))
check "uncached MX straight to Unbound: 3 round trips ($m_direct_fresh ms, want $((3 * rtt - 5))-$((3 * rtt + 40)))" \
	within "$m_direct_fresh" $((3 * rtt - 5)) $((3 * rtt + 40))
check "cached MX straight to Unbound: no round trip ($m_direct_cached ms, want 0-5)" \
	within "$m_direct_cached" 0 5

# 3. Unbound's view: only twins asked; hits, misses, recursion time.
"${ctl[@]}" dump_infra >"$tmp/infra.txt"
check "Unbound asked the root, the TLD and the providers only at their twins" \
	sh -c "grep -Eq '^127\.120\.0\.[12] \. ' '$tmp/infra.txt' &&
		grep -Eq '^127\.120\.1\.[12] test\. ' '$tmp/infra.txt' &&
		! grep -Ev '^127\.120\.|^127\.5\.0\.1 ' '$tmp/infra.txt' | grep -q ."
"${ctl[@]}" stats_noreset >"$tmp/stats.txt"
hits=$(sed -n 's/^total\.num\.cachehits=//p' "$tmp/stats.txt")
miss=$(sed -n 's/^total\.num\.cachemiss=//p' "$tmp/stats.txt")
rmed=$(sed -n 's/^total\.recursion\.time\.median=//p' "$tmp/stats.txt")
echo "Unbound: $hits cache hits, $miss misses, recursion median $rmed s"
check "Unbound counts the 10 repeated names as cache hits ($hits >= 10)" [ "$hits" -ge 10 ]
check "Unbound counts the 10 fresh names as misses ($miss >= 10)" [ "$miss" -ge 10 ]
check "Unbound's median recursion takes at least 2 round trips ($rmed s)" \
	within "$rmed" "$(awk -v r="$rtt" 'BEGIN { print 2 * r / 1000 }')" 10

# 4. The truth holds whatever the delays.
read -r -a opts <<<"$(world_scan_opts "$w")"
opts[1]=$ub_twin:$dns_port
t0=$(date +%s%N)
"$stsmap" scan --db "$tmp/s.lmdb" "${opts[@]}" --quiet --https-timeout 4000 \
	"$w/domains.txt" 2>"$tmp/scan.log" || { cat "$tmp/scan.log"; die "scan failed"; }
echo "catalog scan through the delayed hierarchy: $((($(date +%s%N) - t0) / 1000000)) ms"
"$stsmap" export --db "$tmp/s.lmdb" >"$tmp/s.jsonl"
check "through the delayed hierarchy every verdict and finding equals the truth" \
	python3 "$here/../scan/compare_truth.py" "$w/truth.jsonl" "$tmp/s.jsonl"

# 5. RRL behind the relay: dns02 (127.20.3.1) at its twin 127.120.3.1.
rrl_zone=$(awk '$2 == "dns02" { print $1; exit }' "$w/hier/zones.txt")
free_zone=$(awk '$2 == "dns01" { print $1; exit }' "$w/hier/zones.txt")
python3 "$here/rrl_flood.py" 127.120.3.1 53 "$rrl_zone" 300 >"$tmp/rrl.txt"
python3 "$here/rrl_flood.py" 127.120.2.1 53 "$free_zone" 300 >"$tmp/free.txt"
echo "flood through the relay at dns02 (RRL $rate/s): $(cat "$tmp/rrl.txt"); at dns01: $(cat "$tmp/free.txt")"
read -r _ _ _ full _ tc _ drop <"$tmp/rrl.txt"
check "RRL through the relay: at most 3 s of rate answered in full ($full <= $((3 * rate)))" [ "$full" -le $((3 * rate)) ]
check "RRL through the relay: some answers truncated (slip), $tc" [ "$tc" -gt 0 ]
check "RRL through the relay: some answers dropped, $drop" [ "$drop" -gt 0 ]
check "NSD of dns02 logs the rate limit" grep -q 'ratelimit block' "$w/run/hier/nsd-dns02.log"
read -r _ _ _ full _ tc _ drop <"$tmp/free.txt"
check "no RRL on dns01: all 300 answered in full through the relay ($full, $tc truncated)" \
	[ "$full" -eq 300 -a "$tc" -eq 0 ]

world_stop
check "world-down left no server of the world running (the relay neither)" \
	sh -c "! ps -eo args | grep -F '$w/' | grep -v grep | grep -q ."
finish
