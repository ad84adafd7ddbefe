#!/usr/bin/env bash
# A slow input never blocks the loop: serve the catalog world and feed
# `stsmap scan -` from a pipe that stays open 15 s after the last name
# ((cat list; sleep 15) | stsmap scan -).
#  1. every listed domain's result is committed (seen by `stsmap export`
#     from another process) well before the end of the input, and equals
#     the truth; the scan then finishes at the end of the input;
#  2. the same through gzip: the names of a complete gzip member are
#     scanned while the pipe stays open;
#  3. SIGINT while the pipe is silent ends the scan within 2 s (exit 130,
#     resumable), and the same command resumes that scan and finishes it.
#
# Usage: test_slow_input.sh PATH/TO/stsmap     Exit 77 when servers are missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
world_need_tools
lib_tmpdir slow
w=$tmp/w
world_serve "$w"
read -r -a opts <<<"$(world_scan_opts "$w")"
opts+=(--https-timeout 4000 --quiet)
ndom=$(wc -l <"$w/domains.txt")
hold=15   # seconds the pipe stays open after the last name
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# start_scan DB FEEDER-CMD: the scan reads a FIFO the feeder writes
# (the feeder ends in `exec sleep`, so killing it closes the pipe).
# Sets scan_pid, feed_pid and t_start.
start_scan() {
	local db=$1 fifo=$tmp/fifo.$RANDOM
	shift
	mkfifo "$fifo"
	"$stsmap" scan --db "$db" "${opts[@]}" - <"$fifo" 2>"$db.log" &
	scan_pid=$!
	t_start=$(now_ms)
	# The feeder opens the FIFO itself, so this shell never holds it.
	spawn bash -c "exec >'$fifo' 2>/dev/null; $1; exec sleep $hold"
	feed_pid=$spawned
}

# wait_results DB N LIMIT_MS: poll `stsmap export` (another process) until
# it has N lines; prints the milliseconds since t_start, fails after
# LIMIT_MS.
wait_results() {
	local db=$1 n=$2 limit=$3 got
	while :; do
		got=$("$stsmap" export --db "$db" 2>/dev/null | wc -l || true)
		if [ "$got" -ge "$n" ]; then
			echo $(($(now_ms) - t_start))
			return 0
		fi
		if [ $(($(now_ms) - t_start)) -gt "$limit" ]; then
			echo "only $got of $n results after $limit ms" >&2
			return 1
		fi
		sleep 0.2
	done
}

# 1. Plain list; results committed before the end of the input.
start_scan "$tmp/a.lmdb" "cat '$w/domains.txt'"
if ms=$(wait_results "$tmp/a.lmdb" "$ndom" $(((hold - 5) * 1000))); then
	ok "all $ndom results committed ${ms} ms after the input started, the pipe open for ${hold} s"
else
	bad "results committed before the end of the input"
fi
"$stsmap" export --db "$tmp/a.lmdb" >"$tmp/a.jsonl" || true
check "the results read during the stall equal the truth" \
	python3 "$here/compare_truth.py" "$w/truth.jsonl" "$tmp/a.jsonl"
rc=0
wait "$scan_pid" || rc=$?
t_end=$(($(now_ms) - t_start))
check "the scan finishes at the end of the input (exit 0)" [ "$rc" -eq 0 ]
check "the scan waited for the end of the input (${t_end} ms)" \
	[ "$t_end" -ge $(((hold - 1) * 1000)) ]
check "the scan is marked finished" grep -q "finished" "$tmp/a.lmdb.log"

# 2. The same through gzip over the pipe.
start_scan "$tmp/g.lmdb" "gzip -c '$w/domains.txt'"
if ms=$(wait_results "$tmp/g.lmdb" "$ndom" $(((hold - 5) * 1000))); then
	ok "gzip over a pipe: all $ndom results committed after ${ms} ms"
else
	bad "gzip over a pipe: results committed before the end of the input"
fi
kill "$feed_pid" 2>/dev/null || true
rc=0
wait "$scan_pid" || rc=$?
check "gzip over a pipe: the scan finishes once the pipe closes" [ "$rc" -eq 0 ]

# 3. SIGINT during the silence: a prompt, resumable stop.
start_scan "$tmp/i.lmdb" "cat '$w/domains.txt'"
wait_results "$tmp/i.lmdb" "$ndom" $(((hold - 5) * 1000)) >/dev/null ||
	bad "SIGINT case: results committed before the signal"
t_int=$(now_ms)
kill -INT "$scan_pid"
rc=0
wait "$scan_pid" || rc=$?
stop_ms=$(($(now_ms) - t_int))
echo "SIGINT to exit: ${stop_ms} ms"
check "SIGINT while the input is silent ends the scan within 2 s (${stop_ms} ms)" \
	[ "$stop_ms" -lt 2000 ]
check "an interrupted scan exits 130" [ "$rc" -eq 130 ]
check "an interrupted scan says it can be resumed" \
	grep -q "stopped (resumable)" "$tmp/i.lmdb.log"
kill "$feed_pid" 2>/dev/null || true
"$stsmap" scan --db "$tmp/i.lmdb" "${opts[@]}" - <"$w/domains.txt" \
	2>"$tmp/i2.log" || { cat "$tmp/i2.log"; bad "the resumed scan failed"; }
check "the same command resumes the interrupted scan" \
	grep -q "resuming scan 1" "$tmp/i2.log"
check "the resumed scan finishes" grep -q "scan 1 finished" "$tmp/i2.log"
"$stsmap" export --db "$tmp/i.lmdb" >"$tmp/i.jsonl" || true
check "after the resume every verdict and finding equals the truth" \
	python3 "$here/compare_truth.py" "$w/truth.jsonl" "$tmp/i.jsonl"

finish
