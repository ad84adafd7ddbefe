#!/usr/bin/env bash
# The store's rules seen from the command line (DESIGN §5, issue 12):
# one writer per store, a damaged or foreign file is an error naming it
# (never a SIGBUS), reads create no file, merge refuses mixed opt-out
# lists and an existing OUT.  No network: every scanned name is excluded
# (or the scan is refused before it starts), so the dead --resolver below
# is never asked anything.
# Usage: test_store_cli.sh PATH/TO/stsmap PATH/TO/ds_store_count
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary bin stsmap "${1:-}"
need_binary count ds_store_count "${2:-}"
lib_tmpdir store-cli

# run CMD...: status in $rc, stderr in $tmp/err.
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
want_rc() { if [ "$rc" -eq "$1" ]; then ok; else bad "$2: exit $rc, want $1"; sed 's/^/  | /' "$tmp/err"; fi; }
want_err() { if grep -qE -- "$1" "$tmp/err"; then ok; else bad "$2: no '$1' in:"; sed 's/^/  | /' "$tmp/err"; fi; }
no_file() { if [ ! -e "$1" ]; then ok; else bad "$2: $1 was created"; fi; }

printf 'a.test\nb.test\n' >"$tmp/list"
printf 'a.test\nb.test\n' >"$tmp/excl"
printf 'a.test\n' >"$tmp/excl-other"
scan() { "$bin" scan --quiet --resolver 127.0.0.1:1 --exclude "$tmp/excl" "$@"; }

# --- one writer per store ----------------------------------------------------
db=$tmp/one.lmdb
run scan --db "$db" "$tmp/list"
want_rc 0 "a scan of excluded names"
# A first scan that keeps the store while its stdin stays open.
(printf 'a.test\n'; sleep 6) | scan --db "$db" --new - 2>"$tmp/first.err" &
stop_on_exit $!
wait_until 5 test -e "$db-writer"
run scan --db "$db" --new "$tmp/list"
if [ "$rc" -ne 0 ]; then ok; else bad "second writer exited 0"; fi
want_err "store is in use by pid [0-9]+ since [0-9]+ \(stsmap scan .*--new -\)" "second writer names the holder"
# Any process holding the file's lock keeps a writer out (the lock is the
# kernel's: no stale state once the holder is gone).
flock "$tmp/list" true # flock(1) is there
db2=$tmp/held.lmdb
run scan --db "$db2" "$tmp/list"
flock "$db2" sleep 4 &
stop_on_exit $!
sleep 0.3
run scan --db "$db2" "$tmp/list"
want_rc 1 "writer while the file is locked"
want_err "store is in use" "writer while the file is locked"

# --- damaged and foreign files -----------------------------------------------
cp "$db" "$tmp/trunc.lmdb"
size=$(stat -c %s "$tmp/trunc.lmdb")
if [ "$size" -gt 8192 ]; then ok; else bad "store only $size bytes"; fi
truncate -s 8192 "$tmp/trunc.lmdb"
for c in report "show a.test" "export --format csv"; do
	run "$bin" $c --db "$tmp/trunc.lmdb"
	want_rc 1 "$c on a truncated store (135 is SIGBUS)"
	want_err "damaged store: " "$c on a truncated store"
done
run scan --db "$tmp/trunc.lmdb" "$tmp/list"
want_rc 1 "scan into a truncated store"
want_err "damaged store: " "scan into a truncated store"

printf 'root:x:0:0:root:/root:/bin/sh\n' >"$tmp/passwd"
for c in report "show a.test" "export --format csv"; do
	run "$bin" $c --db "$tmp/passwd"
	want_rc 1 "$c on a file that is not a store"
	want_err "not an stsmap store" "$c on a file that is not a store"
	no_file "$tmp/passwd-lock" "$c on a file that is not a store"
	run "$bin" $c --db "$tmp/missing.lmdb"
	want_rc 1 "$c on a missing path"
	no_file "$tmp/missing.lmdb-lock" "$c on a missing path"
	no_file "$tmp/missing.lmdb" "$c on a missing path"
done
# A store copied without its lock file is read without creating one.
cp "$db" "$tmp/copy.lmdb"
run "$bin" report --db "$tmp/copy.lmdb"
want_rc 0 "report on a store copied without -lock"
no_file "$tmp/copy.lmdb-lock" "report on a copied store"

# --- merge --------------------------------------------------------------------
scan --db "$tmp/s0.lmdb" --shard 0/2 "$tmp/list" 2>/dev/null
"$bin" scan --quiet --resolver 127.0.0.1:1 --exclude "$tmp/excl" --shard 1/2 \
	--db "$tmp/s1.lmdb" "$tmp/list" 2>/dev/null
cp "$tmp/excl" "$tmp/excl2"
"$bin" scan --quiet --resolver 127.0.0.1:1 --exclude "$tmp/excl2" --shard 1/2 \
	--db "$tmp/s1x.lmdb" "$tmp/list" 2>/dev/null
run "$bin" merge "$tmp/m.lmdb" "$tmp/s0.lmdb" "$tmp/s1x.lmdb"
want_rc 1 "merge of shards with different --exclude"
want_err "different --exclude lists" "merge of shards with different --exclude"
no_file "$tmp/m.lmdb" "refused merge"
run "$bin" merge --allow-mixed-exclude "$tmp/m.lmdb" "$tmp/s0.lmdb" "$tmp/s1x.lmdb"
want_rc 0 "merge --allow-mixed-exclude"
run "$bin" merge "$tmp/m.lmdb" "$tmp/s0.lmdb" "$tmp/s1.lmdb"
want_rc 1 "merge into an existing OUT"
want_err "exists; --append" "merge into an existing OUT"
run "$bin" merge --append "$tmp/m.lmdb" "$tmp/s0.lmdb" "$tmp/s1.lmdb"
want_rc 0 "merge --append"
want_err "scan 2 in " "merge --append adds scan 2"

# --- counters equal the records after an error exit --------------------------
# A gzip input cut short: the scan stops with an error; every bad line it
# stored is counted in the scan's counter, and every result too.
for i in $(seq 3000); do echo "bad..name$i"; echo "-x$i-.test"; done | gzip >"$tmp/g.gz"
head -c 9000 "$tmp/g.gz" >"$tmp/cut.gz"
run scan --db "$tmp/g.lmdb" "$tmp/cut.gz"
if [ "$rc" -ne 0 ]; then ok; else bad "scan of a truncated gzip exited 0"; fi
if [ -s "$tmp/g.lmdb" ]; then
	read -r _ rc_n rr_n _ ic_n ir_n < <("$count" "$tmp/g.lmdb")
	if [ "${rc_n:-x}" = "${rr_n:-y}" ] && [ "${ic_n:-x}" = "${ir_n:-y}" ] &&
	   [ "${ir_n:-0}" -gt 0 ]; then ok; else
		bad "counters vs records after an error exit: results $rc_n/$rr_n, input errors $ic_n/$ir_n"; fi
else
	ok # refused before any scan was created: nothing to disagree
fi

wait
echo "test_store_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
