#!/usr/bin/env bash
# The store's rules seen from the command line (DESIGN §5, issue 12):
# one writer per store, a damaged or foreign file is an error naming it
# (never a SIGBUS), reads create no file, merge refuses mixed opt-out
# lists and an existing OUT.  No network: every scanned name is excluded
# (or the scan is refused before it starts), so the dead --resolver below
# is never asked anything.
# Merge compares the scans' typed fields and names the one that differs;
# a store of the previous scan info version (made by ds_store_v1) is still
# read by show, report, export and merge.  Real records come from a
# loopback DNS stub (tests/cli/dns_stub.py) answering NXDOMAIN.
# Usage: test_store_cli.sh PATH/TO/stsmap PATH/TO/ds_store_count PATH/TO/ds_store_v1
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary bin stsmap "${1:-}"
need_binary count ds_store_count "${2:-}"
need_binary to_v1 ds_store_v1 "${3:-}"
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

# --- merge compares typed fields, one refusal per field -----------------------
# s0/s1: shards 0 and 1 of the same scan; each f1<field> is shard 1 of a
# scan differing from s0 in one field only (every name excluded: no query).
mscan() { "$bin" scan --quiet --resolver 127.0.0.1:1 --exclude "$tmp/excl" "$@" 2>/dev/null; }
printf 'a.test\n' >"$tmp/list-other"
mscan --db "$tmp/f0p.lmdb" --shard 0/2 --probe-mx "$tmp/list"
mscan --db "$tmp/f1probe.lmdb" --shard 1/2 --probe-mx "$tmp/list"
mscan --db "$tmp/f1dane.lmdb" --shard 1/2 --probe-mx --dane "$tmp/list"
mscan --db "$tmp/f1fetch.lmdb" --shard 1/2 --fetch-all "$tmp/list"
mscan --db "$tmp/f1priv.lmdb" --shard 1/2 --allow-private "$tmp/list"
mscan --db "$tmp/f1fmt.lmdb" --shard 1/2 --format tranco "$tmp/list"
mscan --db "$tmp/f1in.lmdb" --shard 1/2 "$tmp/list-other"
# field, shard 0, shard 1, the refusal
refusals=(
	"probe-mx|s0|f1probe|differ in --probe-mx \(off, on\)"
	"dane|f0p|f1dane|differ in --dane \(off, on\)"
	"fetch-all|s0|f1fetch|differ in --fetch-all \(off, on\)"
	"allow-private|s0|f1priv|differ in --allow-private \(off, on\)"
	"format|s0|f1fmt|differ in --format \(auto, tranco\)"
	"inputs|s0|f1in|scanned different inputs \(SHA-256 [0-9a-f]{12}\.\.; SHA-256 [0-9a-f]{12}\.\.\)"
	"exclude|s0|s1x|different --exclude lists \($tmp/excl, $tmp/excl2\)"
)
check_refusals() { # suffix of the store files (""/"-v1")
	for row in "${refusals[@]}"; do
		IFS='|' read -r field a b want <<<"$row"
		rm -f "$tmp/mf.lmdb" "$tmp/mf.lmdb-lock"
		run "$bin" merge "$tmp/mf.lmdb" "$tmp/$a$1.lmdb" "$tmp/$b$1.lmdb"
		want_rc 1 "merge of shards differing in $field$1"
		want_err "$want" "merge of shards differing in $field$1"
		no_file "$tmp/mf.lmdb" "refused merge ($field$1)"
	done
}
check_refusals ""
# Shards equal in every field merge, and the merged scan keeps the fields:
# merging it with a shard of different options is refused in turn.
run "$bin" merge "$tmp/mp.lmdb" "$tmp/f0p.lmdb" "$tmp/f1probe.lmdb"
want_rc 0 "merge of shards scanned with the same --probe-mx"
run "$bin" merge "$tmp/mf.lmdb" "$tmp/mp.lmdb" "$tmp/m.lmdb"
want_rc 1 "merge of a merged --probe-mx scan with one without"
want_err "differ in --probe-mx \(on, off\)" "the merged scan keeps --probe-mx"

# --- an old store (scan info version 1) ----------------------------------------
# The same refusals when every store is of the previous version: the fields
# come from the metadata JSON version 1 kept them in.
for f in s0 s1x f0p f1probe f1dane f1fetch f1priv f1fmt f1in; do
	cp "$tmp/$f.lmdb" "$tmp/$f-v1.lmdb"
	"$to_v1" "$tmp/$f-v1.lmdb" || bad "ds_store_v1 $f"
done
check_refusals "-v1"
# Real records in an old store: show, report, export and merge read it.
stub=127.0.9.54
stub_port=${STSMAP_TEST_STORE_STUB_PORT:-5392}
spawn python3 "$here/dns_stub.py" "$stub" "$stub_port" 60
stub_pid=$spawned
wait_dns "$stub" "$stub_port" || die "the stub DNS server on $stub:$stub_port did not start"
printf 'a.test\nb.test\nc.test\nd.test\n' >"$tmp/four"
for i in 0 1; do
	run "$bin" scan --quiet --resolver "$stub:$stub_port" --shard $i/2 \
		--db "$tmp/r$i.lmdb" "$tmp/four"
	want_rc 0 "scan of shard $i against the DNS stub"
	cp "$tmp/r$i.lmdb" "$tmp/r$i-v1.lmdb"
	"$to_v1" "$tmp/r$i-v1.lmdb" || bad "ds_store_v1 r$i"
done
kill "$stub_pid" 2>/dev/null
for d in a b c d; do
	if "$bin" show --db "$tmp/r0.lmdb" $d.test >/dev/null 2>&1; then
		run "$bin" show --db "$tmp/r0-v1.lmdb" $d.test
		want_rc 0 "show $d.test on an old store"
		if grep -q "no-policy" "$tmp/out"; then ok; else bad "show $d.test on an old store: no verdict"; fi
		shown=$d
	fi
done
[ -n "${shown:-}" ] && ok || bad "no domain in shard 0 of four"
run "$bin" report --db "$tmp/r0-v1.lmdb" --format json
want_rc 0 "report on an old store"
"$bin" report --db "$tmp/r0.lmdb" --format json >"$tmp/report-v2" 2>/dev/null
if diff <(grep -v '"generated"' "$tmp/out") <(grep -v '"generated"' "$tmp/report-v2") >/dev/null; then ok; else bad "report of an old store differs from the same store in version 2"; fi
run "$bin" export --db "$tmp/r1-v1.lmdb" --format csv
want_rc 0 "export on an old store"
run "$bin" merge "$tmp/rm.lmdb" "$tmp/r0-v1.lmdb" "$tmp/r1-v1.lmdb"
want_rc 0 "merge of old stores"
want_err "4 results" "merge of old stores copies every record"
run "$bin" merge "$tmp/rm2.lmdb" "$tmp/r0-v1.lmdb" "$tmp/r1.lmdb"
want_rc 0 "merge of an old and a new shard"
run "$bin" merge "$tmp/rm3.lmdb" "$tmp/r0-v1.lmdb" "$tmp/f1probe.lmdb"
want_rc 1 "merge of an old shard with a new one of other options"
run "$bin" report --db "$tmp/rm.lmdb"
want_rc 0 "report of the merge of old stores"
if grep -qE "domains scanned +4" "$tmp/out"; then ok; else bad "merged old stores: not 4 domains"; sed 's/^/  | /' "$tmp/out" | head -8; fi

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
