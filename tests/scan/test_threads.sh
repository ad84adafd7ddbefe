#!/usr/bin/env bash
# --threads N (sc_threads.h): N engines on N event loops, one store writer.
#  - the catalog world scanned with --threads 1, 2 and 4 (and 1 and 4
#    with --probe-mx when the world serves its MX hosts): every verdict and
#    finding equals the ground truth, and the three stores hold the same
#    records, field by field but for timings;
#  - a bulk world the same way (the truth's verdicts and findings, and
#    1 = 2 = 4 record by record);
#  - --threads 2 killed with SIGKILL three times and resumed: each domain
#    exactly once, equal to the uninterrupted scan; SIGINT stops every
#    thread (exit 130, "stopped (resumable)") and the rerun completes it;
#  - the summary and the scan info count all threads' results;
#  - --qps and the in-flight caps are per scan: --threads 4 with --qps 2
#    runs 2 threads.
# Usage: test_threads.sh PATH/TO/stsmap [N_BULK]   Exit 77 without servers.
set -euo pipefail

nbulk=${2:-3000}
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
world_need_tools
lib_tmpdir threads

# A store's records as canonical JSON, one a line, sorted by domain,
# without what differs between two runs of the same scan: when it was
# measured and how long it took (time, fetch_ms, duration_ms, the seconds
# left of a certificate and curl's "after N ms" in a finding's detail:
# the finding itself is compared), and the order of
# the RRs of one answer (Unbound rotates it: RFC 2181 §5 "the order of
# RRs in a set is not significant"), so the MX hosts, the TXT strings and
# the findings that follow them are compared as sets.
canon() {
	"$stsmap" export --db "$1" | python3 -c '
import json, re, sys
DROP = {"time", "duration_ms", "fetch_ms"}
AS_SET = {"mx", "sts_txt", "tlsrpt_txt", "findings"}
def strip(v):
    if isinstance(v, dict):
        return {k: (sorted((strip(x) for x in v[k]), key=json.dumps)
                    if k in AS_SET and isinstance(v[k], list) else strip(v[k]))
                for k in v if k not in DROP}
    if isinstance(v, list):
        return [strip(x) for x in v]
    if isinstance(v, str):
        v = re.sub(r"expires in [0-9]+ s", "expires in N s", v)
        return re.sub(r"[0-9]+ (ms|milliseconds)", r"N \1", v)
    return v
rows = [json.loads(l) for l in sys.stdin]
for r in sorted(rows, key=lambda r: r["domain"]):
    print(json.dumps(strip(r), sort_keys=True))
'
}

# scan_threads N DB LOG options... : one scan with --threads N.
scan_threads() {
	local n=$1 db=$2 log=$3
	shift 3
	"$stsmap" scan --db "$db" --threads "$n" "$@" 2>"$log" ||
		{ cat "$log"; die "scan with --threads $n failed"; }
}

# same_stores WHAT DB1 DB2: the same records, field by field.
same_stores() {
	canon "$2" >"$2.canon"
	canon "$3" >"$3.canon"
	check "$1" diff_head "$2.canon" "$3.canon"
}
# Equal files, or the first records that differ and in which fields.
diff_head() {
	cmp -s "$1" "$2" && return 0
	python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
print(f"{len(a)} and {len(b)} records")
shown = 0
for x, y in zip(a, b):
    if x != y and shown < 8:
        keys = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
        print(x.get("domain"), {k: (x.get(k), y.get(k)) for k in keys})
        shown += 1
' "$1" "$2" | cut -c1-400
	return 1
}

# 1. The catalog.
w=$tmp/cat
world_serve "$w"
read -r -a opts <<<"$(world_scan_opts "$w")"
opts+=(--quiet --https-timeout 4000)
ndom=$(wc -l <"$w/domains.txt")
for n in 1 2 4; do
	scan_threads "$n" "$tmp/cat$n.lmdb" "$tmp/cat$n.log" "${opts[@]}" "$w/domains.txt"
	"$stsmap" export --db "$tmp/cat$n.lmdb" >"$tmp/cat$n.jsonl"
	check "catalog, --threads $n: every verdict and finding equals the truth" \
		python3 "$here/compare_truth.py" "$w/truth.jsonl" "$tmp/cat$n.jsonl"
	check "catalog, --threads $n: the summary counts every thread's results ($ndom)" \
		grep -q "scan 1 finished: $ndom results" "$tmp/cat$n.log"
done
check "catalog: --threads 2 and 4 say so" \
	grep -q "starting scan 1 .*(4 threads)" "$tmp/cat4.log"
same_stores "catalog: --threads 1 and 2 store the same records" "$tmp/cat1.lmdb" "$tmp/cat2.lmdb"
same_stores "catalog: --threads 1 and 4 store the same records" "$tmp/cat1.lmdb" "$tmp/cat4.lmdb"

if [ -f "$w/run/postfix.pid" ]; then
	for n in 1 4; do
		# The first probes of a fresh world wait for Postfix to spawn each
		# smtpd (TLS set-up and all, on a busy machine): a long timeout.
		scan_threads "$n" "$tmp/pcat$n.lmdb" "$tmp/pcat$n.log" "${opts[@]}" \
			--probe-mx --smtp-timeout 20000 "$w/domains.txt"
		"$stsmap" export --db "$tmp/pcat$n.lmdb" >"$tmp/pcat$n.jsonl"
		check "catalog --probe-mx, --threads $n: every verdict and finding equals the truth" \
			python3 "$here/compare_truth.py" --probe "$w/truth.jsonl" "$tmp/pcat$n.jsonl"
	done
	same_stores "catalog --probe-mx: --threads 1 and 4 store the same records" \
		"$tmp/pcat1.lmdb" "$tmp/pcat4.lmdb"
else
	world_no_postfix "$w" "--probe-mx part"
fi

# Per scan, not per thread: a qps of 2 leaves room for 2 threads only.
printf 'enforce-ok.test\nnone-mode.test\n' >"$tmp/two.txt"
scan_threads 4 "$tmp/qps.lmdb" "$tmp/qps.log" "${opts[@]}" --qps 2 "$tmp/two.txt"
check "--threads 4 --qps 2 runs 2 threads (each one its share of the cap)" \
	grep -q "starting scan 1 .*(2 threads)" "$tmp/qps.log"
world_stop

# 2. A bulk world: record by record, and the truth.
w=$tmp/bulk
world_serve "$w" --domains "$nbulk" --seed 7
read -r -a opts <<<"$(world_scan_opts "$w" auth)"
opts+=(--quiet --https-timeout 3000)
for n in 1 2 4; do
	t0=$(date +%s%N)
	scan_threads "$n" "$tmp/bulk$n.lmdb" "$tmp/bulk$n.log" "${opts[@]}" "$w/domains.txt"
	echo "# bulk world, $nbulk domains, --threads $n: $((($(date +%s%N) - t0) / 1000000)) ms"
	"$stsmap" export --db "$tmp/bulk$n.lmdb" >"$tmp/bulk$n.jsonl"
	check "bulk, --threads $n: every verdict and finding equals the truth" \
		python3 "$here/compare_truth.py" "$w/truth.jsonl" "$tmp/bulk$n.jsonl"
done
same_stores "bulk: --threads 1 and 2 store the same records" "$tmp/bulk1.lmdb" "$tmp/bulk2.lmdb"
same_stores "bulk: --threads 1 and 4 store the same records" "$tmp/bulk1.lmdb" "$tmp/bulk4.lmdb"
check "bulk: the scan info counts every thread's results" \
	sh -c "'$stsmap' report --db '$tmp/bulk4.lmdb' --format json |
		python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if \"$nbulk\" in json.dumps(r) else 1)'"

# 3. Kills and resume with --threads 2; SIGINT stops every thread.
# Each run is held to --qps $kill_qps (about three questions a domain), so
# its length does not depend on the machine's speed, a warm cache or a
# sanitizer: three kills at 10-25% of the whole scan's length each leave
# at least a quarter of it for the last run.
kill_qps=$((nbulk * 3 * 1000 / 4000))
ms=$((nbulk * 3 * 1000 / kill_qps))
kills=0
runs=0
while :; do
	runs=$((runs + 1))
	"$stsmap" scan --db "$tmp/res.lmdb" --threads 2 "${opts[@]}" --batch 100 \
		--qps "$kill_qps" \
		"$w/domains.txt" 2>"$tmp/res.$runs.log" &
	pid=$!
	if [ "$kills" -lt 3 ] && [ "$runs" -lt 12 ]; then
		delay=$((ms * (10 + RANDOM % 15) / 100))
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid"
			kills=$((kills + 1))
			wait "$pid" 2>/dev/null || true
			continue
		fi
	fi
	wait "$pid" || { cat "$tmp/res.$runs.log"; die "resumed scan failed"; }
	break
done
check "--threads 2 was killed with SIGKILL 3 times ($kills)" [ "$kills" -eq 3 ]
"$stsmap" export --db "$tmp/res.lmdb" >"$tmp/res.jsonl"
check "killed and resumed (--threads 2): each domain exactly once ($nbulk)" \
	[ "$(python3 -c 'import json,sys; print(len({json.loads(l)["domain"] for l in open(sys.argv[1])}))' "$tmp/res.jsonl")" \
		-eq "$nbulk" -a "$(wc -l <"$tmp/res.jsonl")" -eq "$nbulk" ]
same_stores "killed and resumed (--threads 2): the same records as uninterrupted" \
	"$tmp/bulk1.lmdb" "$tmp/res.lmdb"

# SIGINT while every thread has work or waits for input: the input is
# stdin, a pipe held open, so the moment does not depend on the speed.
mkfifo "$tmp/fifo"
# (The background job opens the pipe itself: opened here, it would block.)
"$stsmap" scan --db "$tmp/int.lmdb" --threads 4 "${opts[@]}" - \
	<"$tmp/fifo" 2>"$tmp/int1.log" &
pid=$!
stop_on_exit "$pid"
exec 3>"$tmp/fifo"
head -n $((nbulk / 2)) "$w/domains.txt" >&3
stored() { [ "$("$stsmap" export --db "$tmp/int.lmdb" 2>/dev/null | wc -l)" -gt 0 ]; }
wait_until 60 stored || die "no result stored within 60 s"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
exec 3>&-
check "SIGINT stops --threads 4: exit 130 ($rc)" [ "$rc" -eq 130 ]
check "SIGINT stops --threads 4: stopped (resumable)" grep -q "stopped (resumable)" "$tmp/int1.log"
scan_threads 4 "$tmp/int.lmdb" "$tmp/int2.log" "${opts[@]}" - <"$w/domains.txt"
check "the rerun after SIGINT resumes the scan" grep -q "resuming scan 1 " "$tmp/int2.log"
check "the rerun after SIGINT finishes with every domain" \
	grep -q "scan 1 finished: $nbulk results" "$tmp/int2.log"
same_stores "interrupted and resumed (--threads 4): the same records" \
	"$tmp/bulk1.lmdb" "$tmp/int.lmdb"

world_stop
finish
