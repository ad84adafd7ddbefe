#!/usr/bin/env bash
# Resume and shards on a served bulk world of 20,000 domains:
#  - a scan killed with SIGKILL at random moments (at least 5 times) and
#    resumed each time ends with exactly the records of an uninterrupted
#    scan: same domains, same verdicts and findings, none twice;
#  - 4 shard scans (--shard I/4) hold disjoint sets of domains whose union
#    is the full scan's.
# Usage: test_resume.sh PATH/TO/stsmap [N_DOMAINS]   Exit 77 without servers.
set -euo pipefail

n=${2:-20000}
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
world_need_tools
lib_tmpdir resume
w=$tmp/w
world_serve "$w" --domains "$n" --seed 42
read -r -a opts <<<"$(world_scan_opts "$w" auth)"
opts+=(--https-timeout 3000 --quiet)

# The key fields of an export, sorted: domain verdict codes...
keys() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["domain"], r["verdict"], " ".join(sorted(f["code"] for f in r["findings"])))
' "$1" | sort
}

t0=$(date +%s%N)
"$stsmap" scan --db "$tmp/ref.lmdb" "${opts[@]}" "$w/domains.txt" 2>"$tmp/ref.log" ||
	{ cat "$tmp/ref.log"; die "reference scan failed"; }
ms=$((($(date +%s%N) - t0) / 1000000))
echo "uninterrupted scan of $n domains: $ms ms"
"$stsmap" export --db "$tmp/ref.lmdb" >"$tmp/ref.jsonl"
keys "$tmp/ref.jsonl" >"$tmp/ref.keys"
check "uninterrupted scan stored every domain once" \
	[ "$(cut -d' ' -f1 "$tmp/ref.keys" | sort -u | wc -l)" -eq "$n" ]

# Kill at random moments spread over the expected run time.
kills=0
runs=0
while :; do
	runs=$((runs + 1))
	# Small batches: commits every few milliseconds, so a kill lands
	# between commits with some committed and some not.
	"$stsmap" scan --db "$tmp/res.lmdb" "${opts[@]}" --batch 200 \
		"$w/domains.txt" 2>"$tmp/res.$runs.log" &
	pid=$!
	if [ "$kills" -lt 5 ]; then
		# between 3% and 15% of an uninterrupted run, so that five
		# kills always come before the work runs out
		delay=$((ms * (3 + RANDOM % 13) / 100))
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid"
			kills=$((kills + 1))
			wait "$pid" 2>/dev/null || true
			echo "# run $runs killed after ${delay} ms," \
				"$("$stsmap" export --db "$tmp/res.lmdb" 2>/dev/null | wc -l) results committed"
			continue
		fi
	fi
	wait "$pid" || { cat "$tmp/res.$runs.log"; die "resumed scan failed"; }
	break
done
check "the scan was killed with SIGKILL at least 5 times ($kills)" [ "$kills" -ge 5 ]
starts=$(cat "$tmp"/res.*.log | grep -c 'starting scan 1 ' || true)
others=$(cat "$tmp"/res.*.log | grep -E '(starting|resuming) scan' |
	grep -vc -e 'starting scan 1 ' -e 'resuming scan 1 ' || true)
check "one scan was started ($starts), every later run resumed it ($others others)" \
	[ "$starts" -eq 1 -a "$others" -eq 0 ]
"$stsmap" export --db "$tmp/res.lmdb" >"$tmp/res.jsonl"
keys "$tmp/res.jsonl" >"$tmp/res.keys"
check "resumed scan holds each domain exactly once ($n)" \
	[ "$(wc -l <"$tmp/res.keys")" -eq "$n" ]
check "resumed scan equals the uninterrupted one (domains, verdicts, findings)" \
	cmp -s "$tmp/ref.keys" "$tmp/res.keys"
if ! cmp -s "$tmp/ref.keys" "$tmp/res.keys"; then
	diff "$tmp/ref.keys" "$tmp/res.keys" | head -20
fi
check "the final run reports the full count" \
	grep -q "scan 1 finished: $n results" "$tmp/res.$runs.log"

# Shards.
for i in 0 1 2 3; do
	"$stsmap" scan --db "$tmp/shard$i.lmdb" --shard "$i/4" "${opts[@]}" \
		"$w/domains.txt" 2>"$tmp/shard$i.log" ||
		{ cat "$tmp/shard$i.log"; die "shard $i failed"; }
	"$stsmap" export --db "$tmp/shard$i.lmdb" >"$tmp/shard$i.jsonl"
	keys "$tmp/shard$i.jsonl" >"$tmp/shard$i.keys"
done
sort -m "$tmp"/shard?.keys >"$tmp/shards.keys"
check "4 shards together hold exactly the full scan's domains" \
	cmp -s <(cut -d' ' -f1 "$tmp/ref.keys") <(cut -d' ' -f1 "$tmp/shards.keys")
check "no domain is in two shards" \
	[ "$(cut -d' ' -f1 "$tmp/shards.keys" | sort | uniq -d | wc -l)" -eq 0 ]
check "shards agree with the full scan on every verdict" \
	cmp -s <(cut -d' ' -f1,2 "$tmp/ref.keys") <(cut -d' ' -f1,2 "$tmp/shards.keys")

world_stop
finish
