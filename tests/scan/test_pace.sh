#!/usr/bin/env bash
# Adaptive DNS pacing and the retry pass against a deliberately capped
# recursor (issue: scanning the emulated internet, sections 3 and 4).
#
# A bulk world is served; in front of its NSD runs a second Unbound made
# like the world's (the same stubs, the same trust anchor) but capped: one
# thread and only $slots queries in progress at a time (num-queries-per-
# thread), so a scan's burst of questions overflows it and it drops the
# rest - what an overloaded recursor does.  Restarted, cold, before each
# scan.  Three scans of the same world through it:
#   A  --no-dns-pace --retry-passes 0   the old behaviour
#   B  pacing, --retry-passes 0         pacing alone
#   C  pacing and the default retry pass
# C must agree with the world's truth for at least 99.9% of the domains
# (the verdict), and leave fewer undetermined than A.  The counts are
# printed for the record.
#
# Usage: test_pace.sh PATH/TO/stsmap      Exit 77 when servers are missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
world_need_tools
lib_tmpdir pace
w=$tmp/w
ndom=${STSMAP_PACE_DOMAINS:-2000}
slots=${STSMAP_PACE_SLOTS:-8}
world_serve "$w" --domains "$ndom"
capped_port=$((dns_port + 98))

# The world's Unbound configuration, capped, on 127.0.0.1:$capped_port.
sed -e "s|^\(\s*interface:\).*|\1 127.0.0.1@$capped_port|" \
	-e "s|^\(\s*port:\).*|\1 $capped_port|" \
	-e "s|^\(\s*pidfile:\).*|\1 \"$tmp/capped.pid\"|" \
	-e "s|^\(\s*logfile:\).*|\1 \"$tmp/capped.log\"|" \
	-e "s|^\(\s*num-queries-per-thread:\).*|\1 $slots|" \
	"$w/run/unbound.conf" >"$tmp/capped.conf"
grep -q "num-queries-per-thread: $slots" "$tmp/capped.conf" ||
	die "could not cap the Unbound configuration"
capped_pid=
start_capped() {
	spawn unbound -d -c "$tmp/capped.conf"
	capped_pid=$spawned
	wait_up "$capped_pid" 10 dig +time=1 +tries=1 -p "$capped_port" \
		@127.0.0.1 . NS >/dev/null ||
		die "the capped Unbound did not start: $(tail -3 "$tmp/capped.log")"
}
stop_capped() {
	[ -n "$capped_pid" ] && stop_pid "$capped_pid"
	capped_pid=
}
PATH=$PATH:/usr/sbin:/sbin

common=(--resolver "127.0.0.1:$capped_port" --allow-private
	--ca-file "$w/tls/ca.pem" --https-port "$https_port"
	--smtp-port "$smtp_port" --quiet --retry-backoff 2)

# agree TRUTH EXPORT: "N_AGREE N_UNDETERMINED N_STORED" (verdicts).
agree() {
	python3 - "$1" "$2" <<'PY'
import json, sys
truth = {}
for line in open(sys.argv[1]):
    t = json.loads(line)
    truth[t["domain"]] = t["verdict"]
got = [json.loads(l) for l in open(sys.argv[2])]
same = sum(1 for r in got if truth.get(r["domain"]) == r["verdict"])
und = sum(1 for r in got if r["verdict"] == "undetermined")
print(same, und, len(got))
PY
}

# scan NAME OPTS...: one scan through a freshly started capped Unbound;
# sets agree_NAME, und_NAME, stored_NAME, secs_NAME.
scan() {
	local name=$1 rc=0 t0=$SECONDS
	shift
	start_capped
	"$stsmap" scan --db "$tmp/$name.lmdb" "${common[@]}" "$@" \
		"$w/domains.txt" 2>"$tmp/$name.log" || rc=$?
	stop_capped
	"$stsmap" export --db "$tmp/$name.lmdb" >"$tmp/$name.jsonl"
	read -r a u s < <(agree "$w/truth.jsonl" "$tmp/$name.jsonl")
	printf -v "agree_$name" %s "$a"
	printf -v "und_$name" %s "$u"
	printf -v "stored_$name" %s "$s"
	printf -v "secs_$name" %s "$((SECONDS - t0))"
	printf -v "rc_$name" %s "$rc"
	echo "# $name: exit $rc, $s of $ndom stored, $a equal to the truth," \
		"$u undetermined, $((SECONDS - t0)) s;" \
		"$(grep -h 'dns pacing' "$tmp/$name.log" | sed 's/^ *//')"
}

# A runs until the upstream monitor gives up on the overloaded recursor;
# a short --upstream-wait ends it sooner (its default, 60 s, is a survey's).
scan A --no-dns-pace --retry-passes 0 --upstream-wait 10
scan B --retry-passes 0
scan C

check "C (pacing, retry pass): exit 0 ($rc_C)" [ "$rc_C" -eq 0 ]
check "C: every domain stored once ($stored_C of $ndom)" \
	[ "$stored_C" -eq "$ndom" ]
check "C: at least 99.9% of the verdicts equal the truth ($agree_C of $ndom)" \
	[ $((agree_C * 1000)) -ge $((ndom * 999)) ]
check "C: fewer undetermined than without pacing ($und_C < $und_A, or none)" \
	[ "$und_C" -lt "$und_A" ] || [ "$und_C" -eq 0 ]
check "B: pacing backed off (the summary counts backoffs)" \
	grep -Eq 'dns pacing: window [0-9]+ now, [0-9]+ at the lowest, [1-9][0-9]* backoffs' \
	"$tmp/B.log"
check "A: no pacing, no backoff" \
	grep -q ' 0 backoffs' "$tmp/A.log"
echo "# undetermined: without pacing $und_A, with pacing $und_B, with" \
	"pacing and the retry pass $und_C (of $ndom; the world's truth has" \
	"$(grep -c '"verdict": *"undetermined"' "$w/truth.jsonl" || true))"
finish
