#!/usr/bin/env bash
# The scanner's inputs from the command line: opt-out lists refused line by
# line, inputs checked before a scan exists, refused lines listed, a gzip
# input cut short named.  Scans ask tests/cli/dns_stub.py (NXDOMAIN for
# every name, loopback only), so no world is needed.
# Usage: test_input_cli.sh PATH/TO/stsmap
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary bin stsmap "${1:-}"
need_tools python3:python3 dig:dnsutils
lib_tmpdir input-cli
stub=127.0.9.54
port=${STSMAP_TEST_STUB_PORT2:-5393}
spawn python3 "$here/dns_stub.py" "$stub" "$port" 120
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
want_rc() { if [ "$rc" -eq "$1" ]; then ok; else bad "exit $rc, want $1: $(cat "$tmp/err")"; fi; }
want_err() { if grep -qF -- "$1" "$tmp/err"; then ok; else bad "stderr lacks '$1': $(cat "$tmp/err")"; fi; }
no_store() { if [ ! -e "$1" ]; then ok; else bad "$1 was created"; fi; }
scan() { run "$bin" scan --resolver "$stub:$port" --quiet "$@"; }
wait_dns "$stub" "$port" || die "the stub DNS server on $stub:$port did not start"

# --- opt-out lists: a line that is not an entry refuses the scan, named
# FILE:LINE, before any store exists ---
printf 'keep.example\n' >"$tmp/in.txt"
i=0
for line in 'example .org' 'a.example b.example' 'bad..name' '-x.example'; do
	i=$((i + 1))
	printf '# opt-outs\nok.example  # asked 2026-11-02\n%s\n' "$line" >"$tmp/ex$i"
	scan --db "$tmp/ex$i.lmdb" --exclude "$tmp/ex$i" "$tmp/in.txt"
	want_rc 2
	want_err "--exclude $tmp/ex$i:3:"
	no_store "$tmp/ex$i.lmdb"
done
scan --db "$tmp/exm.lmdb" --exclude "$tmp/no-such-list" "$tmp/in.txt"
want_rc 2; want_err "--exclude $tmp/no-such-list: "; no_store "$tmp/exm.lmdb"
# The promise kept: inline comments, a bare TLD and "*." entries exclude
# what they say, and only that.
cat >"$tmp/optout" <<'LIST'
# registry opt-outs
asked.example   # asked on 2026-11-02
test            # a whole TLD
*.wild.example
LIST
printf 'asked.example\nwww.asked.example\na.test\nb.test\nwild.example\nx.wild.example\nkept.example\n' >"$tmp/many.txt"
scan --db "$tmp/ex.lmdb" --exclude "$tmp/optout" "$tmp/many.txt"
want_rc 0
want_err "5 excluded"
run "$bin" export --db "$tmp/ex.lmdb"
got=$(sed 's/^{"domain":"\([^"]*\)".*/\1/' "$tmp/out" | sort | tr '\n' ' ')
if [ "$got" = "kept.example wild.example " ]; then ok; else bad "scanned: $got"; fi

# --- inputs checked before a scan exists ---
mkdir "$tmp/dir"
printf '\037\213not deflate data' >"$tmp/corrupt.gz"
printf 'a.test\n' | gzip >"$tmp/whole.gz"
head -c 20 "$tmp/whole.gz" >"$tmp/short.gz"
for c in "no-such-file:No such file or directory" "dir:is a directory" \
	 "corrupt.gz:not gzip data" "short.gz:unexpected end of gzip data"; do
	f=$tmp/${c%%:*}
	scan --db "$tmp/chk.lmdb" "$tmp/in.txt" "$f"
	want_rc 2
	want_err "stsmap scan: $f: ${c#*:}"
	no_store "$tmp/chk.lmdb"
done

# --- a gzip input cut short past its first 64 KiB: the scan stops
# non-zero and says where ---
seq 1 100000 | sed 's/^/d/; s/$/.test/' | gzip >"$tmp/big.gz"
head -c 100000 "$tmp/big.gz" >"$tmp/cut.gz"
scan --db "$tmp/cut.lmdb" "$tmp/cut.gz"
if [ "$rc" -ne 0 ]; then ok; else bad "a cut gzip input exited 0"; fi
if grep -qE "stsmap scan: $tmp/cut.gz: unexpected end of gzip data after line [0-9]+" "$tmp/err"; then ok; else
	bad "no named gzip error: $(cat "$tmp/err")"; fi

# --- refused lines can be listed ---
printf 'a.test\nbad..name\n192.0.2.1\nxn--zz.test\n"x",y\nb.test\n' >"$tmp/mixed.txt"
scan --db "$tmp/m.lmdb" "$tmp/mixed.txt"
want_rc 0
run "$bin" show --db "$tmp/m.lmdb" --input-errors
want_rc 0
cat >"$tmp/want" <<'WANT'
input 0 line 2: empty label: "bad..name"
input 0 line 3: an IP address, not a domain name: "192.0.2.1"
input 0 line 4: IDNA: invalid A-label: "xn--zz.test"
input 0 line 5: invalid character: "\"x\",y"
WANT
if diff -u "$tmp/want" "$tmp/out"; then ok; else bad "input errors listed wrong"; fi
run "$bin" show --db "$tmp/m.lmdb" --input-errors --json
if python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert [r["line"] for r in rows]==[2,3,4,5], rows
assert rows[1]["why"]=="an IP address, not a domain name"' "$tmp/out"; then ok; else bad "JSON input errors"; fi

# --- a ranked CSV as top lists publish it ---
printf '"rank","domain","note"\n1,"q.test",x\n"2","R.TEST"\n3,s.test,extra,more\n' >"$tmp/top.csv"
scan --db "$tmp/top.lmdb" "$tmp/top.csv"
want_rc 0
run "$bin" export --db "$tmp/top.lmdb" --format csv
for d in "q.test,1" "r.test,2" "s.test,3"; do
	if grep -q "^${d%,*},${d#*,}," "$tmp/out"; then ok; else bad "csv: no $d in $(cat "$tmp/out")"; fi
done

finish
