#!/usr/bin/env bash
# The upstream resolver is ours, not the domain's (DESIGN §4): a dead,
# refusing, non-recursive or dying upstream must never turn into findings.
# On the served catalog world:
#   1. a --resolver where nothing listens: refused before any domain is
#      scanned, exit 1, nothing stored;
#   2. NSD (authoritative, does not recurse) without --upstream-authoritative:
#      refused; with it: every verdict equals the truth, and the domain
#      delegated below NSD (sts-lame-delegation) is undetermined with a
#      finding that names the referral (RFC 1034 §4.3.1), not no-policy;
#   3. the upstream stops answering mid-scan (a relay in front of Unbound,
#      SIGSTOPped) and comes back within --upstream-wait: the scan pauses,
#      resumes by itself, exit 0, every verdict equals the truth;
#   4. it stays silent: the scan stops, exit 3, saying how many domains
#      were left unmeasured; what was stored equals the truth (no domain
#      stored undetermined because of the upstream); once the upstream is
#      back, the same command resumes and completes, equal to the truth.
#
# Usage: test_upstream.sh PATH/TO/stsmap      Exit 77 when servers are missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
need_binary stsmap stsmap "${1:-}"
world_need_tools
lib_tmpdir upstream
w=$tmp/w
world_serve "$w"
read -r -a opts <<<"$(world_scan_opts "$w")"
ndom=$(wc -l <"$w/domains.txt")
common=(--allow-private --ca-file "$w/tls/ca.pem" --https-port "$https_port"
	--https-timeout 4000 --quiet)

# stored DB: how many records the store holds (all scans).
stored() {
	"$stsmap" export --db "$1" 2>/dev/null | wc -l
}

# 1. Nothing listens at the resolver.
rc=0
t0=$SECONDS
"$stsmap" scan --db "$tmp/dead.lmdb" --resolver 127.0.0.1:9 \
	--dns-timeout 200 --dns-retries 1 "${common[@]}" "$w/domains.txt" \
	2>"$tmp/dead.log" || rc=$?
check "dead resolver: exit 1 ($rc)" [ "$rc" -eq 1 ]
check "dead resolver: the message says it does not answer" \
	grep -q 'UPSTREAM UNUSABLE: 127.0.0.1:9 does not answer DNS' "$tmp/dead.log"
check "dead resolver: refused within seconds ($((SECONDS - t0)) s)" \
	[ $((SECONDS - t0)) -lt 10 ]
check "dead resolver: no domain stored" [ "$(stored "$tmp/dead.lmdb")" -eq 0 ]

# 2. NSD, which does not recurse.
rc=0
"$stsmap" scan --db "$tmp/nsd.lmdb" --resolver "127.1.0.1:$dns_port" \
	"${common[@]}" "$w/domains.txt" 2>"$tmp/nsd.log" || rc=$?
check "non-recursive upstream without the option: exit 1 ($rc)" [ "$rc" -eq 1 ]
check "non-recursive upstream: the message says it does not recurse" \
	grep -q "does not recurse.*--upstream-authoritative" "$tmp/nsd.log"
check "non-recursive upstream: no domain stored" \
	[ "$(stored "$tmp/nsd.lmdb")" -eq 0 ]
rc=0
"$stsmap" scan --db "$tmp/auth.lmdb" --resolver "127.1.0.1:$dns_port" \
	--upstream-authoritative "${common[@]}" "$w/domains.txt" \
	2>"$tmp/auth.log" || rc=$?
check "with --upstream-authoritative: exit 0 ($rc)" [ "$rc" -eq 0 ]
"$stsmap" export --db "$tmp/auth.lmdb" >"$tmp/auth.jsonl"
check "with --upstream-authoritative: every verdict equals the truth" \
	python3 "$here/compare_truth.py" "$w/truth.jsonl" "$tmp/auth.jsonl"
check "a domain delegated below NSD: undetermined, the referral named" \
	python3 -c "
import json, sys
r = [json.loads(l) for l in open('$tmp/auth.jsonl')]
r = {x['domain']: x for x in r}['sts-lame-delegation.test']
assert r['verdict'] == 'undetermined', r['verdict']
d = [f['detail'] for f in r['findings'] if f['code'] == 'sts-record.dns-failure']
assert d and 'referral to sts-lame-delegation.test' in d[0], d
"

# 3 and 4: a relay in front of Unbound that the test can silence.
relay_port=$((dns_port + 99))
start_relay() {
	spawn python3 "$here/dns_relay.py" 127.0.0.1 "$relay_port" 127.1.0.2 \
		"$dns_port" >"$tmp/relay.out" 2>&1
	relay_pid=$spawned
	wait_up "$relay_pid" 5 grep -q ready "$tmp/relay.out" ||
		die "the relay did not start: $(cat "$tmp/relay.out")"
}
stop_relay() { stop_pid "$relay_pid"; }
slow=(--resolver "127.0.0.1:$relay_port" --qps 30 --inflight 8 --dns-timeout 500
	--dns-retries 1 "${common[@]}")

# 3. Silent for a while, then back.
start_relay
rc=0
"$stsmap" scan --db "$tmp/blip.lmdb" "${slow[@]}" --upstream-wait 60 \
	--log info "$w/domains.txt" 2>"$tmp/blip.log" &
scan_pid=$!
sleep 3
kill -STOP "$relay_pid"
sleep 5
kill -CONT "$relay_pid"
wait "$scan_pid" || rc=$?
check "upstream silent for 5 s: the scan finishes, exit 0 ($rc)" [ "$rc" -eq 0 ]
check "upstream silent: the scan said it paused" \
	grep -q 'looks down or overloaded' "$tmp/blip.log"
check "upstream back: the scan said it resumed" \
	grep -q 'answers again' "$tmp/blip.log"
"$stsmap" export --db "$tmp/blip.lmdb" >"$tmp/blip.jsonl"
check "after the pause: every verdict equals the truth ($ndom domains)" \
	python3 "$here/compare_truth.py" "$w/truth.jsonl" "$tmp/blip.jsonl"
stop_relay

# 4. Silent for good: the scan stops; later it resumes.
start_relay
rc=0
"$stsmap" scan --db "$tmp/down.lmdb" "${slow[@]}" --upstream-wait 3 \
	"$w/domains.txt" 2>"$tmp/down.log" &
scan_pid=$!
sleep 3
kill -STOP "$relay_pid"
wait "$scan_pid" || rc=$?
check "upstream dead mid-scan: exit 3 ($rc)" [ "$rc" -eq 3 ]
check "upstream dead mid-scan: the message names it and what was left" \
	grep -q "UPSTREAM DOWN: the upstream 127.0.0.1:$relay_port has not answered .* domains in flight or waiting for a retry were not measured" \
	"$tmp/down.log"
"$stsmap" export --db "$tmp/down.lmdb" >"$tmp/down.jsonl"
n_down=$(wc -l <"$tmp/down.jsonl")
check "upstream dead mid-scan: some but not all domains stored ($n_down of $ndom)" \
	[ "$n_down" -gt 0 ] && [ "$n_down" -lt "$ndom" ]
check "upstream dead mid-scan: what was stored equals the truth" \
	python3 "$here/compare_truth.py" --subset "$w/truth.jsonl" "$tmp/down.jsonl"
kill -CONT "$relay_pid"
rc=0
"$stsmap" scan --db "$tmp/down.lmdb" "${slow[@]}" --upstream-wait 3 \
	"$w/domains.txt" 2>"$tmp/down2.log" || rc=$?
check "upstream back: the same command resumes and finishes, exit 0 ($rc)" \
	[ "$rc" -eq 0 ]
check "upstream back: it resumed scan 1" grep -q 'resuming scan 1' "$tmp/down2.log"
"$stsmap" export --db "$tmp/down.lmdb" >"$tmp/down2.jsonl"
check "after the resume: every verdict equals the truth ($ndom domains)" \
	python3 "$here/compare_truth.py" "$w/truth.jsonl" "$tmp/down2.jsonl"
stop_relay

finish
