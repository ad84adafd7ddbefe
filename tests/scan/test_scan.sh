#!/usr/bin/env bash
# End to end: serve the catalog world, scan it with `stsmap scan`, and
# require every domain's sender verdict and findings to equal the ground
# truth the generator wrote (truth.jsonl) - without and with --probe-mx.
# Then the inputs: the same domains as a ranked CSV with CRLF, comments,
# bad lines and an IDN name, gzip-compressed, and as a zone file.
#
# Usage: test_scan.sh PATH/TO/stsmap      Exit 77 when servers are missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
world_need_tools
lib_tmpdir scan
w=$tmp/w
world_serve "$w"
read -r -a opts <<<"$(world_scan_opts "$w")"
ndom=$(wc -l <"$w/domains.txt")

# 1. The catalog, without probes.
t0=$(date +%s%N)
"$stsmap" scan --db "$tmp/s.lmdb" "${opts[@]}" --quiet --https-timeout 4000 \
	"$w/domains.txt" 2>"$tmp/scan.log" || { cat "$tmp/scan.log"; die "scan failed"; }
echo "catalog scan: $ndom domains in $((($(date +%s%N) - t0) / 1000000)) ms"
"$stsmap" export --db "$tmp/s.lmdb" >"$tmp/s.jsonl"
check "export has one line per domain ($ndom)" \
	[ "$(wc -l <"$tmp/s.jsonl")" -eq "$ndom" ]
check "every verdict and finding equals the truth" \
	python3 "$here/compare_truth.py" "$w/truth.jsonl" "$tmp/s.jsonl"
check "every certificate name equals the world's certificates" \
	python3 "$here/compare_certs.py" "$w" "$tmp/s.jsonl"
check "scan summary names the verdicts" grep -q 'enforce-ok' "$tmp/scan.log"
check "show prints a stored record" \
	sh -c "'$stsmap' show --db '$tmp/s.lmdb' enforce-ok.test | grep -q 'enforce-ok'"
check "show --json prints one object" \
	sh -c "'$stsmap' show --db '$tmp/s.lmdb' --json enforce-ok.test | python3 -c 'import json,sys; json.load(sys.stdin)'"
check "the same command after a finished scan starts a new scan" \
	sh -c "'$stsmap' scan --db '$tmp/s.lmdb' ${opts[*]} '$w/domains.txt' 2>&1 | grep -q 'starting scan 2'"

# 2. With --probe-mx, when the world serves its MX hosts (Postfix, root).
if [ -f "$w/run/postfix.pid" ]; then
	"$stsmap" scan --db "$tmp/p.lmdb" "${opts[@]}" --quiet --probe-mx \
		--smtp-timeout 5000 --https-timeout 4000 "$w/domains.txt" \
		2>"$tmp/probe.log" || { cat "$tmp/probe.log"; die "probe scan failed"; }
	"$stsmap" export --db "$tmp/p.lmdb" >"$tmp/p.jsonl"
	check "with --probe-mx every verdict and finding equals the truth" \
		python3 "$here/compare_truth.py" --probe "$w/truth.jsonl" "$tmp/p.jsonl"
else
	world_no_postfix "$w" "--probe-mx part"
fi

# 3. check DOMAIN: live, with the fix for a broken policy.
"$stsmap" check "${opts[@]}" --https-timeout 4000 policy-mode-case.test \
	>"$tmp/check-cmd.out" 2>&1 || true
check "check prints the verdict" grep -q '^policy-mode-case.test: policy-invalid' "$tmp/check-cmd.out"
check "check suggests a corrected TXT record and policy" \
	grep -q 'Suggested fix' "$tmp/check-cmd.out"
check "check refuses a malformed name" \
	sh -c "! '$stsmap' check 'bad..name' >/dev/null 2>&1"

# 4. Inputs: ranked CSV, CRLF, comments, bad lines, IDN, gzip; zone file.
{
	printf 'rank,domain\r\n'
	awk '{ printf "%d,%s\r\n", NR, toupper($1) }' "$w/domains.txt"
	printf '%d,bad..name\r\n' "$((ndom + 1))"
	printf '%d,b\xc3\xbccher.test\r\n' "$((ndom + 2))"
	printf '%d,-leading.test\r\n' "$((ndom + 3))"
	printf '%d,%s\r\n' "$((ndom + 4))" "$(head -1 "$w/domains.txt")"
} | gzip >"$tmp/ranked.csv.gz"
"$stsmap" scan --db "$tmp/r.lmdb" "${opts[@]}" --https-timeout 4000 \
	"$tmp/ranked.csv.gz" 2>"$tmp/r.log" || { cat "$tmp/r.log"; die "ranked scan failed"; }
"$stsmap" export --db "$tmp/r.lmdb" >"$tmp/r.jsonl"
check "ranked gzip CSV: every domain once, IDN name added ($((ndom + 1)))" \
	[ "$(wc -l <"$tmp/r.jsonl")" -eq "$((ndom + 1))" ]
check "ranked gzip CSV: ranks kept" \
	python3 -c "
import json,sys
recs=[json.loads(l) for l in open('$tmp/r.jsonl')]
first=open('$w/domains.txt').readline().strip()
r={x['domain']:x['rank'] for x in recs}
sys.exit(0 if r[first]==1 and all(v>0 for v in r.values()) and r.get('xn--bcher-kva.test')==$((ndom + 2)) else 1)"
check "ranked gzip CSV: the two bad lines are counted" \
	grep -q ' 2 bad input lines' "$tmp/r.log"
check "ranked gzip CSV: verdicts equal the truth" \
	python3 "$here/compare_truth.py" --subset "$w/truth.jsonl" "$tmp/r.jsonl"
{
	printf '$ORIGIN test.\n$TTL 3600\n'
	printf '@ IN SOA ns.test. admin.test. ( 1 7200 3600 1209600 3600 )\n'
	printf '@ IN NS ns.test.\n'
	sed 's/\.test$//' "$w/domains.txt" | awk '{ print $1 " IN NS ns1." $1 ".test."; print $1 " IN NS ns2." $1 ".test." }'
} >"$tmp/test.zone"
"$stsmap" scan --db "$tmp/z.lmdb" "${opts[@]}" --quiet --https-timeout 4000 \
	"$tmp/test.zone" 2>"$tmp/z.log" || { cat "$tmp/z.log"; die "zone scan failed"; }
"$stsmap" export --db "$tmp/z.lmdb" >"$tmp/z.jsonl"
check "zone file: every delegation scanned once, the apex not" \
	[ "$(wc -l <"$tmp/z.jsonl")" -eq "$ndom" ]

world_stop
check "world-down left no server of the world running" \
	sh -c "! ps -eo args | grep -F '$w/' | grep -v grep | grep -q ."
finish
