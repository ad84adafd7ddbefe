#!/usr/bin/env bash
# The world as a delegation hierarchy (stsmap world --hierarchy, world-up
# --hierarchy): a scan of the catalog through a recursive Unbound that
# iterates from the world's root reaches the ground truth (truth.jsonl,
# the same file as for the flat world), with --probe-mx too when Postfix
# runs (its mx-tls.dnssec rows need the chain of trust from the root);
# Unbound's infrastructure cache shows it asked the root, the TLD and
# every provider's servers; NSD's response rate limiting on one provider
# truncates and drops a flood while another provider answers all of it.
#
# Usage: test_hier.sh PATH/TO/stsmap   Needs root (port 53, Postfix).
set -euo pipefail

stsmap=${1:?usage: test_hier.sh STSMAP}
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
world_need_tools
[ "$(id -u)" -eq 0 ] || die "needs root: the hierarchy's servers listen on port 53"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stsmap-hier.XXXXXX")
w=$tmp/w
rate=5

chmod o+x "$tmp"
"$stsmap" world --out "$w" --dns-port "$dns_port" --https-port "$https_port" \
	--smtp-port "$smtp_port" --hierarchy --dns-providers 4 >"$tmp/gen.log" 2>&1 ||
	die "stsmap world --hierarchy failed: $(cat "$tmp/gen.log")"
check "servers.txt: root, tld and 4 providers" \
	[ "$(grep -vc '^#' "$w/hier/servers.txt")" -eq 6 ]
served+=("$w")
t0=$(date +%s%N)
"$scripts/world-up" --hierarchy --rrl "dns02=$rate" "$w" >"$tmp/up.log" 2>&1 ||
	die "world-up --hierarchy failed: $(tail -20 "$tmp/up.log")"
echo "world-up --hierarchy: $((($(date +%s%N) - t0) / 1000000)) ms"
ctl=(unbound-control -c "$w/run/unbound.conf")
check "Unbound has no stub zone, root hints and the root's trust anchor" \
	sh -c "! grep -q stub-zone '$w/run/unbound.conf' &&
		grep -q 'root-hints:' '$w/run/unbound.conf' &&
		grep -Eq '^\.[[:space:]].*DS' '$w/run/hier/root.ds'"

# 1. The catalog through the hierarchy equals the truth.
read -r -a opts <<<"$(world_scan_opts "$w")"
ndom=$(wc -l <"$w/domains.txt")
t0=$(date +%s%N)
"$stsmap" scan --db "$tmp/s.lmdb" "${opts[@]}" --quiet --https-timeout 4000 \
	"$w/domains.txt" 2>"$tmp/scan.log" || { cat "$tmp/scan.log"; die "scan failed"; }
echo "catalog scan through the hierarchy: $ndom domains in $((($(date +%s%N) - t0) / 1000000)) ms"
"$stsmap" export --db "$tmp/s.lmdb" >"$tmp/s.jsonl"
check "through the hierarchy every verdict and finding equals the truth" \
	python3 "$here/../scan/compare_truth.py" "$w/truth.jsonl" "$tmp/s.jsonl"
if [ -f "$w/run/postfix.pid" ]; then
	t0=$(date +%s%N)
	"$stsmap" scan --db "$tmp/p.lmdb" "${opts[@]}" --quiet --probe-mx \
		--smtp-timeout 5000 --https-timeout 4000 "$w/domains.txt" \
		2>"$tmp/probe.log" || { cat "$tmp/probe.log"; die "probe scan failed"; }
	echo "catalog scan --probe-mx through the hierarchy: $((($(date +%s%N) - t0) / 1000000)) ms"
	"$stsmap" export --db "$tmp/p.lmdb" >"$tmp/p.jsonl"
	check "with --probe-mx (DANE, DNSSEC from the root) every verdict equals the truth" \
		python3 "$here/../scan/compare_truth.py" --probe "$w/truth.jsonl" "$tmp/p.jsonl"
	[ "$fail" -eq 0 ] || "$stsmap" show --db "$tmp/p.lmdb" enforce-ok.test | grep -i -A3 'mx' | head -20
else
	bad "Postfix did not start: $(cat "$w/run/postfix.skipped" 2>/dev/null)"
fi

# 2. The iteration, seen in Unbound's infrastructure cache ("ADDR ZONE
# ttl ... rtt ...": a server Unbound asked for a zone).
"${ctl[@]}" dump_infra >"$tmp/infra.txt"
check "Unbound asked a root server for ." grep -Eq '^127\.20\.0\.[12] \. ' "$tmp/infra.txt"
check "Unbound asked a TLD server for test." grep -Eq '^127\.20\.1\.[12] test\. ' "$tmp/infra.txt"
check "Unbound asked no server but the hierarchy's (and the dead one of broken.test)" \
	sh -c "! grep -Ev '^127\.20\.|^127\.5\.0\.1 ' '$tmp/infra.txt' | grep -q ."
while read -r zone srv _; do
	case $zone in '#'* | '') continue ;; esac
	[ "$srv" = tld ] || [ "$srv" = root ] && continue
	addrs=$(awk -v s="$srv" '$1 == s { print $2 "|" $3 }' "$w/hier/servers.txt")
	check "Unbound asked $srv ($addrs) for its zone $zone" \
		grep -Eq "^($(echo "$addrs" | sed 's/\./\\./g')) $(echo "$zone" | sed 's/\./\\./g') " "$tmp/infra.txt"
done < <(awk '!seen[$2]++' "$w/hier/zones.txt")
"${ctl[@]}" lookup enforce-ok.test >"$tmp/lookup.txt"
check "Unbound's delegation for enforce-ok.test is its provider's" \
	grep -q "ns1.$(awk '$1 == "enforce-ok.test." { print $2 }' "$w/hier/zones.txt").test." "$tmp/lookup.txt"

# 3. RRL: a flood of one query at dns02 (rate $rate) is cut, dns01 answers all.
rrl_zone=$(awk '$2 == "dns02" { print $1; exit }' "$w/hier/zones.txt")
free_zone=$(awk '$2 == "dns01" { print $1; exit }' "$w/hier/zones.txt")
python3 "$here/rrl_flood.py" 127.20.3.1 53 "$rrl_zone" 300 >"$tmp/rrl.txt"
python3 "$here/rrl_flood.py" 127.20.2.1 53 "$free_zone" 300 >"$tmp/free.txt"
echo "flood at dns02 (RRL $rate/s): $(cat "$tmp/rrl.txt"); at dns01: $(cat "$tmp/free.txt")"
read -r _ _ _ full _ tc _ drop <"$tmp/rrl.txt"
check "RRL: at most 3 s of rate answered in full ($full <= $((3 * rate)))" [ "$full" -le $((3 * rate)) ]
check "RRL: some answers truncated (slip), $tc" [ "$tc" -gt 0 ]
check "RRL: some answers dropped, $drop" [ "$drop" -gt 0 ]
read -r _ _ _ full _ tc _ drop <"$tmp/free.txt"
check "no RRL on dns01: all 300 answered in full ($full, $tc truncated)" [ "$full" -eq 300 -a "$tc" -eq 0 ]
check "NSD of dns02 logs the rate limit" grep -q 'ratelimit block' "$w/run/hier/nsd-dns02.log"

world_stop
check "world-down left no server of the world running" \
	sh -c "! ps -eo args | grep -F '$w/' | grep -v grep | grep -q ."
finish
