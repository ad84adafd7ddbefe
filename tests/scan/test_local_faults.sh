#!/usr/bin/env bash
# A local fault is never a finding (DESIGN §4, "Where a failure belongs").
# The catalog world scanned with --probe-mx while this machine runs short
# of file descriptors must give the truth for every domain it stores, and
# say in its exit status (3) and summary how many it could not measure;
# those are not stored, so running the command again measures them.
#
#   1. ulimit -n 64: the options are fitted to the limit at start-up
#      (--https-max, --smtp-max lowered, with a notice) and the scan gives
#      the truth, exit 0.
#   2. An impossible limit: refused at start-up, naming the limit.
#   3. The scan reads its input from stdin; once it is set up, its limit
#      is pulled down (prlimit) to the descriptors it holds, for 1.5 s:
#      sockets fail with EMFILE, the domains are retried after a backoff,
#      and the result is still the truth, exit 0.
#   4. The limit pulled down for good: exit 3, the summary names the
#      domains not measured, every stored record equals the truth, stored
#      + unmeasured = all; the same command again (resume) measures the
#      rest and the whole scan equals the truth.
#
# Usage: test_local_faults.sh PATH/TO/stsmap     Exit 77 when servers or
# prlimit are missing.  Without Postfix (needs root), --probe-mx is left
# out.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
world_need_tools
need_tools prlimit:util-linux
lib_tmpdir lf
w=$tmp/w
world_serve "$w"
read -r -a opts <<<"$(world_scan_opts "$w")"
ndom=$(wc -l <"$w/domains.txt")
probe=()
cmp=()
if [ -f "$w/run/postfix.pid" ]; then
	probe=(--probe-mx --smtp-timeout 5000)
	cmp=(--probe)
else
	world_no_postfix "$w" "--probe-mx"
fi
scan_opts=("${opts[@]}" --quiet "${probe[@]}" --https-timeout 4000)

# scan_limited LIMIT DB LOG: the scan under ulimit -n LIMIT (soft and
# hard), in the foreground; prints its exit status.
scan_limited() {
	local rc=0
	bash -c 'ulimit -n "$1"; shift; exec "$@"' _ "$1" "$stsmap" scan \
		--db "$2" "${scan_opts[@]}" "$w/domains.txt" 2>"$3" || rc=$?
	echo "$rc"
}

# squeezed SECONDS DB LOG: the scan of the catalog from stdin under
# ulimit -n 64; once it is set up (the resolver's sockets and curl's are
# open) its soft descriptor limit is lowered to the number it holds, so no
# new socket can be made while those are open, and only then does its
# input arrive.  After SECONDS it gets 64 back.  "forever": the limit is
# 3 for good, so no descriptor past stdin, stdout and stderr can ever be
# made, whatever closes (a policy fetch closes its connection when it
# ends, which frees a descriptor under a limit of the number held).
# Prints its exit status.
squeezed() {
	local secs=$1 db=$2 log=$3 go=$tmp/go.$$ pid n i rc=0
	rm -f "$go"
	{
		while [ ! -e "$go" ]; do sleep 0.01; done
		cat "$w/domains.txt"
	} | bash -c 'ulimit -n 64; exec "$@"' _ "$stsmap" scan --db "$db" \
		"${scan_opts[@]}" - 2>"$log" &
	pid=$!
	for i in $(seq 500); do
		n=$(find "/proc/$pid/fd" -lname 'socket:*' 2>/dev/null | wc -l)
		[ "$n" -ge 10 ] && break
		sleep 0.01
	done
	n=$(find "/proc/$pid/fd" -mindepth 1 2>/dev/null | wc -l)
	[ "$secs" != forever ] || n=3
	prlimit --pid "$pid" --nofile="$n:64" >&2 || true
	echo "# squeezed to $n descriptors" >&2
	touch "$go"
	if [ "$secs" != forever ]; then
		sleep "$secs"
		prlimit --pid "$pid" --nofile=64:64 2>/dev/null || true
	fi
	wait "$pid" || rc=$?
	echo "$rc"
}

# truth_of EXPORT: does every record of EXPORT equal the truth?
truth_of() {
	python3 "$here/compare_truth.py" "${cmp[@]}" "$w/truth.jsonl" "$1" "${@:2}"
}

# 1. Fitted to ulimit -n 64.
rc=$(scan_limited 64 "$tmp/a.lmdb" "$tmp/a.log")
check "ulimit -n 64: exit 0" [ "$rc" -eq 0 ]
check "ulimit -n 64: the options were fitted, with a notice" \
	grep -q 'descriptor limit (RLIMIT_NOFILE, ulimit -n) is 64 and the options need' "$tmp/a.log"
"$stsmap" export --db "$tmp/a.lmdb" >"$tmp/a.jsonl"
check "ulimit -n 64: one record per domain ($ndom)" \
	[ "$(wc -l <"$tmp/a.jsonl")" -eq "$ndom" ]
check "ulimit -n 64: every verdict and finding equals the truth" \
	truth_of "$tmp/a.jsonl"

# 2. Not even one fetch fits: refused before anything starts.
rc=$(scan_limited 40 "$tmp/x.lmdb" "$tmp/x.log")
check "ulimit -n 40: refused (exit 1)" [ "$rc" -eq 1 ]
check "ulimit -n 40: the message names the limit and the options" \
	grep -q 'descriptor limit (RLIMIT_NOFILE, ulimit -n) is 40; even --https-max 1' "$tmp/x.log"
check "ulimit -n 40: no store was created" [ ! -e "$tmp/x.lmdb" ]

# 3. A squeeze of 1.5 s in the middle of the scan: retried, the truth.
rc=$(squeezed 1.5 "$tmp/b.lmdb" "$tmp/b.log")
check "squeezed for 1.5 s: exit 0 (was $rc)" [ "$rc" -eq 0 ]
check "squeezed for 1.5 s: local errors were met and retried" \
	grep -Eq '^  [1-9][0-9]* local errors, 0 upstream errors, [1-9][0-9]* retries$' "$tmp/b.log"
"$stsmap" export --db "$tmp/b.lmdb" >"$tmp/b.jsonl"
check "squeezed for 1.5 s: one record per domain ($ndom)" \
	[ "$(wc -l <"$tmp/b.jsonl")" -eq "$ndom" ]
check "squeezed for 1.5 s: every verdict and finding equals the truth" \
	truth_of "$tmp/b.jsonl"
grep -E 'local errors' "$tmp/b.log" | sed 's/^ */# squeezed 1.5 s: /'

# 4. Squeezed for good: what cannot be measured is not stored.
rc=$(squeezed forever "$tmp/c.lmdb" "$tmp/c.log")
check "squeezed for good: exit 3, domains not measured (was $rc)" [ "$rc" -eq 3 ]
unmeasured=$(sed -n 's/.*; \([0-9]*\) domains NOT MEASURED.*/\1/p' "$tmp/c.log")
check "squeezed for good: the summary says how many were not measured" \
	[ "${unmeasured:-0}" -gt 0 ]
check "squeezed for good: the scan is left resumable" \
	grep -q 'incomplete (resumable)' "$tmp/c.log"
"$stsmap" export --db "$tmp/c.lmdb" >"$tmp/c.jsonl"
stored=$(wc -l <"$tmp/c.jsonl")
check "squeezed for good: stored ($stored) + not measured (${unmeasured:-?}) = $ndom" \
	[ "$((stored + ${unmeasured:-0}))" -eq "$ndom" ]
check "squeezed for good: every stored record equals the truth" \
	truth_of "$tmp/c.jsonl" --subset
grep -E 'local errors' "$tmp/c.log" | sed 's/^ */# squeezed for good: /'
check "squeezed for good: the scan's metadata counts them too" \
	python3 -c '
import json, sys
r = json.load(sys.stdin)
scan = r.get("scan", r)
meta = json.loads(scan["meta_json"])
p = meta["pass"]
assert p["unmeasured"] == int(sys.argv[1]) and p["local_errors"] > 0 \
	and p["retries"] > 0, p
' "${unmeasured:-0}" < <("$stsmap" report --db "$tmp/c.lmdb" --format json 2>/dev/null)
rc=0
bash -c 'ulimit -n 64; exec "$@"' _ "$stsmap" scan --db "$tmp/c.lmdb" \
	"${scan_opts[@]}" - <"$w/domains.txt" 2>"$tmp/c2.log" || rc=$?
check "the same command again: resumes the scan" grep -q 'resuming scan 1' "$tmp/c2.log"
check "the same command again: exit 0" [ "$rc" -eq 0 ]
"$stsmap" export --db "$tmp/c.lmdb" >"$tmp/c2.jsonl"
check "after the resume: one record per domain ($ndom)" \
	[ "$(wc -l <"$tmp/c2.jsonl")" -eq "$ndom" ]
check "after the resume: every verdict and finding equals the truth" \
	truth_of "$tmp/c2.jsonl"

finish
