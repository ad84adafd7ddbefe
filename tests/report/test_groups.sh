#!/usr/bin/env bash
# A registry's per-registrar workflow: scan the catalog world, whose truth
# gives every domain a group (groups.csv: registrars, a reseller with a
# comma, a UTF-8 label, and domains left out), then check against that
# truth, with groups_check.py:
#   - `report --groups --format json`: the "By group" table;
#   - `report --groups` in text and HTML: the table is there;
#   - `export --registry DIR --by-group --groups`: one folder per group with
#     exactly the group's broken domains of the plain registry export;
#   - a bad groups file: exit 2, the line named, nothing written.
#
# Usage: test_groups.sh PATH/TO/stsmap
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
check_py=$here/groups_check.py

world_need_tools
lib_tmpdir groups
w=$tmp/w
db=$tmp/store.lmdb

world_serve "$w"
rc=0
# shellcheck disable=SC2046
"$stsmap" scan --db "$db" --quiet --qps 180 --https-timeout 5000 \
	$(world_scan_opts "$w") "$w/domains.txt" >"$tmp/scan.log" 2>&1 || rc=$?
check "scan of the catalog world exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$tmp/scan.log"
world_stop

check "the world wrote groups.csv with its header" \
	eval 'head -1 "$w/groups.csv" | grep -qx "domain,group"'
rc=0
"$stsmap" report --db "$db" --groups "$w/groups.csv" --format json \
	-o "$tmp/report.json" || rc=$?
check "report --groups --format json exits 0" [ "$rc" -eq 0 ]
check "By group = ground truth" \
	python3 "$check_py" report "$tmp/report.json" "$w/truth.jsonl"
"$stsmap" report --db "$db" --groups "$w/groups.csv" >"$tmp/report.txt"
check "text report has the By group table" \
	eval 'grep -q "^By group" "$tmp/report.txt" && grep -q "Reseller, Inc." "$tmp/report.txt"'
"$stsmap" report --db "$db" >"$tmp/plain.txt"
check "without --groups there is no By group table" \
	eval '! grep -q "^By group" "$tmp/plain.txt"'
"$stsmap" report --db "$db" --groups "$w/groups.csv" --format html \
	-o "$tmp/report.html"
check "HTML report has the By group table" \
	grep -q "<h2>By group</h2>" "$tmp/report.html"

"$stsmap" export --db "$db" --registry "$tmp/plain" 2>/dev/null
rc=0
"$stsmap" export --db "$db" --registry "$tmp/by" --by-group \
	--groups "$w/groups.csv" 2>"$tmp/export.log" || rc=$?
check "export --by-group exits 0" [ "$rc" -eq 0 ]
check "export --by-group = the registry export split by the truth's groups" \
	python3 "$check_py" export "$tmp/by" "$tmp/plain/registry.csv" \
	"$w/truth.jsonl"
check "no registry.csv at the top with --by-group" \
	[ ! -e "$tmp/by/registry.csv" ]

printf 'domain,group\nok.test,A\nbroken\nok.test,B\n' >"$tmp/bad.csv"
rc=0
"$stsmap" report --db "$db" --groups "$tmp/bad.csv" -o "$tmp/bad.txt" \
	2>"$tmp/bad.log" || rc=$?
check "bad groups file: exit 2" [ "$rc" -eq 2 ]
check "bad groups file: each bad line named" \
	eval 'grep -q "bad.csv:3: no group" "$tmp/bad.log" && grep -q "bad.csv:4: ok.test is already in group \"A\"" "$tmp/bad.log"'
check "bad groups file: no report written" [ ! -e "$tmp/bad.txt" ]
rc=0
"$stsmap" export --db "$db" --registry "$tmp/x" --by-group 2>/dev/null ||
	rc=$?
check "--by-group without --groups: exit 2" [ "$rc" -eq 2 ]
finish
