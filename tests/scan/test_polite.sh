#!/usr/bin/env bash
# Politeness per destination address (DESIGN §8, issue 15 §5), seen from
# the servers: a bulk world with --behave (thousands of tenant MX names
# share 127.6.0.1-4 behind one wildcard certificate, Postfix anvil limits
# 10 at once / 50 per 10 s; tenant policy hosts share 127.6.1.1-2 behind
# nginx limit_req 20 r/s, limit_conn 32) scanned with --probe-mx:
#   1. with the defaults (a probe lent per address where the wildcard
#      covers the name): verdicts equal the truth, nginx logged no
#      rejection, no fetch overlapped more than --https-per-ip (8) others
#      at one address in nginx's own log, nor started faster than the
#      rate allows;
#   2. the tenant domains alone, all at once, with --probe-every-mx
#      (every tenant name probed): Postfix's anvil
#      saw at most --smtp-per-ip (2) connections at once from us at any
#      tenant address and no limit was exceeded; verdicts equal the truth;
#      with --https-per-ip 1 nginx never had two of our connections at
#      once at one address;
#   3. the control, the same without caps: nginx has several of our
#      connections at once, so the nginx checks can fail (anvil's maximum
#      is only printed: loopback probes are too short to overlap reliably).
# The world runs in a network namespace of its own, like
# tests/world/test_behave.sh.  Needs root.  Usage: test_polite.sh STSMAP
set -euo pipefail
t_start=$SECONDS

stsmap=${1:?usage: test_polite.sh STSMAP}
stsmap=$(cd "$(dirname "$stsmap")" && pwd -P)/$(basename "$stsmap")
self=$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")

here=$(dirname "$self")
# shellcheck source=../lib/world.sh
. "$here/../lib/world.sh"
world_behave_netns polite "$self" "$stsmap"
world_need_tools
lib_tmpdir polite
chmod 755 "$tmp"
w=$tmp/w
n=${STSMAP_POLITE_DOMAINS:-2000}
world_generate "$w" --behave --domains "$n" --seed 15
# What the servers count, logged: anvil's per-client maxima every second
# (its "statistics:" lines), and per request nginx's server address, the
# connection's age and the time (a connection's life in nginx's log).
echo "anvil_status_update_time = 1s" >>"$w/postfix/main.cf"
sed -i 's|^\taccess_log logs/access.log;|\tlog_format polite "$server_addr $connection $msec $connection_time $status";\n\taccess_log logs/polite.log polite;|' "$w/nginx/nginx.conf"
grep -q 'logs/polite.log' "$w/nginx/nginx.conf" || die "nginx.conf: access_log line not found"
world_up_or_die "$w"
[ -f "$w/run/postfix.pid" ] || die "Postfix did not start: $(cat "$w/run/postfix.skipped" 2>/dev/null)"
read -r -a opts <<<"$(world_scan_opts "$w" auth)"
pflog=$w/run/postfix.log
nglog=$w/nginx/logs
tenants=$(grep -c '^t[0-9]*\.mx\.bigmail\.' "$w/mx-hosts.txt" || true)
echo "# $n domains, $tenants tenant MX names on 4 addresses"
check "the world has many tenant names per address" test "$tenants" -ge 40

cat >"$tmp/overlap.py" <<'PY'
# nginx's polite.log: per server address, the most connections whose
# logged life [msec - connection_time, msec] overlaps, and the most
# connections started in any one second.
import collections, sys
ev = collections.defaultdict(list)
starts = collections.defaultdict(list)
seen = set()
for line in sys.stdin:
    addr, conn, msec, ctime, status = line.split()
    if not addr.startswith("127.6.1."):
        continue
    end = float(msec); start = end - float(ctime)
    ev[addr] += [(end, -1), (start, 1)]
    if conn not in seen:
        seen.add(conn); starts[addr].append(start)
for addr in sorted(ev):
    cur = peak = 0
    for _, d in sorted(ev[addr]):
        cur += d; peak = max(peak, cur)
    s = sorted(starts[addr]); j = 0; per_s = 0
    for i in range(len(s)):
        while s[i] - s[j] >= 1.0:
            j += 1
        per_s = max(per_s, i - j + 1)
    print(addr, len(s), peak, per_s)
PY
anvil_max() { # the most connections at once anvil saw (0 if never > 1)
	sed -n 's/.*statistics: max connection count \([0-9]*\) for (127\.6\.0\.[0-9]*:.*/\1/p' "$pflog" |
		sort -n | tail -1 | grep . || echo 0
}
anvil_rate() {
	sed -n 's/.*statistics: max connection rate \([0-9]*\)\/10s for (127\.6\.0\.[0-9]*:.*/\1/p' "$pflog" |
		sort -n | tail -1 | grep . || echo 0
}
nginx_mark=0
nginx_since() { # nginx's polite.log since the last call, as overlap.py sees it
	local n
	n=$(wc -l <"$nglog/polite.log")
	tail -n +$((nginx_mark + 1)) "$nglog/polite.log" | head -n $((n - nginx_mark)) | python3 "$tmp/overlap.py"
	nginx_mark=$n
}
scan() { # scan NAME INPUT [options...]: scan and export
	local name=$1 input=$2 t0=$SECONDS
	shift 2
	"$stsmap" scan --db "$tmp/$name.lmdb" "${opts[@]}" --quiet --probe-mx \
		--https-timeout 4000 "$@" "$input" 2>"$tmp/$name.log" ||
		{ cat "$tmp/$name.log"; die "scan $name failed"; }
	echo "# scan $name ($*): $((SECONDS - t0)) s"
	"$stsmap" export --db "$tmp/$name.lmdb" >"$tmp/$name.jsonl"
}
settle() { sleep 2; } # anvil's next statistics line, and the log flushed

# 1. The defaults.
scan default "$w/domains.txt"
settle
check "default scan: verdicts equal the truth" \
	python3 "$here/compare_truth.py" --probe "$w/truth.jsonl" "$tmp/default.jsonl"
check "default scan: nginx refused nothing (limit_req, limit_conn)" \
	sh -c "! grep -q 'limiting' '$nglog/error.log'"
nginx_since >"$tmp/overlap.out"
sed 's/^/# nginx: address, connections, most at once, most started in 1 s: /' "$tmp/overlap.out"
check "nginx logged fetches at both provider addresses" test "$(wc -l <"$tmp/overlap.out")" -eq 2
check "nginx: at most 8 (--https-per-ip) connections at once per address" \
	awk '$3 > 8 { bad = 1 } END { exit bad }' "$tmp/overlap.out"
check "nginx: at most 10 + 8 (rate + burst) connections started in 1 s per address" \
	awk '$4 > 18 { bad = 1 } END { exit bad }' "$tmp/overlap.out"
echo "# anvil after the default scan: most at once $(anvil_max), most per 10 s $(anvil_rate)"
check "default scan: anvil saw at most 2 (--smtp-per-ip) at once" test "$(anvil_max)" -le 2
check "default scan: no Postfix limit exceeded" sh -c "! grep -q 'limit exceeded' '$pflog'"

# The tenant domains (an MX at the provider), for the runs below: all of
# them at once, so without the caps their probes would pile up at the
# four addresses.
python3 - "$tmp/default.jsonl" >"$tmp/tenants.txt" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if any(".mx.bigmail." in m["host"] for m in r.get("mx") or []):
        print(r["domain"])
PY
check "the tenant domains found in the export" test "$(wc -l <"$tmp/tenants.txt")" -ge 40

# 2. Every tenant name probed, under the caps.  anvil's rate window is
# 10 s (up to 11, see below): wait it out so scan 1's connections are not
# counted here.
sleep 11
scan every "$tmp/tenants.txt" --probe-every-mx --https-per-ip 1
settle
nginx_since >"$tmp/overlap1.out"
sed 's/^/# nginx, --https-per-ip 1: address, connections, most at once, most started in 1 s: /' "$tmp/overlap1.out"
check "--https-per-ip 1: nginx logged fetches" test "$(wc -l <"$tmp/overlap1.out")" -eq 2
check "--https-per-ip 1: never 2 connections at once at an address" \
	awk '$3 > 1 { bad = 1 } END { exit bad }' "$tmp/overlap1.out"
check "every name probed: verdicts equal the truth" \
	python3 "$here/compare_truth.py" --probe --subset "$w/truth.jsonl" "$tmp/every.jsonl"
echo "# anvil after probing every name: most at once $(anvil_max), most per 10 s $(anvil_rate)"
check "every name probed: anvil saw at most 2 (--smtp-per-ip) at once" test "$(anvil_max)" -le 2
# anvil counts in whole seconds and restarts its count only once more
# than 10 s have passed (start + unit < now): a window up to 11 s long,
# in which 2 tokens and 2/s allow 2 + 22.
check "every name probed: at most 2/s + 2 per address (anvil: 24 per its 10 s)" test "$(anvil_rate)" -le 24
check "every name probed: no Postfix limit exceeded" sh -c "! grep -q 'limit exceeded' '$pflog'"

# 3. The control: no caps, every name probed: anvil sees the excess.
sleep 11
scan nocap "$tmp/tenants.txt" --probe-every-mx --smtp-per-ip 0 --smtp-per-ip-rate 0 --https-per-ip 0 --https-per-ip-rate 0
settle
echo "# anvil without caps: most at once $(anvil_max), most per 10 s $(anvil_rate)"
nginx_since >"$tmp/overlap0.out"
sed 's/^/# nginx without caps: address, connections, most at once, most started in 1 s: /' "$tmp/overlap0.out"
check "control (no caps): nginx had several of our connections at once" \
	awk '$3 > 1 { ok = 1 } END { exit !ok }' "$tmp/overlap0.out"
# Not a check: loopback probes end in milliseconds, so without caps anvil
# saw 3 at once in one run and 2 in another.  The SMTP control that holds
# is test_sc_polite's (a peer that greets late: 8 at once without a cap).

world_stop
echo "# test_polite: $((SECONDS - t_start)) s"
finish
